import Foundation

/// A chart axis: a range widened to round tick values (1, 2 or 5 × 10ⁿ apart) and the ticks' labels.
public struct ChartAxis: Equatable, Sendable {
    public let lower: Double
    public let upper: Double
    public let step: Double
    /// Label ticks as percentages (0.25 → "25%").
    public let percent: Bool

    /// An axis covering `values` (non-finite ones ignored) with about `tickCount` ticks; a single value (or none) gets a
    /// unit-wide range around it, so every coordinate stays finite.
    public init(covering values: [Double], tickCount: Int = 5, percent: Bool = false) {
        let finite = values.filter(\.isFinite)
        var low = finite.min() ?? 0, high = finite.max() ?? 1
        if high - low <= max(abs(low), abs(high)) * 1e-12 {
            let margin = low == 0 ? 1 : abs(low) * 0.5
            (low, high) = (low - margin, high + margin)
        }
        let raw = (high - low) / Double(max(tickCount, 1))
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let normalised = raw / magnitude
        let step = (normalised < 1.5 ? 1 : normalised < 3 ? 2 : normalised < 7 ? 5 : 10) * magnitude
        self.init(lower: (low / step).rounded(.down) * step, upper: (high / step).rounded(.up) * step, step: step, percent: percent)
    }

    /// An axis with a fixed range and tick spacing (e.g. rates: 0…1 every 0.25).
    public init(lower: Double, upper: Double, step: Double, percent: Bool = false) {
        precondition(lower.isFinite && upper.isFinite && upper > lower && step > 0, "axis \(lower)…\(upper) step \(step)")
        self.lower = lower
        self.upper = upper
        self.step = step
        self.percent = percent
    }

    /// The tick values from lower to upper.
    public var ticks: [Double] {
        let count = Int(((upper - lower) / step).rounded())
        return (0...count).map { index in
            let value = lower + Double(index) * step
            return abs(value) < step * 1e-9 ? 0 : value
        }
    }

    /// Where `value` falls, from 0 (lower) to 1 (upper).
    func fraction(_ value: Double) -> Double { (value - lower) / (upper - lower) }

    /// A tick label with as many decimals as the spacing needs: "0.25", "4", "25%".
    public func label(_ value: Double) -> String {
        let scale = percent ? 100.0 : 1.0
        let decimals = min(6, max(0, Int(-(log10(step * scale)).rounded(.down))))
        let text = String(format: "%.\(decimals)f", value * scale)
        return (text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text) + (percent ? "%" : "")
    }
}
