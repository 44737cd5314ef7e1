import Checksums
import Foundation

/// Deterministic randomness per item: every random choice about an item (which principle, which sampling seed)
/// comes from a ``SplitMix64`` seeded by SHA-256 of (run seed, item id, purpose), so results do not depend on the
/// order in which concurrent workers reach items, on resumes, or on the platform. Weighted draws come from
/// Runtime's `RandomNumberGenerator` extensions.
public struct ItemRandom: RandomNumberGenerator, Sendable {
    private var generator: SplitMix64

    /// A generator for `purpose` (e.g. "principles", "round-2-critique") of item `id`.
    public init(seed: UInt64, id: String, purpose: String) {
        generator = SplitMix64(seed: Self.fullSeed(seed, id, purpose))
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

    public mutating func next() -> UInt64 { generator.next() }
}
