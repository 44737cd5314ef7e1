import Foundation
import LanguageModels

/// How a generation or labelling run uses its models.
public struct RunOptions: Codable, Equatable, Sendable {
    /// Items in flight at once (spread round-robin over the models).
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

/// What a run did.
public struct RunReport: Codable, Equatable, Sendable {
    public var total: Int
    /// Found finished in the output when the run started (a resume).
    public var alreadyDone: Int
    public var completed: Int
    public var failed: Int
    public var retries: Int
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case total, alreadyDone = "already_done", completed, failed, retries, seconds
    }

    /// "12 done (3 already), 1 failed, 2 retries, 4.1 s".
    public var summary: String {
        "\(completed + alreadyDone)/\(total) done (\(alreadyDone) from an earlier run), \(failed) failed, \(retries) retries, \(String(format: "%.1f", seconds)) s"
    }
}

/// Runs per-item work with bounded concurrency over one or more models, retrying failures, appending each finished
/// item to an ``ItemLog`` (skipping ids already there) and each item that fails every attempt to a ``FailureLog``.
/// Cancellation (of the task, or a `CancellationError` from the work) stops the run; finished items stay recorded.
public struct ItemRunner: Sendable {
    public let options: RunOptions
    public let label: String

    public init(options: RunOptions, label: String) {
        self.options = options
        self.label = label
    }

    public func run<Item: Sendable, Record: Encodable & Sendable>(
        _ items: [(id: String, item: Item)], models: [any LanguageModel], log: ItemLog, failures: FailureLog,
        work: @escaping @Sendable (Item, any LanguageModel) async throws -> Record
    ) async throws -> RunReport {
        precondition(!models.isEmpty, "ItemRunner needs at least one model")
        let done = log.completedIDs
        let pending = items.filter { !done.contains($0.id) }
        let progress = ProgressLine(label: label, total: items.count, alreadyDone: items.count - pending.count, enabled: options.showProgress,
                                    abortThreshold: min(options.abortAfterInitialFailures, max(1, pending.count)))
        let options = self.options
        let start = Date()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                var next = 0
                func addTask() {
                    guard next < pending.count else { return }
                    let (id, item) = pending[next]
                    let model = models[next % models.count]
                    next += 1
                    group.addTask {
                        var attempt = 0
                        while true {
                            try Task.checkCancellation()
                            attempt += 1
                            let record: Record
                            do {
                                record = try await work(item, model)
                            } catch is CancellationError {
                                throw CancellationError()
                            } catch {
                                if attempt <= options.retries {
                                    progress.retried()
                                    let delay = options.retryDelay * pow(2, Double(attempt - 1))
                                    if delay > 0 { try await Task.sleep(nanoseconds: UInt64(delay * 1e9)) }
                                    continue
                                }
                                try failures.record(id: id, error: error, attempts: attempt)
                                if progress.failed() {
                                    throw ConstitutionalError("\(label): the first \(progress.abortThreshold) items all failed, so the run stopped; the last error was: \(error) (every failure is in \(failures.url.path))")
                                }
                                return
                            }
                            // Not retried: a failed write (disk full, permissions) stops the run.
                            try log.append(id: id, record)
                            progress.completed()
                            return
                        }
                    }
                }
                for _ in 0..<max(1, options.concurrency) { addTask() }
                while try await group.next() != nil { addTask() }
            }
        } catch {
            _ = progress.finish()
            throw error
        }
        let counts = progress.finish()
        return RunReport(total: items.count, alreadyDone: items.count - pending.count, completed: counts.completed, failed: counts.failed,
                         retries: counts.retries, seconds: Date().timeIntervalSince(start))
    }
}

