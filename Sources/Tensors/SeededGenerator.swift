import Runtime

/// A seeded pseudo-random generator (xoshiro256**, Blackman & Vigna 2018), passed explicitly wherever Charter
/// makes a random choice, so that the same seed always gives the same bits on every platform.
public struct SeededGenerator: RandomNumberGenerator, Codable, Equatable, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// - Parameter seed: any value; expanded with SplitMix64 so that nearby seeds give unrelated streams.
    public init(seed: UInt64) {
        var mixer = SplitMix64(seed: seed)
        state = (mixer.next(), mixer.next(), mixer.next(), mixer.next())
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform Float in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// A standard normal sample (Box–Muller; one value per call so the stream position is easy to reason about).
    public mutating func nextNormal() -> Float {
        let u1 = Double((next() >> 11) | 1) * 0x1p-53  // in (0, 1): log is finite
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }

    public static func == (lhs: SeededGenerator, rhs: SeededGenerator) -> Bool { lhs.state == rhs.state }

    public init(from decoder: Decoder) throws {
        var container = try decoder.unkeyedContainer()
        state = (try container.decode(UInt64.self), try container.decode(UInt64.self),
                 try container.decode(UInt64.self), try container.decode(UInt64.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(state.0); try container.encode(state.1)
        try container.encode(state.2); try container.encode(state.3)
    }
}

#if canImport(Glibc)
import Glibc
private func _log(_ x: Double) -> Double { Glibc.log(x) }
private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
import Darwin
private func _log(_ x: Double) -> Double { Darwin.log(x) }
private func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif
