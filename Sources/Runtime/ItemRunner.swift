import Foundation

/// Runs per-item work with bounded concurrency over one or more workers (models, endpoints), retrying failures, appending each finished
/// item to an ``ItemLog`` (skipping ids already there) and each item that fails every attempt to a ``FailureLog``.
/// Cancellation (of the task, or a `CancellationError` from the work) stops the run; finished items stay recorded.
/// Progress goes to a ``ProgressLine``, with the tokens each item's generation reports (``TokenProgress``) as `item 4`,
/// numbered by its position in the whole run.
public struct ItemRunner: Sendable {
    public let options: RunOptions
    public let label: String
    /// Makes the run's progress line from (total, already done); tests draw into a buffer with a hand-moved clock.
    var makeLine: @Sendable (_ total: Int, _ startingAt: Int) -> ProgressLine

    public init(options: RunOptions, label: String) {
        self.options = options
        self.label = label
        makeLine = { ProgressLine(label: label, total: $0, startingAt: $1, enabled: options.showProgress) }
    }

    /// Runs `work` on every item whose id is not in `log` yet, item `n` of the pending ones on worker `n % workers.count`.
    /// - Returns: the counts; items that failed every attempt are in `failures`.
    /// - Throws: ``RuntimeError`` when the first items all fail (see ``RunOptions/abortAfterInitialFailures``), a
    ///   failed write of `log` or `failures`, or `CancellationError`.
    public func run<Item: Sendable, Worker: Sendable, Record: Encodable & Sendable>(
        _ items: [(id: String, item: Item)], workers: [Worker], log: ItemLog, failures: FailureLog,
        work: @escaping @Sendable (Item, Worker) async throws -> Record
    ) async throws -> RunReport {
        precondition(!workers.isEmpty, "ItemRunner needs at least one worker")
        let done = log.completedIDs
        let pending = items.enumerated().filter { !done.contains($0.element.id) }
            .map { (number: $0.offset + 1, id: $0.element.id, item: $0.element.item) }
        let line = makeLine(items.count, items.count - pending.count)
        let progress = ItemTally(line: line, alreadyDone: items.count - pending.count,
                                 abortThreshold: min(options.abortAfterInitialFailures, max(1, pending.count)))
        let options = self.options
        let start = Date()
        // Between updates, the line is redrawn once a second when due: a long item still gets a log line every interval.
        let ticker = Task {
            while !Task.isCancelled && options.showProgress {
                try? await Task.sleep(nanoseconds: 1_000_000_000)
                line.refresh()
            }
        }
        defer { ticker.cancel() }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                var next = 0
                func addTask() {
                    guard next < pending.count else { return }
                    let (number, id, item) = pending[next]
                    let worker = workers[next % workers.count]
                    next += 1
                    group.addTask {
                        var attempt = 0
                        while true {
                            try Task.checkCancellation()
                            attempt += 1
                            let record: Record
                            do {
                                record = try await line.generating("item \(number)") { try await work(item, worker) }
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
                                    throw RuntimeError("\(label): the first \(progress.abortThreshold) items all failed, so the run stopped; the last error was: \(error) (every failure is in \(failures.url.path))")
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

