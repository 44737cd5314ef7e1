import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Charter's one progress display: `critique 40/100 · 1.30 items/s · ETA 46s · 2 retries · 0 failed` (job runs) or
/// `step 5/100 · 2.00 it/s · ETA 45s · loss 0.1234` (trainers) on stderr. On a terminal the line is redrawn in
/// place behind a bar and ended with a newline when the run is complete or finished; otherwise each drawing is a
/// plain line. Silent when created disabled or while ``ProgressDisplay/isEnabled`` is off. Safe from any thread.
public final class ProgressLine: @unchecked Sendable {
    public let label: String
    public let total: Int
    /// What is counted, for the rate ("items" gives "items/s").
    public let unit: String
    /// Position when the run started (a resume); the rate and ETA count only what this run did.
    public let startPosition: Int
    private let enabled: Bool
    private let interactive: Bool
    private let minimumInterval: TimeInterval
    private let output: @Sendable (String) -> Void
    private let start = Date()
    private let lock = NSLock()
    private var position: Int
    private var shown: Int
    private var details: [String] = []
    private var lastDraw = Date.distantPast
    private var drawnOnce = false, dirty = false, lineOpen = false

    /// - Parameters:
    ///   - startingAt: the position already reached when this run starts.
    ///   - minimumInterval: seconds between drawings (updates in between are only counted); 0 draws every update.
    ///   - interactive: redraw in place; by default, whether stderr is a terminal.
    public convenience init(label: String, total: Int, startingAt: Int = 0, unit: String = "items", enabled: Bool = true,
                            minimumInterval: TimeInterval = 1, interactive: Bool? = nil) {
        self.init(label: label, total: total, startingAt: startingAt, unit: unit, enabled: enabled, minimumInterval: minimumInterval,
                  interactive: interactive ?? (isatty(STDERR_FILENO) != 0)) { FileHandle.standardError.write(Data($0.utf8)) }
    }

    /// - Parameter output: receives everything drawn (stderr, or a test's buffer).
    init(label: String, total: Int, startingAt: Int, unit: String, enabled: Bool, minimumInterval: TimeInterval, interactive: Bool,
         output: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.total = total
        self.unit = unit
        self.startPosition = startingAt
        self.enabled = enabled
        self.minimumInterval = minimumInterval
        self.interactive = interactive
        self.output = output
        position = startingAt
        shown = startingAt
    }

    /// Records that the run reached `position` (units processed, for the rate and ETA), showing `shown` of `total`
    /// (by default `position`; a job run shows finished items only, not failed ones) and `details` after the ETA.
    public func update(_ position: Int, shown: Int? = nil, details: [String] = []) {
        lock.withLock {
            self.position = position
            self.shown = shown ?? position
            self.details = details
            dirty = true
            if Date().timeIntervalSince(lastDraw) >= minimumInterval { draw() }
        }
    }

    /// Draws the latest state if it was not drawn yet and ends the line.
    public func finish() {
        lock.withLock {
            if dirty || !drawnOnce { draw() }
            endLine()
        }
    }

    /// Prints a message on a line of its own (clearing a progress line being redrawn), whether or not progress is shown.
    public func note(_ message: String) {
        lock.withLock {
            output((interactive ? "\r\u{1B}[K" : "") + message + "\n")
            lineOpen = false
        }
    }

    private func draw() {
        guard enabled, ProgressDisplay.isEnabled else { return }
        lastDraw = Date()
        drawnOnce = true
        dirty = false
        let elapsed = max(Date().timeIntervalSince(start), 1e-3)
        let text = Self.text(label: label, shown: shown, total: total, rate: Double(position - startPosition) / elapsed, unit: unit,
                             remaining: total - position, details: details)
        if interactive {
            output("\r\(Self.bar(shown, of: total)) \(text)\u{1B}[K")
            lineOpen = true
            if position >= total { endLine() }
        } else {
            output("\(text)\n")
        }
    }

    private func endLine() {
        guard lineOpen else { return }
        output("\n")
        lineOpen = false
    }

    /// The line's text: label, count, rate, ETA (`?` before any progress), then `details`, separated by ` · `.
    static func text(label: String, shown: Int, total: Int, rate: Double, unit: String, remaining: Int, details: [String]) -> String {
        let eta = rate > 0 ? duration(Double(max(remaining, 0)) / rate) : "?"
        return (["\(label) \(shown)/\(total)", "\(String(format: "%.2f", rate)) \(unit)/s", "ETA \(eta)"] + details).joined(separator: " · ")
    }

    /// A 24-cell bar, `filled` in proportion to `done / total` (full when total is 0).
    static func bar(_ done: Int, of total: Int, width: Int = 24) -> String {
        let filled = total > 0 ? width * min(max(done, 0), total) / total : width
        return String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
    }

    /// A duration the way every progress line shows it: `46s`, `3m5s`, `2h10m` (`?` when not finite).
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "?" }
        let s = Int(min(max(seconds, 0), 1e9).rounded())
        return s >= 3600 ? "\(s / 3600)h\(s % 3600 / 60)m" : (s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s")
    }
}
