import Foundation

/// Wall-clock time of the phases of a run or an iteration, in seconds: each `lap` records the time since the
/// previous one (or since the clock started) under a name; a name lapped twice adds up.
public struct PhaseClock: Sendable {
    private let start = DispatchTime.now().uptimeNanoseconds
    private var last = DispatchTime.now().uptimeNanoseconds
    public private(set) var laps: [String: Double] = [:]

    public init() {}

    /// Records the time since the previous lap under `name`.
    public mutating func lap(_ name: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        laps[name, default: 0] += Double(now - last) / 1e9
        last = now
    }

    /// Records a phase timed elsewhere (a pipeline stage's recorded seconds; nil: none recorded, and none kept) and
    /// starts the next lap now.
    public mutating func record(_ name: String, seconds: Double?) {
        laps[name] = seconds
        last = DispatchTime.now().uptimeNanoseconds
    }

    /// Seconds since the clock started.
    public var total: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}
