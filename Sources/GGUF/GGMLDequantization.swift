import SafeTensors

/// ggml's block formats decoded to float32, bit-exact to `ggml-quants.c` (`dequantize_row_*`) and the `gguf` Python
/// package's `gguf.quants.dequantize`: the same float32 products and sums in the same order, scales widened from
/// f16 exactly.
enum GGMLDequantization {
    /// Decodes `count` elements of `type` from `bytes` (which holds exactly `count / blockSize` blocks).
    static func dequantize(_ bytes: UnsafeRawBufferPointer, type: GGMLType, count: Int) -> [Float] {
        precondition(count % type.blockSize == 0 && bytes.count == count / type.blockSize * type.blockBytes,
                     "\(type.name): \(bytes.count) bytes do not hold \(count) elements")
        return [Float](unsafeUninitializedCapacity: count) { output, initialized in
            let blocks = count / type.blockSize
            for block in 0..<blocks {
                let source = UnsafeRawBufferPointer(rebasing: bytes[(block * type.blockBytes)..<((block + 1) * type.blockBytes)])
                let target = UnsafeMutableBufferPointer(rebasing: output[(block * type.blockSize)..<((block + 1) * type.blockSize)])
                decode(source, type: type, into: target)
            }
            initialized = count
        }
    }

    /// Decodes one block.
    private static func decode(_ block: UnsafeRawBufferPointer, type: GGMLType, into y: UnsafeMutableBufferPointer<Float>) {
        @inline(__always) func byte(_ offset: Int) -> UInt8 { block[offset] }
        @inline(__always) func half(_ offset: Int) -> Float {
            HalfPrecision.float(fromFloat16: UInt16(littleEndian: block.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
        }
        switch type {
        case .f32:
            y[0] = Float(bitPattern: UInt32(littleEndian: block.loadUnaligned(as: UInt32.self)))
        case .f16:
            y[0] = half(0)
        case .bf16:
            y[0] = HalfPrecision.float(fromBFloat16: UInt16(littleEndian: block.loadUnaligned(as: UInt16.self)))
        case .q8_0:
            let d = half(0)
            for i in 0..<32 { y[i] = Float(Int8(bitPattern: byte(2 + i))) * d }
        case .q4_0:
            // Byte j holds element j (low nibble) and element j + 16 (high nibble).
            let d = half(0)
            for j in 0..<16 {
                let q = byte(2 + j)
                y[j] = d * Float(Int(q & 0x0F) - 8)
                y[j + 16] = d * Float(Int(q >> 4) - 8)
            }
        case .q4_1:
            let d = half(0), m = half(2)
            for j in 0..<16 {
                let q = byte(4 + j)
                y[j] = d * Float(q & 0x0F) + m
                y[j + 16] = d * Float(q >> 4) + m
            }
        case .q5_0:
            // Bit i of the 32-bit qh is element i's fifth bit.
            let d = half(0)
            let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt32.self))
            for j in 0..<16 {
                let q = byte(6 + j)
                let low = Int(q & 0x0F) | Int((qh >> UInt32(j)) & 1) << 4
                let high = Int(q >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
                y[j] = d * Float(low - 16)
                y[j + 16] = d * Float(high - 16)
            }
        case .q5_1:
            let d = half(0), m = half(2)
            let qh = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            for j in 0..<16 {
                let q = byte(8 + j)
                let low = Int(q & 0x0F) | Int((qh >> UInt32(j)) & 1) << 4
                let high = Int(q >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
                y[j] = d * Float(low) + m
                y[j + 16] = d * Float(high) + m
            }
        case .q4_K:
            decodeK(block, y: y, highBits: nil, quants: 16)
        case .q5_K:
            decodeK(block, y: y, highBits: 16, quants: 48)
        case .q6_K:
            decodeQ6K(block, y: y)
        default:
            preconditionFailure("\(type.name) has no dequantiser")
        }
    }

    /// Sub-block `j`'s 6-bit scale and min from Q4_K/Q5_K's 12 packed bytes (ggml's `get_scale_min_k4`).
    @inline(__always)
    private static func scaleMin(_ j: Int, _ scales: UnsafeRawBufferPointer) -> (scale: UInt8, min: UInt8) {
        if j < 4 { return (scales[j] & 63, scales[j + 4] & 63) }
        return ((scales[j + 4] & 0x0F) | ((scales[j - 4] >> 6) << 4), (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4))
    }

    /// Q4_K and Q5_K: d, dmin (f16) at 0 and 2, scales at 4..<16; optional 32 bytes of fifth bits at `highBits`;
    /// 128 bytes of nibbles at `quants`. Each 64 elements use one byte run: low nibbles for the first 32 (sub-block
    /// 2i), high nibbles for the next 32 (sub-block 2i+1); x = (d·scale)·q − dmin·min.
    private static func decodeK(_ block: UnsafeRawBufferPointer, y: UnsafeMutableBufferPointer<Float>, highBits: Int?, quants: Int) {
        let d = HalfPrecision.float(fromFloat16: UInt16(littleEndian: block.loadUnaligned(fromByteOffset: 0, as: UInt16.self)))
        let dmin = HalfPrecision.float(fromFloat16: UInt16(littleEndian: block.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
        let scales = UnsafeRawBufferPointer(rebasing: block[4..<16])
        for pair in 0..<4 {
            for half in 0..<2 {
                let subBlock = 2 * pair + half
                let (scale, minimum) = scaleMin(subBlock, scales)
                let dl = d * Float(scale), ml = dmin * Float(minimum)
                for l in 0..<32 {
                    let packed = block[quants + 32 * pair + l]
                    var q = half == 0 ? packed & 0x0F : packed >> 4
                    if let highBits { q |= ((block[highBits + l] >> UInt8(subBlock)) & 1) << 4 }
                    y[32 * subBlock + l] = dl * Float(q) - ml
                }
            }
        }
    }

    /// Q6_K: ql (128 bytes) at 0, qh (64) at 128, 16 signed scales at 192, d (f16) at 208. Each half of 128
    /// elements: element l + 32k takes a nibble of ql and two bits of qh; x = (d·scale)·(q − 32).
    private static func decodeQ6K(_ block: UnsafeRawBufferPointer, y: UnsafeMutableBufferPointer<Float>) {
        let d = HalfPrecision.float(fromFloat16: UInt16(littleEndian: block.loadUnaligned(fromByteOffset: 208, as: UInt16.self)))
        for half in 0..<2 {
            let ql = 64 * half, qh = 128 + 32 * half, sc = 192 + 8 * half, out = 128 * half
            for l in 0..<32 {
                let high = block[qh + l]
                let q0 = Int(block[ql + l] & 0x0F) | Int(high & 3) << 4
                let q1 = Int(block[ql + l + 32] & 0x0F) | Int((high >> 2) & 3) << 4
                let q2 = Int(block[ql + l] >> 4) | Int((high >> 4) & 3) << 4
                let q3 = Int(block[ql + l + 32] >> 4) | Int((high >> 6) & 3) << 4
                let subBlock = l / 16
                @inline(__always) func scaled(_ k: Int) -> Float { d * Float(Int8(bitPattern: block[sc + subBlock + 2 * k])) }
                y[out + l] = scaled(0) * Float(q0 - 32)
                y[out + l + 32] = scaled(1) * Float(q1 - 32)
                y[out + l + 64] = scaled(2) * Float(q2 - 32)
                y[out + l + 96] = scaled(3) * Float(q3 - 32)
            }
        }
    }
}
