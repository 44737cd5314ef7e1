import Foundation

/// The counts of a job run in progress (finished, failed, retried), drawn on a ``ProgressLine`` as they change.
final class ItemTally: @unchecked Sendable {
    let alreadyDone: Int
    /// Failures in a row, with nothing finished yet, that stop the run.
    let abortThreshold: Int
    private let line: ProgressLine
    private let lock = NSLock()
    private var completedCount = 0, failedCount = 0, retryCount = 0

    init(line: ProgressLine, alreadyDone: Int, abortThreshold: Int) {
        self.line = line
        self.alreadyDone = alreadyDone
        self.abortThreshold = abortThreshold
        lock.withLock { show() }
    }

    func completed() { lock.withLock { completedCount += 1; show() } }
    func retried() { lock.withLock { retryCount += 1; show() } }

    /// Counts a failure; true when every item so far failed and the abort threshold is reached.
    func failed() -> Bool {
        lock.withLock {
            failedCount += 1
            show()
            return completedCount == 0 && failedCount >= abortThreshold
        }
    }

    /// Ends the progress line and returns the counts.
    func finish() -> (completed: Int, failed: Int, retries: Int) {
        lock.withLock {
            line.finish()
            return (completedCount, failedCount, retryCount)
        }
    }

    private func show() {
        line.update(alreadyDone + completedCount + failedCount, shown: alreadyDone + completedCount,
                    details: ["\(retryCount) retries", "\(failedCount) failed"])
    }
}
