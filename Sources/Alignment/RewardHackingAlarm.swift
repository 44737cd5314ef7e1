import Foundation

/// A reward-hacking alarm for PPO (`monitor_reward_model`): a held-out monitor — a second reward model, or an
/// ensemble folder read by its members' mean — scores the same rollouts as the proxy being optimised, and the alarm
/// fires when the proxy keeps rising while the monitor falls (Gao et al. 2023's signature of over-optimisation).
///
/// Both series are smoothed by an exponential moving average (weight `smoothing` on the newest value). The monitor's
/// peak is tracked with the proxy's value at that peak. The alarm fires, once, when
/// - the monitor has fallen from its peak by at least `tolerance` × max(its rise from the first reading to the peak,
///   the spread (standard deviation) of its first batch of scores), so the threshold is in the monitor's own units;
/// - and the proxy is above its value at the monitor's peak.
public struct RewardHackingAlarm: Codable, Equatable, Sendable {
    public var tolerance: Double
    public var smoothing: Double
    public private(set) var proxy: Double?
    public private(set) var monitor: Double?
    public private(set) var initialMonitor: Double?
    public private(set) var initialSpread: Double?
    public private(set) var peakMonitor: Double?
    public private(set) var proxyAtPeak: Double?
    public private(set) var peakIteration: Int?
    /// The iteration at which the alarm fired, if it has.
    public private(set) var firedAt: Int?

    public init(tolerance: Double, smoothing: Double = 0.3) {
        self.tolerance = tolerance
        self.smoothing = smoothing
    }

    /// The monitor's fall from its peak that fires the alarm (nil before the first reading).
    public var threshold: Double? {
        guard let initialMonitor, let initialSpread, let peakMonitor else { return nil }
        return tolerance * max(peakMonitor - initialMonitor, initialSpread)
    }

    /// Records one iteration's mean proxy and monitor scores (and the spread of the monitor's scores, read on the
    /// first call only). Returns true when the alarm fires at this iteration.
    public mutating func observe(iteration: Int, proxy newProxy: Double, monitor newMonitor: Double, monitorSpread: Double) -> Bool {
        let proxy = self.proxy.map { $0 + smoothing * (newProxy - $0) } ?? newProxy
        let monitor = self.monitor.map { $0 + smoothing * (newMonitor - $0) } ?? newMonitor
        self.proxy = proxy
        self.monitor = monitor
        if initialMonitor == nil {
            initialMonitor = monitor
            initialSpread = monitorSpread.isFinite ? monitorSpread : 0
        }
        if peakMonitor == nil || monitor > peakMonitor! {
            peakMonitor = monitor
            proxyAtPeak = proxy
            peakIteration = iteration
        }
        guard firedAt == nil, let threshold, threshold > 0, let peakMonitor, let proxyAtPeak else { return false }
        if peakMonitor - monitor >= threshold && proxy > proxyAtPeak {
            firedAt = iteration
            return true
        }
        return false
    }

    /// Records one iteration from the monitor's scores of the rollouts it read (their mean, and their population
    /// standard deviation as the spread); see ``observe(iteration:proxy:monitor:monitorSpread:)``.
    public mutating func observe(iteration: Int, proxy: Double, monitorScores: [Double]) -> Bool {
        let mean = monitorScores.reduce(0, +) / Double(max(monitorScores.count, 1))
        let spread = (monitorScores.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(monitorScores.count, 1))).squareRoot()
        return observe(iteration: iteration, proxy: proxy, monitor: mean, monitorSpread: spread)
    }

    /// The warning line for a fired alarm.
    public var warning: String? {
        guard let firedAt, let monitor, let peakMonitor, let proxy, let proxyAtPeak, let peakIteration else { return nil }
        return String(format: "reward-hacking alarm at iteration %d: the monitor fell from %.4g (iteration %d) to %.4g while the proxy rose from %.4g to %.4g (smoothed); "
                      + "the policy may be exploiting the reward model", firedAt, peakMonitor, peakIteration, monitor, proxyAtPeak, proxy)
    }
}
