/// Summary statistics for experiment results.
public enum Statistics {
    /// The arithmetic mean; 0 for no values.
    public static func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }

    /// The mean and its standard error (sample standard deviation / √n; 0 for fewer than two values).
    public static func meanAndStandardError(_ values: [Double]) -> (mean: Double, standardError: Double) {
        guard !values.isEmpty else { return (0, 0) }
        let average = mean(values)
        guard values.count > 1 else { return (average, 0) }
        let variance = values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(values.count - 1)
        return (average, (variance / Double(values.count)).squareRoot())
    }
}
