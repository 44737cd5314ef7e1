/// Lines skipped under ``DatasetOptions/skipInvalid``: how many, and why (the first few).
public struct SkipReport: Sendable, Equatable {
    /// Number of skipped lines.
    public internal(set) var count = 0
    /// The errors of the first ``DatasetOptions/reportedSkipReasons`` skipped lines.
    public internal(set) var firstReasons: [DatasetError] = []

    /// Creates an empty report.
    public init() {}
}
