/// A rate over the last `span` seconds (tokens per second while generating): a running count sampled over time,
/// measured from the newest sample at least `span` old (or the first sample) to now, so that a rate falls when the
/// count stops moving and never averages over a whole run.
struct RateWindow {
    /// Seconds the rate looks back.
    let span: Double
    private var samples: [(time: Double, count: Int)] = []

    init(span: Double) { self.span = span }

    /// The running count.
    var count: Int { samples.last?.count ?? 0 }

    /// Adds `added` to the count at `time` (seconds on any monotonic clock).
    mutating func add(_ added: Int, at time: Double) {
        // Additions within 50 ms share a sample, so a window holds a few hundred samples however fast tokens come.
        if samples.count > 1, let last = samples.last, time - last.time < 0.05 {
            samples[samples.count - 1].count += added
        } else {
            samples.append((time, count + added))
        }
        // Keep one sample at or before the window's start: the baseline the rate is measured from.
        while samples.count > 1 && samples[1].time <= time - span { samples.removeFirst() }
    }

    /// Measures from `time` on (when work begins after a pause), so that the first rate covers the wait for the first
    /// addition (a prompt being read, a request in flight) and not the pause.
    mutating func restart(at time: Double) {
        samples = [(time, count)]
    }

    /// Units per second over the window ending at `now`; nil until the window spans a tenth of a second.
    func rate(at now: Double) -> Double? {
        guard let latest = samples.last else { return nil }
        let baseline = samples.last(where: { $0.time <= now - span }) ?? samples[0]
        let seconds = now - baseline.time
        guard seconds >= 0.1 else { return nil }
        return Double(latest.count - baseline.count) / seconds
    }
}
