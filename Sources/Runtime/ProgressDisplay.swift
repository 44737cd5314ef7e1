import Foundation

/// Whether trainers and job runs draw progress (step counters, item counters) on stderr. Commands with a
/// `--quiet` flag turn it off for the whole process; metrics files and notes are written either way.
/// Reading and setting it is safe from any thread.
public enum ProgressDisplay {
    private final class Switch: @unchecked Sendable {
        let lock = NSLock()
        var isOn = true
    }

    private static let state = Switch()

    /// On by default.
    public static var isEnabled: Bool {
        get { state.lock.withLock { state.isOn } }
        set { state.lock.withLock { state.isOn = newValue } }
    }
}
