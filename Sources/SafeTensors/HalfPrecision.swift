/// Bit-exact conversions between `Float` and the 16-bit formats used by checkpoints.
///
/// Implemented on bit patterns rather than Swift's `Float16`, which is unavailable on Intel macOS. The scalar
/// functions are branch-light so the bulk loops over hundreds of megabytes auto-vectorise.
public enum HalfPrecision {
    /// Widens a bfloat16 bit pattern to `Float` (exact: bfloat16 is the top half of a float32).
    @inlinable
    public static func float(fromBFloat16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Narrows `value` to bfloat16, rounding to nearest with ties to even; NaN stays NaN (quieted, sign kept).
    @inlinable
    public static func bfloat16(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        // Adding 0x7FFF plus the lowest kept bit rounds half-way cases to the even neighbour; a carry into the
        // exponent correctly rounds the largest finite values up to infinity.
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    /// Widens an IEEE 754 binary16 bit pattern to `Float`, including subnormals, infinities and NaN.
    @inlinable
    public static func float(fromFloat16 bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let magnitude = UInt32(bits & 0x7FFF)
        // Shifting exponent+mantissa into float position and scaling by 2^112 rebiases the exponent (15 → 127)
        // and handles subnormal halves exactly, because they land on float subnormals that the multiply normalises.
        let scaled = Float(bitPattern: magnitude << 13) * 0x1p112
        // Infinity and NaN (exponent all ones) must keep an all-ones float exponent instead.
        let special = (magnitude << 13) | 0x7F80_0000
        let result = magnitude >= 0x7C00 ? special : scaled.bitPattern
        return Float(bitPattern: result | sign)
    }

    /// Narrows `value` to IEEE 754 binary16, rounding to nearest with ties to even; overflow becomes infinity,
    /// NaN stays NaN (quieted, sign kept), tiny values become subnormals or zero.
    @inlinable
    public static func float16(from value: Float) -> UInt16 {
        var bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits & 0x8000_0000) >> 16)
        bits &= 0x7FFF_FFFF
        let result: UInt16
        if bits >= 0x4780_0000 {
            // |value| >= 65536 (or inf/NaN): beyond the largest half after rounding.
            if bits > 0x7F80_0000 {
                result = 0x7E00 | UInt16(truncatingIfNeeded: (bits >> 13) & 0x3FF)
            } else {
                result = 0x7C00
            }
        } else if bits < 0x3880_0000 {
            // |value| < 2^-14: subnormal half or zero. Adding 0.5 aligns the mantissa so that the FPU's own
            // round-to-nearest-even produces the subnormal bits in the low mantissa.
            let magic: UInt32 = 0x3F00_0000  // 0.5
            let sum = Float(bitPattern: bits) + Float(bitPattern: magic)
            result = UInt16(truncatingIfNeeded: sum.bitPattern &- magic)
        } else {
            let odd = (bits >> 13) & 1
            // Rebias exponent (127 → 15) and round to nearest even on the 13 dropped bits.
            let rebiased = bits &+ 0xC800_0FFF &+ odd  // 0xC8000000 == (15 - 127) << 23 in two's complement
            result = UInt16(truncatingIfNeeded: rebiased >> 13)
        }
        return result | sign
    }
}
