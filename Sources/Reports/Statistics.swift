import Foundation

/// Summary statistics for experiment results.
public enum Statistics {
    /// The arithmetic mean; 0 for no values.
    public static func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }

    /// Pearson's correlation coefficient r of paired values; nil for fewer than three pairs or a constant variable.
    public static func pearsonCorrelation(_ x: [Double], _ y: [Double]) -> Double? {
        guard x.count == y.count, x.count >= 3 else { return nil }
        let meanX = mean(x), meanY = mean(y)
        var covariance = 0.0, varianceX = 0.0, varianceY = 0.0
        for (a, b) in zip(x, y) {
            covariance += (a - meanX) * (b - meanY)
            varianceX += (a - meanX) * (a - meanX)
            varianceY += (b - meanY) * (b - meanY)
        }
        guard varianceX > 0, varianceY > 0 else { return nil }
        return covariance / (varianceX * varianceY).squareRoot()
    }

    /// The mean and its standard error (sample standard deviation / √n; 0 for fewer than two values).
    public static func meanAndStandardError(_ values: [Double]) -> (mean: Double, standardError: Double) {
        guard !values.isEmpty else { return (0, 0) }
        let average = mean(values)
        guard values.count > 1 else { return (average, 0) }
        let variance = values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(values.count - 1)
        return (average, (variance / Double(values.count)).squareRoot())
    }
}

/// A mean with its 95% confidence interval.
public struct Interval: Codable, Equatable, Sendable {
    public var mean: Double
    public var lower: Double
    public var upper: Double
    /// How many values it summarises.
    public var count: Int

    public init(mean: Double, lower: Double, upper: Double, count: Int) {
        self.mean = mean
        self.lower = lower
        self.upper = upper
        self.count = count
    }

    /// Whether the interval lies entirely above (or below) zero: the usual test for a difference.
    public var excludesZero: Bool { count > 1 && (lower > 0 || upper < 0) }
    /// Whether two intervals do not overlap.
    public func separated(from other: Interval) -> Bool { count > 1 && other.count > 1 && (lower > other.upper || upper < other.lower) }

    /// "mean [lower, upper]" with each number written by `number` ("62.0% [55.1%, 68.9%]"); the mean alone when it
    /// summarises one value.
    public func text(_ number: (Double) -> String) -> String {
        count > 1 ? "\(number(mean)) [\(number(lower)), \(number(upper))]" : number(mean)
    }
}

extension Statistics {
    /// The two-sided 95% quantile of Student's t with `degrees` degrees of freedom (table for 1…30, then the
    /// normal's 1.96 approached as 1.96 + 2.4/df).
    public static func t95(_ degrees: Int) -> Double {
        let table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                     2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
        guard degrees >= 1 else { return .infinity }
        return degrees <= table.count ? table[degrees - 1] : 1.96 + 2.4 / Double(degrees)
    }

    /// The mean of `values` with its 95% t-interval (mean ± t·SE); one value gives a zero-width interval with count 1.
    public static func interval95(_ values: [Double]) -> Interval {
        let (mean, standardError) = meanAndStandardError(values)
        let half = values.count > 1 ? t95(values.count - 1) * standardError : 0
        return Interval(mean: mean, lower: mean - half, upper: mean + half, count: values.count)
    }

    /// The 2.5th and 97.5th percentiles of bootstrap estimates (linear interpolation), with `point` as the mean.
    public static func percentileInterval95(_ estimates: [Double], point: Double) -> Interval {
        let sorted = estimates.filter(\.isFinite).sorted()
        guard !sorted.isEmpty else { return Interval(mean: point, lower: point, upper: point, count: 0) }
        func quantile(_ q: Double) -> Double {
            let position = q * Double(sorted.count - 1)
            let low = Int(position.rounded(.down)), high = min(sorted.count - 1, low + 1)
            return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
        }
        return Interval(mean: point, lower: quantile(0.025), upper: quantile(0.975), count: sorted.count)
    }

    /// Bradley–Terry strengths from pairwise results: `wins[i][j]` is how often i beat j (a tie counts ½ to each).
    /// Fitted by the minorisation–maximisation iteration (Hunter 2004) with `prior` virtual ties between every
    /// pair, so that a player who never lost keeps a finite strength. Returned as Elo scores (400·log10 strength)
    /// relative to player `anchor`.
    public static func bradleyTerryElo(wins: [[Double]], anchor: Int = 0, prior: Double = 1, iterations: Int = 2000) -> [Double] {
        let n = wins.count
        guard n > 0 else { return [] }
        var w = wins
        for i in 0..<n { for j in 0..<n where i != j { w[i][j] += prior / 2 } }
        var strength = [Double](repeating: 1, count: n)
        for _ in 0..<iterations {
            var next = strength
            var change = 0.0
            for i in 0..<n {
                // Plain loops: this runs inside bootstrap refits, also in debug builds.
                var total = 0.0, denominator = 0.0
                for j in 0..<n where j != i {
                    total += w[i][j]
                    denominator += (w[i][j] + w[j][i]) / (strength[i] + strength[j])
                }
                next[i] = denominator > 0 ? total / denominator : strength[i]
            }
            // Normalised to a geometric mean of 1.
            let logMean = next.reduce(0) { $0 + log($1) } / Double(n)
            for i in 0..<n {
                next[i] /= exp(logMean)
                change = max(change, abs(log(next[i]) - log(strength[i])))
            }
            strength = next
            if change < 1e-10 { break }
        }
        return strength.map { 400 * log10($0 / strength[anchor]) }
    }
}
