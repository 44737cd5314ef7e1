import Checksums
import Foundation

/// Deterministic randomness per item: every random choice about an item (which principle, which sampling seed)
/// comes from a generator seeded by SHA-256 of (run seed, item id, purpose), so results do not depend on the order
/// in which concurrent workers reach items, on resumes, or on the platform.
public struct ItemRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator for `purpose` (e.g. "principles", "round-2-critique") of item `id`.
    public init(seed: UInt64, id: String, purpose: String) {
        state = Self.fullSeed(seed, id, purpose)
    }

    /// A seed derived from the run seed, the item id and a purpose (for model sampling seeds). Kept below 2³¹ so
    /// that every server accepts it (llama.cpp and some others take 32-bit seeds) and JSON readers keep it exact.
    public static func seed(_ seed: UInt64, _ id: String, _ purpose: String) -> UInt64 {
        fullSeed(seed, id, purpose) & 0x7FFF_FFFF
    }

    static func fullSeed(_ seed: UInt64, _ id: String, _ purpose: String) -> UInt64 {
        let digest = SHA256.hash(Array("\(seed)\u{1F}\(id)\u{1F}\(purpose)".utf8))
        return digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// SplitMix64 (Steele, Lea & Flood 2014).
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform number in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// An index drawn with probability proportional to `weights` (all positive).
    public mutating func weightedIndex(_ weights: [Double]) -> Int {
        precondition(!weights.isEmpty, "weightedIndex needs at least one weight")
        let total = weights.reduce(0, +)
        var target = unit() * total
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
