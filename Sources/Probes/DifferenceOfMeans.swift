/// The difference-of-means direction (Arditi et al. 2024, "Refusal in language models is mediated by a single
/// direction"): d = mean(x | positive) − mean(x | negative) over raw hidden states, normalised; a row's score is its
/// projection d · x, turned into a probability by a one-feature class-balanced logistic fit (Platt scaling).
public enum DifferenceOfMeans {
    /// The unit direction from the negative rows' mean to the positive rows' mean.
    public static func direction(rows: [[Float]], labels: [Bool]) -> [Float] {
        let difference = meanDifference(rows: rows, labels: labels)
        let norm = difference.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return difference.map { Float(norm > 0 ? $0 / norm : 0) }
    }

    /// mean(x | positive) − mean(x | negative), not normalised: Arditi et al. add this vector itself to induce refusal.
    public static func difference(rows: [[Float]], labels: [Bool]) -> [Float] {
        meanDifference(rows: rows, labels: labels).map { Float($0) }
    }

    static func meanDifference(rows: [[Float]], labels: [Bool]) -> [Double] {
        precondition(rows.count == labels.count && !rows.isEmpty, "\(rows.count) rows for \(labels.count) labels")
        let size = rows[0].count
        var positive = [Double](repeating: 0, count: size), negative = positive
        var counts = (positive: 0, negative: 0)
        for (row, label) in zip(rows, labels) {
            if label { counts.positive += 1 } else { counts.negative += 1 }
            for j in 0..<size {
                if label { positive[j] += Double(row[j]) } else { negative[j] += Double(row[j]) }
            }
        }
        return (0..<size).map { positive[$0] / Double(max(1, counts.positive)) - negative[$0] / Double(max(1, counts.negative)) }
    }

    /// The direction with a calibrated score: σ(a · (d · x) + c), a and c fitted on the training rows.
    public static func fit(rows: [[Float]], labels: [Bool]) -> LinearProbe {
        let direction = direction(rows: rows, labels: labels)
        let projections = rows.map { row in [zip(row, direction).reduce(Float(0)) { $0 + $1.0 * $1.1 }] }
        let platt = LogisticRegression(penalty: 1e-4, standardise: true, balanceClasses: true).fit(rows: projections, labels: labels)
        // σ(β (p − μ) / s + b) = σ((β / s) d · x + b − β μ / s): fold into raw-space weights.
        let slope = platt.weight[0] / platt.scale[0]
        return LinearProbe(mean: [Float](repeating: 0, count: direction.count), scale: [Float](repeating: 1, count: direction.count),
                           weight: direction.map { $0 * slope }, bias: platt.bias - slope * platt.mean[0])
    }
}
