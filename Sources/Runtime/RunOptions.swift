import Settings

/// How a job run (``ItemRunner``) uses its workers.
public struct RunOptions: KeyedSettings, Equatable, Sendable {
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

    public init() {}

    public init(concurrency: Int = 4, retries: Int = 2, retryDelay: Double = 1, showProgress: Bool = true) {
        self.concurrency = concurrency
        self.retries = retries
        self.retryDelay = retryDelay
        self.showProgress = showProgress
    }

    public static var fields: [SettingsField<Self>] {
        [.init("concurrency", \.concurrency, where: .atLeast(1)), .init("retries", \.retries, where: .atLeast(0)),
         .init("retry_delay", \.retryDelay, where: .atLeast(0)),
         .init("abort_after_initial_failures", \.abortAfterInitialFailures, where: .atLeast(1)),
         .init("progress", \.showProgress)]
    }
}
