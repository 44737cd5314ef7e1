/// Seeded draws built from raw `next()` outputs only, so that they do not depend on the standard library's
/// algorithms (which may change) and give the same result on every platform.
extension RandomNumberGenerator {
    /// A uniform number in [0, 1) from the top 53 bits of one output.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// An index drawn with probability proportional to `weights` (all positive).
    public mutating func weightedIndex(_ weights: [Double]) -> Int {
        precondition(!weights.isEmpty, "weightedIndex needs at least one weight")
        let total = weights.reduce(0, +)
        var target = nextUnit() * total
        for (index, weight) in weights.enumerated() {
            target -= weight
            if target < 0 { return index }
        }
        return weights.count - 1
    }

    /// `count` distinct indices drawn in proportion to `weights` (all of them, in drawn order, when count ≥ weights.count).
    public mutating func weightedSampleWithoutReplacement(_ weights: [Double], count: Int) -> [Int] {
        var remaining = Array(weights.indices)
        var chosen: [Int] = []
        while chosen.count < count, !remaining.isEmpty {
            let pick = weightedIndex(remaining.map { weights[$0] })
            chosen.append(remaining.remove(at: pick))
        }
        return chosen
    }
}
