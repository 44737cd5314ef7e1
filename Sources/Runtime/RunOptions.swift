/// How a job run (``ItemRunner``) uses its workers.
public struct RunOptions: Codable, Equatable, Sendable {
    /// Items in flight at once (spread round-robin over the workers).
    public var concurrency = 4
    /// Further attempts after an item's first failure.
    public var retries = 2
    /// Seconds before the first retry; doubled for each further one.
    public var retryDelay = 1.0
    /// Abort (besides recording failures) when this many items (or every item, if fewer) fail before any succeeds: a systematic problem
    /// such as a missing chat template, not a flaky item.
    public var abortAfterInitialFailures = 5
    /// Print the progress line (stderr).
    public var showProgress = true

    enum CodingKeys: String, CodingKey {
        case concurrency, retries, retryDelay = "retry_delay", abortAfterInitialFailures = "abort_after_initial_failures"
        case showProgress = "progress"
    }

    public init(concurrency: Int = 4, retries: Int = 2, retryDelay: Double = 1, showProgress: Bool = true) {
        self.concurrency = concurrency
        self.retries = retries
        self.retryDelay = retryDelay
        self.showProgress = showProgress
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        concurrency = try c.decodeIfPresent(Int.self, forKey: .concurrency) ?? concurrency
        retries = try c.decodeIfPresent(Int.self, forKey: .retries) ?? retries
        retryDelay = try c.decodeIfPresent(Double.self, forKey: .retryDelay) ?? retryDelay
        abortAfterInitialFailures = try c.decodeIfPresent(Int.self, forKey: .abortAfterInitialFailures) ?? abortAfterInitialFailures
        showProgress = try c.decodeIfPresent(Bool.self, forKey: .showProgress) ?? showProgress
    }
}
