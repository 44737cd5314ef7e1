import CKernels
import Foundation
import Runtime
import XCTest

/// The quantized matrix product (ck_qgemm) on random ggml blocks, on every path and variant this CPU runs: against
/// an independent double-precision evaluation of the same integer arithmetic, against dequantise-then-multiply within
/// the activation rounding bound, across variants, and across thread counts.
final class QuantizedKernelTests: XCTestCase {
    typealias Generator = SplitMix64
    static let formats: [(type: Int32, name: String)] = [(8, "Q8_0"), (2, "Q4_0"), (3, "Q4_1"), (6, "Q5_0"), (7, "Q5_1"), (12, "Q4_K"),
                                                          (13, "Q5_K"), (14, "Q6_K"), (1, "F16"), (30, "BF16")]

    /// F16 and BF16 multiply float32 activations; the block formats quantize them per 32 values.
    static func hasFloatActivations(_ type: Int32) -> Bool { type == 1 || type == 30 }

    /// The k-quants: 256-element superblocks.
    static func isKQuant(_ type: Int32) -> Bool { (12...14).contains(type) }

    /// A row width of `blocks32` blocks of 32 elements, or for the k-quants as many superblocks of 256 (one per
    /// 32-element block of the others, so the shapes keep their odd and even block counts).
    static func width(_ blocks32: Int, _ type: Int32) -> Int { isKQuant(type) ? 256 * blocks32 : 32 * blocks32 }

    /// An IEEE half with a random sign and mantissa, its magnitude in [2^-10, 2^-2): bits and exact value.
    static func randomHalf(_ generator: inout Generator, signed: Bool = true) -> (bits: UInt16, value: Double) {
        let exponent = UInt16.random(in: 5...12, using: &generator), mantissa = UInt16.random(in: 0..<1024, using: &generator)
        let negative = signed && Bool.random(using: &generator)
        let bits = (negative ? 0x8000 : 0) | exponent << 10 | mantissa
        let value = pow(2.0, Double(exponent) - 15) * (1 + Double(mantissa) / 1024)
        return (bits, negative ? -value : value)
    }

    /// A bfloat16 with a random sign and mantissa, its magnitude in [2^-10, 2^-2): bits and exact value.
    static func randomBFloat16(_ generator: inout Generator) -> (bits: UInt16, value: Double) {
        let exponent = UInt16.random(in: 117...124, using: &generator), mantissa = UInt16.random(in: 0..<128, using: &generator)
        let negative = Bool.random(using: &generator)
        let value = pow(2.0, Double(exponent) - 127) * (1 + Double(mantissa) / 128)
        return ((negative ? 0x8000 : 0) | exponent << 7 | mantissa, negative ? -value : value)
    }

    /// Q4_K sub-block j's 6-bit scale and min from the superblock's 12 packed bytes, as ggml's reference code defines
    /// them (get_scale_min_k4): j < 4 in the low six bits of bytes j and j + 4; j ≥ 4 the nibbles of byte j + 4
    /// below the top two bits of bytes j − 4 and j.
    static func q4KScaleMin(_ j: Int, _ packed: [UInt8]) -> (scale: Int, min: Int) {
        if j < 4 { return (Int(packed[j] & 63), Int(packed[j + 4] & 63)) }
        return (Int(packed[j + 4] & 0x0F) | Int(packed[j - 4] >> 6) << 4, Int(packed[j + 4] >> 4) | Int(packed[j] >> 6) << 4)
    }

    /// One weight row as raw ggml blocks, with each element's exact value (the reference decoder, written from the
    /// formats' definitions independently of the C code). `ints` and `scales` describe every format but F16/BF16 as
    /// 16-element groups of value d·q + m (a 32-element block's scales twice; Q4_K's and Q5_K's sub-block j: d =
    /// d_super·scale_j, m = −dmin·min_j; Q6_K's sub-block j of 16: d = d_super·scale_j, q − 32 as the integer).
    static func randomRow(type: Int32, columns: Int, _ generator: inout Generator) -> (bytes: [UInt8], values: [Double], ints: [Int], scales: [(d: Double, m: Double)]) {
        var bytes: [UInt8] = [], values: [Double] = [], ints: [Int] = [], scales: [(Double, Double)] = []
        func half(_ bits: UInt16) { bytes += [UInt8(bits & 0xFF), UInt8(bits >> 8)] }
        switch type {
        case 1, 30:
            for _ in 0..<columns {
                let h = type == 1 ? randomHalf(&generator) : randomBFloat16(&generator)
                half(h.bits)
                values.append(h.value)
            }
        case 12, 13:
            // Random scale, fifth-bit (Q5_K) and nibble bytes under finite random d and dmin.
            for _ in 0..<(columns / 256) {
                let d = randomHalf(&generator), dmin = randomHalf(&generator)
                half(d.bits)
                half(dmin.bits)
                let packed = (0..<12).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let high = type == 13 ? (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) } : []
                let nibbles = (0..<128).map { _ in UInt8.random(in: 0...255, using: &generator) }
                bytes += packed + high + nibbles
                for j in 0..<8 {
                    let (scale, minimum) = q4KScaleMin(j, packed)
                    let block = (0..<32).map { (l: Int) -> Int in
                        let nibble: UInt8 = nibbles[32 * (j / 2) + l]
                        let low: Int = j % 2 == 0 ? Int(nibble & 0x0F) : Int(nibble >> 4)
                        let fifth: Int = high.isEmpty ? 0 : Int((high[l] >> UInt8(j)) & 1)
                        return low + fifth << 4
                    }
                    let sub = (d: d.value * Double(scale), m: -dmin.value * Double(minimum))
                    scales += [sub, sub]
                    ints += block
                    values += block.map { sub.d * Double($0) + sub.m }
                }
            }
        case 14:
            // Random low-nibble, top-bit and signed scale bytes under a finite random d (stored last). Element
            // 128h + 32k + l: a nibble of ql[64h + 32·(k mod 2) + l] (low for k < 2), bits 2k, 2k + 1 of
            // qh[32h + l]; value d·scale_{(128h + 32k + l) / 16}·(q − 32).
            for _ in 0..<(columns / 256) {
                let d = randomHalf(&generator)
                let ql = (0..<128).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let qh = (0..<64).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let signedScales = (0..<16).map { _ in Int8.random(in: .min ... .max, using: &generator) }
                bytes += ql + qh + signedScales.map { UInt8(bitPattern: $0) }
                half(d.bits)
                for j in 0..<16 { scales.append((d.value * Double(signedScales[j]), 0)) }
                for h in 0..<2 {
                    for k in 0..<4 {
                        for l in 0..<32 {
                            let nibble: UInt8 = ql[64 * h + 32 * (k % 2) + l]
                            let low: Int = k < 2 ? Int(nibble & 0x0F) : Int(nibble >> 4)
                            let top: Int = Int((qh[32 * h + l] >> UInt8(2 * k)) & 3)
                            let q: Int = low | top << 4
                            ints.append(q - 32)
                            let group: Int = (128 * h + 32 * k + l) / 16
                            let scale: Double = scales[scales.count - 16 + group].0
                            values.append(scale * Double(q - 32))
                        }
                    }
                }
            }
        default:
            for _ in 0..<(columns / 32) {
                let d = randomHalf(&generator)
                half(d.bits)
                var m = 0.0
                if type == 3 || type == 7 {
                    let h = randomHalf(&generator)
                    half(h.bits)
                    m = h.value
                }
                scales += [(d.value, m), (d.value, m)]
                if type == 8 {
                    let q = (0..<32).map { _ in Int8.random(in: .min ... .max, using: &generator) }
                    bytes += q.map { UInt8(bitPattern: $0) }
                    ints += q.map(Int.init)
                } else if type == 6 || type == 7 {
                    // Q5_0 and Q5_1: 4 bytes of fifth bits (bit j of the little-endian word: element j's), then
                    // Q4's nibbles; Q5_0's integer is q − 16.
                    let high = (0..<4).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    let packed = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    bytes += high + packed
                    let offset = type == 6 ? 16 : 0
                    ints += (0..<32).map { (element: Int) -> Int in
                        let low = element < 16 ? Int(packed[element] & 0x0F) : Int(packed[element - 16] >> 4)
                        let fifth = Int((high[element / 8] >> UInt8(element % 8)) & 1)
                        return (low | fifth << 4) - offset
                    }
                } else {
                    let packed = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    bytes += packed
                    let offset = type == 2 ? 8 : 0
                    ints += packed.map { Int($0 & 0x0F) - offset } + packed.map { Int($0 >> 4) - offset }
                }
                let block = ints.suffix(32)
                values += block.map { d.value * Double($0) + m }
            }
        }
        return (bytes, values, ints, scales)
    }

    struct Problem {
        var type: Int32, M: Int, N: Int, K: Int
        var weights: [UInt8]
        var values: [[Double]]            // N rows of K exact weights
        var ints: [[Int]]                 // N rows of K integers (block formats)
        var scales: [[(d: Double, m: Double)]]
        var x: [Float]                    // M × K
    }

    static func problem(type: Int32, M: Int, N: Int, K: Int, seed: UInt64) -> Problem {
        var generator = Generator(seed: seed)
        var p = Problem(type: type, M: M, N: N, K: K, weights: [], values: [], ints: [], scales: [], x: [])
        for _ in 0..<N {
            let row = randomRow(type: type, columns: K, &generator)
            p.weights += row.bytes
            p.values.append(row.values)
            p.ints.append(row.ints)
            p.scales.append(row.scales)
        }
        p.x = (0..<(M * K)).map { _ in Float.random(in: -2...2, using: &generator) }
        return p
    }

    static func run(_ p: Problem) -> [Float] {
        var y = [Float](repeating: .nan, count: p.M * p.N)
        let status = p.weights.withUnsafeBytes { w in
            ck_qgemm(p.type, Int64(p.M), Int64(p.N), Int64(p.K), p.x, Int64(p.K), w.baseAddress, &y, Int64(p.N))
        }
        XCTAssertEqual(status, 0)
        return y
    }

    static func activations(_ p: Problem, row: Int) -> [ck_q8_activation] {
        var blocks = [ck_q8_activation](repeating: ck_q8_activation(), count: p.K / 32)
        Array(p.x[(row * p.K)..<((row + 1) * p.K)]).withUnsafeBufferPointer { ck_q_quantize_activations($0.baseAddress, Int64(p.K), &blocks) }
        return blocks
    }

    static func bytes(_ block: ck_q8_activation) -> [Int] {
        withUnsafeBytes(of: block.qs) { $0.map { Int(Int8(bitPattern: $0)) } }
    }

    /// The integer arithmetic in double: Σ over 16-element groups g of dw_g·da·Σ q·qa (+ m_g·da·Σ qa), and the scale
    /// of its terms (for tolerances).
    static func reference(_ p: Problem, m: Int, n: Int) -> (value: Double, magnitude: Double) {
        if hasFloatActivations(p.type) {
            let terms = (0..<p.K).map { p.values[n][$0] * Double(p.x[m * p.K + $0]) }
            return (terms.reduce(0, +), terms.reduce(0) { $0 + abs($1) })
        }
        var value = 0.0, magnitude = 0.0
        for (b, block) in activations(p, row: m).enumerated() {
            let qa = bytes(block)
            for g in 0..<2 {
                let range = (16 * g)..<(16 * g + 16), base = b * 32
                let dot = range.reduce(0) { $0 + p.ints[n][base + $1] * qa[$1] }
                let (d, offset) = p.scales[n][2 * b + g]
                value += d * Double(block.d) * Double(dot) + offset * Double(block.d) * Double(range.reduce(0) { $0 + qa[$1] })
                magnitude += abs(d * Double(block.d)) * Double(range.reduce(0) { $0 + abs(p.ints[n][base + $1] * qa[$1]) })
                    + abs(offset * Double(block.d)) * Double(range.reduce(0) { $0 + abs(qa[$1]) })
            }
        }
        return (value, magnitude)
    }

    /// Every variant: each supported path, and on AVX-512 with VNNI allowed and not.
    static func forEachVariant(_ body: (String) throws -> Void) rethrows {
        defer {
            _ = ck_set_path(Int32(CK_PATH_AUTO.rawValue))
            _ = ck_q_allow_vnni(1)
        }
        for path in VectorTestSupport.supportedPaths {
            _ = ck_set_path(path)
            for vnni: Int32 in path == Int32(CK_PATH_AVX512.rawValue) ? [1, 0] : [1] {
                _ = ck_q_allow_vnni(vnni)
                try body(String(cString: ck_q_kernel_name()))
            }
        }
    }

    /// Fewer than 16 input rows: the integer path (decode). K in 32-element blocks (k-quants: superblocks).
    let shapes: [(M: Int, N: Int, blocks: Int)] = [(1, 19, 5), (3, 8, 4), (15, 11, 3)]

    func testEveryVariantComputesTheIntegerArithmetic() {
        for format in Self.formats {
            for (index, shape) in shapes.enumerated() {
                let p = Self.problem(type: format.type, M: shape.M, N: shape.N, K: Self.width(shape.blocks, format.type), seed: UInt64(10 * index) + UInt64(format.type))
                let expected = (0..<(p.M * p.N)).map { Self.reference(p, m: $0 / p.N, n: $0 % p.N) }
                Self.forEachVariant { variant in
                    let y = Self.run(p)
                    let worst = zip(y, expected).map { abs(Double($0) - $1.value) / max($1.magnitude, 1e-30) }.max() ?? 0
                    XCTAssertLessThan(worst, 1e-5, "\(format.name) \(variant) \(shape): relative error \(worst)")
                }
            }
        }
    }

    /// From ck_q_gemm_rows input rows on (prefill; 16–48 by type) the product is the float32 GEMM of the decoded
    /// weights and the unquantized input.
    func testPrefillSizedInputsMultiplyTheDecodedWeightsInFloat() {
        for format in Self.formats {
            let p = Self.problem(type: format.type, M: Int(ck_q_gemm_rows(format.type)), N: 21, K: Self.width(3, format.type), seed: 31 + UInt64(format.type))
            Self.forEachVariant { variant in
                let y = Self.run(p)
                for m in 0..<p.M {
                    for n in 0..<p.N {
                        let terms = (0..<p.K).map { p.values[n][$0] * Double(p.x[m * p.K + $0]) }
                        let exact = terms.reduce(0, +), magnitude = terms.reduce(0) { $0 + abs($1) }
                        XCTAssertLessThanOrEqual(abs(Double(y[m * p.N + n]) - exact), 1e-5 * magnitude, "\(format.name) \(variant) [\(m), \(n)]")
                    }
                }
            }
        }
    }

    /// The prefill path decodes the weights (the k-quants with each path's vectorised decoder) to the bits of
    /// ck_q_dequantize (ggml's dequantize_row_*): multiplied by the identity (M = K = 512 rows, one 1 per row), the
    /// product is the decoded matrix, transposed, exactly (zeros up to their sign).
    func testPrefillDecodingGivesTheBitsOfTheDequantiser() {
        for format in Self.formats {
            let K = 512, p0 = Self.problem(type: format.type, M: 1, N: 9, K: K, seed: 77 + UInt64(format.type))
            var p = p0
            p.M = K
            p.x = (0..<(K * K)).map { $0 / K == $0 % K ? 1 : 0 }
            var decoded = [Float](repeating: 0, count: p.N * K)
            XCTAssertEqual(p.weights.withUnsafeBytes { ck_q_dequantize(format.type, $0.baseAddress, Int64(p.N), Int64(K), &decoded) }, 0)
            Self.forEachVariant { variant in
                let y = Self.run(p)  // (K, N): y[k, n] = W[n, k]
                let transposed = (0..<(p.N * K)).map { y[($0 % K) * p.N + $0 / K] }
                // Bits, but for the sign of zero: the product adds −0 (a decoded −0 times 1) to +0 (the zeros of the
                // identity times the other weights), which is +0.
                let differing = (0..<decoded.count).filter {
                    decoded[$0] == 0 ? transposed[$0] != 0 : transposed[$0].bitPattern != decoded[$0].bitPattern
                }
                XCTAssertTrue(differing.isEmpty, "\(format.name) \(variant): \(differing.count) of \(decoded.count) differ, first "
                              + (differing.first.map { "[\($0 / K), \($0 % K)]: \(transposed[$0]) vs \(decoded[$0])" } ?? ""))
            }
        }
    }

    /// Dequantising the weights and multiplying in float differs from the integer product only by the activations'
    /// rounding to their grid: |Σ w·(x − da·qa)| ≤ Σ|w|·da/2 per block (F16 and BF16 have no activation rounding).
    func testAgreesWithDequantiseThenMultiplyWithinTheActivationRoundingBound() {
        for format in Self.formats {
            let p = Self.problem(type: format.type, M: 4, N: 13, K: Self.width(6, format.type), seed: 99 + UInt64(format.type))
            var dequantized = [Float](repeating: 0, count: p.N * p.K)
            XCTAssertEqual(p.weights.withUnsafeBytes { ck_q_dequantize(format.type, $0.baseAddress, Int64(p.N), Int64(p.K), &dequantized) }, 0)
            // ck_q_dequantize decodes the values the reference decoder reads: exactly, except the k-quants': Q4_K's and
            // Q5_K's (d·scale)·q − dmin·min needs more than float32's 24 bits when the two terms' exponents are far
            // apart, Q6_K's (d·scale)·(q − 32) up to 11 + 8 + 6 bits (rounded as ggml does, bit-exact to the gguf
            // package: GGUFQuantizedTests).
            let exact = p.values.flatMap { $0 }
            if Self.isKQuant(format.type) {
                let magnitudes = (0..<p.N).flatMap { n in (0..<p.K).map { abs(p.scales[n][$0 / 16].d * Double(p.ints[n][$0])) + abs(p.scales[n][$0 / 16].m) } }
                let worst = (0..<exact.count).map { abs(Double(dequantized[$0]) - exact[$0]) / magnitudes[$0] }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, 0x1p-23, "\(format.name) decoding error relative to its terms")
            } else {
                XCTAssertTrue(dequantized.map(Double.init) == exact, "\(format.name): decoded values differ from the reference decoder's")
            }
            let y = Self.run(p)
            for m in 0..<p.M {
                let blocks = Self.activations(p, row: m)
                for n in 0..<p.N {
                    let exact = (0..<p.K).reduce(0.0) { $0 + Double(dequantized[n * p.K + $1]) * Double(p.x[m * p.K + $1]) }
                    let magnitude = (0..<p.K).reduce(0.0) { $0 + abs(Double(dequantized[n * p.K + $1]) * Double(p.x[m * p.K + $1])) }
                    var bound = 1e-5 * magnitude
                    if !Self.hasFloatActivations(format.type) {
                        for (b, block) in blocks.enumerated() {
                            bound += (0..<32).reduce(0.0) { $0 + abs(Double(dequantized[n * p.K + b * 32 + $1])) } * Double(block.d) / 2
                        }
                    }
                    XCTAssertLessThanOrEqual(abs(Double(y[m * p.N + n]) - exact), bound, "\(format.name) [\(m), \(n)]")
                }
            }
        }
    }

    func testVariantsAgreeAndThreadCountsGiveTheSameBits() {
        let savedThreads = ck_get_num_threads()
        defer { ck_set_num_threads(savedThreads) }
        for format in Self.formats {
            let p = Self.problem(type: format.type, M: 5, N: 37, K: Self.width(7, format.type), seed: 7 + UInt64(format.type))
            var outputs: [(String, [Float])] = []
            Self.forEachVariant { variant in
                ck_set_num_threads(1)
                let one = Self.run(p)
                ck_set_num_threads(2)
                let two = Self.run(p)
                XCTAssertEqual(one.map(\.bitPattern), two.map(\.bitPattern), "\(format.name) \(variant): 1 vs 2 threads")
                outputs.append((variant, one))
            }
            let magnitudes = (0..<(p.M * p.N)).map { Self.reference(p, m: $0 / p.N, n: $0 % p.N).magnitude }
            for (variant, y) in outputs.dropFirst() {
                for (index, (a, b)) in zip(outputs[0].1, y).enumerated() where abs(Double(a) - Double(b)) > 1e-5 * magnitudes[index] {
                    XCTFail("\(format.name): \(outputs[0].0) \(a) vs \(variant) \(b) at \(index)")
                    break
                }
            }
        }
    }

    /// Several input rows (2 up to ck_q_gemm_rows − 1: 15–47 by type; the decode of a batch, a short prompt) go through
    /// the multi-row kernels, which decode each weight block (F16, BF16: each group of weights) once for up to eight
    /// rows; every output must carry the bits of the
    /// one-row kernel (ck_qgemm with M = 1), so a batch generates exactly what its sequences generate alone. K covers
    /// one block (no pair), odd and even block counts, a K that is not a multiple of 64, and for F16 and BF16 one that
    /// leaves the vector loops a scalar tail.
    func testSeveralInputRowsGiveTheBitsOfOneRowAtATime() {
        for format in Self.formats {
            for K in [1, 3, 6, 7].map({ Self.width($0, format.type) }) + (Self.hasFloatActivations(format.type) ? [250] : []) {
                let p = Self.problem(type: format.type, M: Int(ck_q_gemm_rows(format.type)) - 1, N: 11, K: K, seed: 211 + UInt64(K) + UInt64(format.type))
                Self.forEachVariant { variant in
                    var single = [Float](repeating: .nan, count: p.M * p.N)
                    p.weights.withUnsafeBytes { w in
                        for m in 0..<p.M {
                            single.withUnsafeMutableBufferPointer { y in
                                p.x.withUnsafeBufferPointer { x in
                                    XCTAssertEqual(ck_qgemm(p.type, 1, Int64(p.N), Int64(K), x.baseAddress! + m * K, Int64(K), w.baseAddress, y.baseAddress! + m * p.N, Int64(p.N)), 0)
                                }
                            }
                        }
                    }
                    for M in 1...p.M {
                        var batch = p
                        batch.M = M
                        batch.x = Array(p.x[0..<(M * K)])
                        let y = Self.run(batch)
                        for (index, (a, b)) in zip(y, single).enumerated() where a.bitPattern != b.bitPattern {
                            XCTFail("\(format.name) \(variant) K=\(K) M=\(M): row \(index / p.N) column \(index % p.N) is \(a), one row at a time \(b)")
                            break
                        }
                    }
                }
            }
        }
    }

    func testActivationBlocksAreTheNearestPointsOfTheirGrid() {
        var generator = Generator(seed: 5)
        var x = (0..<96).map { _ in Float.random(in: -3...3, using: &generator) }
        x.replaceSubrange(32..<64, with: repeatElement(0, count: 32))  // an all-zero block: d = 0, q = 0
        var blocks = [ck_q8_activation](repeating: ck_q8_activation(), count: 3)
        ck_q_quantize_activations(x, 96, &blocks)
        for (b, block) in blocks.enumerated() {
            let values = x[(b * 32)..<((b + 1) * 32)], q = Self.bytes(block)
            XCTAssertEqual(block.d, values.map(abs).max()! / 127, "block \(b) scale")
            XCTAssertEqual(Double(block.s), Double(block.d) * Double(q.reduce(0, +)), accuracy: 1e-6 * Double(block.d) * 127 * 32)
            for (value, integer) in zip(values, q) {
                XCTAssertLessThanOrEqual(abs(integer), 127)
                XCTAssertLessThanOrEqual(abs(Double(value) - Double(block.d) * Double(integer)), Double(block.d) / 2 * (1 + 1e-6))
            }
        }
    }

    func testShapesThatAreNotWholeBlocksAndUnknownTypesAreRefused() {
        var y = [Float](repeating: 7, count: 4)
        let weights = [UInt8](repeating: 0, count: 64)
        weights.withUnsafeBytes { w in
            XCTAssertEqual(ck_qgemm(8, 1, 1, 33, [Float](repeating: 1, count: 33), 33, w.baseAddress, &y, 1), -1)  // K not whole blocks
            XCTAssertEqual(ck_qgemm(99, 1, 1, 32, [Float](repeating: 1, count: 32), 32, w.baseAddress, &y, 1), -1)  // unknown type
            XCTAssertEqual(ck_qgemm(8, -1, 1, 32, [Float](repeating: 1, count: 32), 32, w.baseAddress, &y, 1), -1)  // negative rows
        }
        XCTAssertEqual(y, [7, 7, 7, 7], "nothing is written on refusal")
        XCTAssertEqual(ck_q_quantize(2, [Float](repeating: 1, count: 48), 1, 48, &y), -1)
        XCTAssertEqual(ck_q_block_size(15), 0)  // Q8_K: not multiplied by these kernels
        XCTAssertEqual(ck_q_has_quantizer(15), -1)
        // The k-quants: rows of whole 256-element superblocks only, and no quantizer (their blocks are kept as a file
        // stores them).
        for type: Int32 in [12, 13, 14] {
            weights.withUnsafeBytes { w in
                XCTAssertEqual(ck_qgemm(type, 1, 1, 128, [Float](repeating: 1, count: 128), 128, w.baseAddress, &y, 1), -1, "type \(type)")
            }
            XCTAssertEqual(ck_q_quantize(type, [Float](repeating: 1, count: 256), 1, 256, &y), -1, "type \(type)")
            XCTAssertEqual(ck_q_has_quantizer(type), 0, "type \(type)")
        }
        XCTAssertEqual([8, 2, 3, 6, 7, 1, 30].map { ck_q_has_quantizer($0) }, [1, 1, 1, 1, 1, 1, 1])
        XCTAssertEqual([12, 13, 14].map { ck_q_block_bytes($0) }, [144, 176, 210])
        XCTAssertEqual(y, [7, 7, 7, 7])
    }

    /// BF16 quantization is ggml's ggml_compute_fp32_to_bf16, checked on values worked out by hand: round to nearest,
    /// ties to the even bf16, subnormals rounded like any other value, overflow to infinity, and NaN kept with its
    /// sign and top payload bits, forced quiet (bit 6 of the bf16).
    func testBFloat16QuantizationRoundsAsGGML() {
        let cases: [(input: UInt32, expected: UInt16, what: String)] = [
            (0x3F80_0000, 0x3F80, "1"),
            (0x3F80_8000, 0x3F80, "1 + 2^-8: a tie, to the even 0x3F80"),
            (0x3F81_8000, 0x3F82, "a tie, to the even 0x3F82"),
            (0x3F80_8001, 0x3F81, "just above a tie"),
            (0x3F80_7FFF, 0x3F80, "just below a tie"),
            (0xBF80_7FFF, 0xBF80, "negative, just below a tie"),
            (0xC049_0FDB, 0xC049, "-π"),
            (0x8000_0000, 0x8000, "-0"),
            (0x7F7F_FFFF, 0x7F80, "the largest float rounds to infinity"),
            (0x7F7F_7FFF, 0x7F7F, "the largest bf16 plus less than half a step"),
            (0x7F80_0000, 0x7F80, "+infinity"),
            (0xFF80_0000, 0xFF80, "-infinity"),
            (0x7FC0_0000, 0x7FC0, "the quiet NaN"),
            (0x7F80_0001, 0x7FC0, "a signalling NaN without upper payload is made quiet"),
            (0xFFA1_2345, 0xFFE1, "a negative signalling NaN keeps its sign and upper payload"),
            (0x7F81_FFFF, 0x7FC1, "a NaN is truncated, not rounded"),
            (0x0000_0001, 0x0000, "the smallest subnormal rounds to zero"),
            (0x0000_8000, 0x0000, "a subnormal tie, to the even zero"),
            (0x0001_8000, 0x0002, "a subnormal tie, to the even 2"),
            (0x007F_FFFF, 0x0080, "the largest subnormal rounds up to the smallest normal"),
            (0x8001_0000, 0x8001, "a negative subnormal bf16 exactly"),
        ]
        let x = cases.map { Float(bitPattern: $0.input) }
        var bits = [UInt16](repeating: 0, count: x.count)
        XCTAssertEqual(ck_q_quantize(30, x, 1, Int64(x.count), &bits), 0)
        for (index, entry) in cases.enumerated() {
            XCTAssertEqual(bits[index], entry.expected, "0x\(String(entry.input, radix: 16)) (\(entry.what)): got 0x\(String(bits[index], radix: 16))")
        }
        // Decoding is the exact widening.
        var decoded = [Float](repeating: 0, count: x.count)
        XCTAssertEqual(ck_q_dequantize(30, bits, 1, Int64(x.count), &decoded), 0)
        XCTAssertEqual(decoded.map(\.bitPattern), bits.map { UInt32($0) << 16 })
    }
}
