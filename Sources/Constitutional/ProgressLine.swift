import Alignment
import Foundation

/// The progress line: `critique 40/100 · 1.3 items/s · ETA 46s · 2 retries · 0 failed`, redrawn at most once a second
/// on stderr (and ended with a newline).
final class ProgressLine: @unchecked Sendable {
    let label: String
    let total: Int
    let alreadyDone: Int
    let enabled: Bool
    let abortThreshold: Int
    private let lock = NSLock()
    private var completedCount = 0, failedCount = 0, retryCount = 0
    private let start = Date()
    private var lastDraw = Date.distantPast

    init(label: String, total: Int, alreadyDone: Int, enabled: Bool, abortThreshold: Int = 5) {
        self.label = label
        self.total = total
        self.alreadyDone = alreadyDone
        self.enabled = enabled && ProgressDisplay.isEnabled
        self.abortThreshold = abortThreshold
    }

    func completed() { lock.withLock { completedCount += 1; draw(force: false) } }
    func retried() { lock.withLock { retryCount += 1; draw(force: false) } }

    /// Counts a failure; true when every item so far failed and the abort threshold is reached.
    func failed() -> Bool {
        lock.withLock {
            failedCount += 1
            draw(force: false)
            return completedCount == 0 && failedCount >= abortThreshold
        }
    }

    func finish() -> (completed: Int, failed: Int, retries: Int) {
        lock.withLock {
            draw(force: true)
            if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
            return (completedCount, failedCount, retryCount)
        }
    }

    private func draw(force: Bool) {
        guard enabled, force || Date().timeIntervalSince(lastDraw) >= 1 else { return }
        lastDraw = Date()
        let elapsed = max(Date().timeIntervalSince(start), 1e-3)
        let rate = Double(completedCount + failedCount) / elapsed
        let remaining = total - alreadyDone - completedCount - failedCount
        let eta = rate > 0 ? Self.duration(Double(remaining) / rate) : "?"
        let line = "\r\(label) \(alreadyDone + completedCount)/\(total) · \(String(format: "%.2f", rate)) items/s · ETA \(eta) · \(retryCount) retries · \(failedCount) failed"
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : (s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s")
    }
}
