import Foundation

/// L2-regularised logistic regression with class weights and standardised features, fitted by Newton's method.
///
/// Minimises (1 / Σᵢ cᵢ) Σᵢ cᵢ [log(1 + e^{zᵢ}) − yᵢ zᵢ] + (λ/2) ‖w‖², zᵢ = w · x̃ᵢ + b, where x̃ = (x − μ) / s are the
/// features standardised by the training rows, cᵢ = n / (2 n_{yᵢ}) the balanced class weights (sklearn's
/// `class_weight="balanced"`), and the bias b is not penalised. With balanced weights this is sklearn's
/// `LogisticRegression(C=1/(λ n))` on standardised features.
public struct LogisticRegression: Sendable {
    /// λ, the L2 penalty on the weights.
    public var penalty: Double = 1e-2
    /// Standardise features by the training rows' mean and standard deviation.
    public var standardise = true
    /// Weight the classes to contribute equally.
    public var balanceClasses = true
    public var maximumIterations = 50

    public init(penalty: Double = 1e-2, standardise: Bool = true, balanceClasses: Bool = true) {
        (self.penalty, self.standardise, self.balanceClasses) = (penalty, standardise, balanceClasses)
    }

    /// Fits rows (n, C) with labels; returns the probe.
    public func fit(rows: [[Float]], labels: [Bool]) -> LinearProbe {
        precondition(rows.count == labels.count && !rows.isEmpty, "\(rows.count) rows for \(labels.count) labels")
        let count = rows.count, size = rows[0].count
        var mean = [Float](repeating: 0, count: size), scale = [Float](repeating: 1, count: size)
        if standardise {
            var sum = [Double](repeating: 0, count: size), squares = sum
            for row in rows { for j in 0..<size { sum[j] += Double(row[j]); squares[j] += Double(row[j]) * Double(row[j]) } }
            for j in 0..<size {
                let average = sum[j] / Double(count)
                let deviation = max(0, squares[j] / Double(count) - average * average).squareRoot()
                mean[j] = Float(average)
                scale[j] = deviation > 1e-6 ? Float(deviation) : 1  // constant features stay as they are
            }
        }
        // x̃ with a trailing 1 for the bias: (n, C + 1)
        let features = rows.map { row in (0..<size).map { Double((row[$0] - mean[$0]) / scale[$0]) } + [1] }
        let positives = labels.filter { $0 }.count
        let classWeight: (Bool) -> Double = { label in
            guard balanceClasses, positives > 0, positives < count else { return 1 }
            return Double(count) / (2 * Double(label ? positives : count - positives))
        }
        let weights = labels.map(classWeight), total = weights.reduce(0, +)
        let targets = labels.map { $0 ? 1.0 : 0.0 }
        let dimension = size + 1
        var parameters = [Double](repeating: 0, count: dimension)

        func objective(_ parameters: [Double]) -> Double {
            var loss = 0.0
            for i in 0..<count {
                let z = dot(features[i], parameters)
                loss += weights[i] * (softplus(z) - targets[i] * z)
            }
            return loss / total + penalty / 2 * (0..<size).reduce(0) { $0 + parameters[$1] * parameters[$1] }
        }
        var current = objective(parameters)
        for _ in 0..<maximumIterations {
            var gradient = [Double](repeating: 0, count: dimension)
            var hessian = [Double](repeating: 0, count: dimension * dimension)
            for i in 0..<count {
                let x = features[i], p = LinearProbe.sigmoid(dot(x, parameters))
                let g = weights[i] * (p - targets[i]) / total, h = weights[i] * p * (1 - p) / total
                for a in 0..<dimension {
                    gradient[a] += g * x[a]
                    let hx = h * x[a]
                    for b in 0...a { hessian[a * dimension + b] += hx * x[b] }
                }
            }
            for a in 0..<dimension {
                for b in 0..<a { hessian[b * dimension + a] = hessian[a * dimension + b] }
                hessian[a * dimension + a] += a < size ? penalty : 1e-10
                if a < size { gradient[a] += penalty * parameters[a] }
            }
            let step = Self.solve(hessian, gradient, dimension: dimension)
            // Damped Newton: halve the step until the objective does not increase.
            var fraction = 1.0, next = parameters, value = current
            for _ in 0..<30 {
                next = zip(parameters, step).map { $0 - fraction * $1 }
                value = objective(next)
                if value <= current + 1e-12 { break }
                fraction /= 2
            }
            let change = zip(next, parameters).reduce(0) { max($0, abs($1.0 - $1.1)) }
            parameters = next
            current = value
            if change < 1e-9 { break }
        }
        return LinearProbe(mean: mean, scale: scale, weight: parameters[0..<size].map { Float($0) }, bias: Float(parameters[size]))
    }

    /// Solves H x = g for a symmetric positive-definite H (n×n, row-major) by Cholesky factorisation.
    static func solve(_ matrix: [Double], _ vector: [Double], dimension n: Int) -> [Double] {
        var lower = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var sum = matrix[i * n + j]
                for k in 0..<j { sum -= lower[i * n + k] * lower[j * n + k] }
                lower[i * n + j] = i == j ? max(sum, 1e-12).squareRoot() : sum / lower[j * n + j]
            }
        }
        var y = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var sum = vector[i]
            for k in 0..<i { sum -= lower[i * n + k] * y[k] }
            y[i] = sum / lower[i * n + i]
        }
        var x = [Double](repeating: 0, count: n)
        for i in stride(from: n - 1, through: 0, by: -1) {
            var sum = y[i]
            for k in (i + 1)..<n { sum -= lower[k * n + i] * x[k] }
            x[i] = sum / lower[i * n + i]
        }
        return x
    }
}

private func dot(_ a: [Double], _ b: [Double]) -> Double {
    var sum = 0.0
    for index in 0..<a.count { sum += a[index] * b[index] }
    return sum
}

private func softplus(_ z: Double) -> Double { z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)) }
