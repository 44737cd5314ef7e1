import CKernels
import Foundation
import XCTest

private typealias Support = VectorTestSupport

/// Fused attention against a naive double-precision reference (explicit scores, mask, softmax).
final class AttentionKernelTests: XCTestCase {
    struct Shape {
        var B, Hq, Hkv, T, S, D: Int
        var causal: Bool
        var queryCount: Int { B * Hq * T * D }
        var keyCount: Int { B * Hkv * S * D }
    }

    /// Naive attention in double: q (B, Hq, T, D), k and v (B, Hkv, S, D) → out (B, Hq, T, D), lse (B, Hq, T).
    static func reference(_ shape: Shape, q: [Double], k: [Double], v: [Double], mask: [UInt8]?,
                          scale: Double) -> (out: [Double], lse: [Double]) {
        let (T, S, D) = (shape.T, shape.S, shape.D)
        let group = shape.Hq / shape.Hkv
        var out = [Double](repeating: 0, count: shape.queryCount), lse = [Double](repeating: 0, count: shape.B * shape.Hq * T)
        for b in 0..<shape.B {
            for h in 0..<shape.Hq {
                let kvBase = (b * shape.Hkv + h / group) * S * D
                for t in 0..<T {
                    let qBase = ((b * shape.Hq + h) * T + t) * D
                    var scores = [Double](repeating: -.infinity, count: S)
                    for j in 0..<S where (!shape.causal || j <= t + S - T) && (mask?[b * S + j] ?? 1) != 0 {
                        scores[j] = scale * (0..<D).reduce(0) { $0 + q[qBase + $1] * k[kvBase + j * D + $1] }
                    }
                    let max = scores.max()!
                    let row = (b * shape.Hq + h) * T + t
                    guard max > -.infinity else {
                        lse[row] = -.infinity
                        continue
                    }
                    let weights = scores.map { Foundation.exp($0 - max) }
                    let sum = weights.reduce(0, +)
                    lse[row] = max + Foundation.log(sum)
                    for j in 0..<S where weights[j] > 0 {
                        for d in 0..<D { out[qBase + d] += weights[j] / sum * v[kvBase + j * D + d] }
                    }
                }
            }
        }
        return (out, lse)
    }

    private struct Inputs {
        var q, k, v, dout: [Float]
        var mask: [UInt8]?
    }

    private func makeInputs(_ shape: Shape, masked: Bool, seed: UInt64) -> Inputs {
        var mask: [UInt8]? = nil
        if masked {
            // Key 0 of batch 0 is padding, so with a causal mask and S == T its query 0 sees nothing at all.
            var generator = Support.Generator(seed: seed)
            mask = (0..<(shape.B * shape.S)).map { _ in UInt8.random(in: 0...3, using: &generator) == 0 ? 0 : 1 }
            mask![0] = 0
        }
        return Inputs(q: Support.randomFloats(shape.queryCount, seed: seed), k: Support.randomFloats(shape.keyCount, seed: seed + 1),
                      v: Support.randomFloats(shape.keyCount, seed: seed + 2), dout: Support.randomFloats(shape.queryCount, seed: seed + 3),
                      mask: mask)
    }

    private func forward(_ shape: Shape, _ inputs: Inputs, scale: Float) -> (out: [Float], lse: [Float]) {
        var out = [Float](repeating: .nan, count: shape.queryCount), lse = [Float](repeating: .nan, count: shape.B * shape.Hq * shape.T)
        ck_attention_forward(Int64(shape.B), Int64(shape.Hq), Int64(shape.Hkv), Int64(shape.T), Int64(shape.S), Int64(shape.D),
                             inputs.q, inputs.k, inputs.v, scale, shape.causal ? 1 : 0, inputs.mask, nil, &out, &lse)
        return (out, lse)
    }

    private func backward(_ shape: Shape, _ inputs: Inputs, scale: Float, out: [Float], lse: [Float]) -> (dq: [Float], dk: [Float], dv: [Float]) {
        var dq = [Float](repeating: .nan, count: shape.queryCount)
        var dk = [Float](repeating: .nan, count: shape.keyCount), dv = dk
        ck_attention_backward(Int64(shape.B), Int64(shape.Hq), Int64(shape.Hkv), Int64(shape.T), Int64(shape.S), Int64(shape.D),
                              inputs.q, inputs.k, inputs.v, scale, shape.causal ? 1 : 0, inputs.mask, nil, out, lse, inputs.dout,
                              &dq, &dk, &dv)
        return (dq, dk, dv)
    }

    private let shapes: [Shape] = [
        Shape(B: 2, Hq: 2, Hkv: 2, T: 5, S: 5, D: 3, causal: true),     // MHA
        Shape(B: 1, Hq: 4, Hkv: 2, T: 7, S: 9, D: 8, causal: true),     // GQA, causal offset S > T
        Shape(B: 2, Hq: 4, Hkv: 1, T: 6, S: 6, D: 5, causal: true),     // multi-query
        Shape(B: 1, Hq: 4, Hkv: 2, T: 4, S: 11, D: 7, causal: false),
        Shape(B: 1, Hq: 4, Hkv: 1, T: 1, S: 9, D: 4, causal: true),     // decoding: one query sees every key
        Shape(B: 1, Hq: 2, Hkv: 1, T: 130, S: 133, D: 16, causal: true),  // several query tiles
    ]

    func testForwardMatchesNaiveReference() {
        for (index, shape) in shapes.enumerated() {
            for masked in [false, true] {
                let inputs = makeInputs(shape, masked: masked, seed: UInt64(100 * index))
                let scale = 1 / Float(shape.D).squareRoot()
                let expected = Self.reference(shape, q: inputs.q.map(Double.init), k: inputs.k.map(Double.init),
                                              v: inputs.v.map(Double.init), mask: inputs.mask, scale: Double(scale))
                Support.forEachConfiguration { label in
                    let name = "attention \(shape) masked=\(masked) \(label)"
                    let result = forward(shape, inputs, scale: scale)
                    Support.assertClose(result.out, expected.out, relative: 1e-5, absolute: 1e-5, "\(name) out")
                    for (actual, wanted) in zip(result.lse, expected.lse) where wanted == -.infinity {
                        XCTAssertEqual(actual, -.infinity, "\(name) fully masked lse")
                    }
                    Support.assertClose(result.lse.map { $0 == -.infinity ? 0 : $0 }, expected.lse.map { $0 == -.infinity ? 0 : $0 },
                                        relative: 1e-5, absolute: 1e-5, "\(name) lse")
                }
            }
        }
    }

    func testFullyMaskedRowGivesZeroOutputAndNoNaN() {
        let shape = Shape(B: 1, Hq: 2, Hkv: 1, T: 4, S: 4, D: 3, causal: true)
        var inputs = makeInputs(shape, masked: false, seed: 7)
        inputs.mask = [0, 0, 1, 1]  // queries 0 and 1 see only padding
        Support.forEachConfiguration { label in
            let result = forward(shape, inputs, scale: 0.5)
            let grads = backward(shape, inputs, scale: 0.5, out: result.out, lse: result.lse)
            for h in 0..<2 {
                for t in 0..<2 {
                    XCTAssertEqual(result.lse[h * 4 + t], -.infinity, label)
                    let row = (h * 4 + t) * 3
                    XCTAssertEqual(Array(result.out[row..<(row + 3)]), [0, 0, 0], label)
                    XCTAssertEqual(Array(grads.dq[row..<(row + 3)]), [0, 0, 0], label)
                }
            }
            // Padding keys receive no gradient; nothing anywhere is NaN.
            XCTAssertEqual(Array(grads.dk[0..<6]) + Array(grads.dv[0..<6]), [Float](repeating: 0, count: 12), label)
            for value in result.out + result.lse + grads.dq + grads.dk + grads.dv { XCTAssertFalse(value.isNaN, label) }
        }
    }

    func testGradientsMatchFiniteDifferences() {
        for (index, shape) in shapes.prefix(4).enumerated() {
            for masked in [false, true] {
                let inputs = makeInputs(shape, masked: masked, seed: UInt64(1000 + 10 * index))
                let scale = 1 / Float(shape.D).squareRoot()
                let q = inputs.q.map(Double.init), k = inputs.k.map(Double.init), v = inputs.v.map(Double.init)
                let dout = inputs.dout.map(Double.init)
                func loss(_ q: [Double], _ k: [Double], _ v: [Double]) -> Double {
                    let out = Self.reference(shape, q: q, k: k, v: v, mask: inputs.mask, scale: Double(scale)).out
                    return zip(out, dout).reduce(0) { $0 + $1.0 * $1.1 }
                }
                let expectedDq = Support.finiteDifferenceGradient(q) { loss($0, k, v) }
                let expectedDk = Support.finiteDifferenceGradient(k) { loss(q, $0, v) }
                let expectedDv = Support.finiteDifferenceGradient(v) { loss(q, k, $0) }
                Support.forEachConfiguration { label in
                    let name = "attention gradient \(shape) masked=\(masked) \(label)"
                    let result = forward(shape, inputs, scale: scale)
                    let grads = backward(shape, inputs, scale: scale, out: result.out, lse: result.lse)
                    Support.assertClose(grads.dq, expectedDq, relative: 1e-4, absolute: 2e-5, "\(name) dq")
                    Support.assertClose(grads.dk, expectedDk, relative: 1e-4, absolute: 2e-5, "\(name) dk")
                    Support.assertClose(grads.dv, expectedDv, relative: 1e-4, absolute: 2e-5, "\(name) dv")
                }
            }
        }
    }

    func testLargeShapeGradientsMatchAnalyticReference() {
        // Crosses several query tiles; the small-shape finite differences validate the formulas, here the
        // kernel is compared against them evaluated in double on the naive reference probabilities.
        let shape = Shape(B: 1, Hq: 2, Hkv: 1, T: 70, S: 75, D: 8, causal: true)
        let inputs = makeInputs(shape, masked: true, seed: 77)
        let scale: Float = 0.3
        let q = inputs.q.map(Double.init), k = inputs.k.map(Double.init), v = inputs.v.map(Double.init)
        let (out, lse) = Self.reference(shape, q: q, k: k, v: v, mask: inputs.mask, scale: Double(scale))
        var dq = [Double](repeating: 0, count: q.count), dk = [Double](repeating: 0, count: k.count), dv = dk
        let (T, S, D) = (shape.T, shape.S, shape.D)
        for h in 0..<shape.Hq {
            for t in 0..<T {
                let row = h * T + t
                guard lse[row] > -.infinity else { continue }
                let qBase = row * D
                let delta = (0..<D).reduce(0) { $0 + Double(inputs.dout[qBase + $1]) * out[qBase + $1] }
                for j in 0..<S where j <= t + S - T && inputs.mask![j] != 0 {
                    let score = Double(scale) * (0..<D).reduce(0) { $0 + q[qBase + $1] * k[j * D + $1] }
                    let p = Foundation.exp(score - lse[row])
                    let dp = (0..<D).reduce(0) { $0 + Double(inputs.dout[qBase + $1]) * v[j * D + $1] }
                    let ds = p * (dp - delta)
                    for d in 0..<D {
                        dv[j * D + d] += p * Double(inputs.dout[qBase + d])
                        dq[qBase + d] += Double(scale) * ds * k[j * D + d]
                        dk[j * D + d] += Double(scale) * ds * q[qBase + d]
                    }
                }
            }
        }
        Support.forEachConfiguration { label in
            let result = forward(shape, inputs, scale: scale)
            let grads = backward(shape, inputs, scale: scale, out: result.out, lse: result.lse)
            Support.assertClose(grads.dq, dq, relative: 1e-4, absolute: 1e-5, "dq \(label)")
            Support.assertClose(grads.dk, dk, relative: 1e-4, absolute: 1e-5, "dk \(label)")
            Support.assertClose(grads.dv, dv, relative: 1e-4, absolute: 1e-5, "dv \(label)")
        }
    }

    /// A packed row with segment starts gives each sequence exactly what it gets alone (out, lse, dq, dk, dv),
    /// with boundaries inside and at the edges of the 32-row query tiles, a one-token sequence and a padding mask.
    func testSegmentStartsEqualSeparateSequences() {
        let lengths = [5, 1, 31, 40, 2, 11]  // 90 rows: tiles [0, 32), [32, 64), [64, 90) each hold a boundary
        let T = lengths.reduce(0, +)
        let packedShape = Shape(B: 1, Hq: 4, Hkv: 2, T: T, S: T, D: 8, causal: true)
        var inputs = makeInputs(packedShape, masked: true, seed: 5)
        var starts: [Int32] = []
        for length in lengths {
            inputs.mask![starts.count] = 1  // every query sees at least its sequence's first key
            starts += [Int32](repeating: Int32(starts.count), count: length)
        }
        let scale: Float = 0.35
        // (h, t) rows of a (1, H, T, D) tensor, restricted to the segment [start, start + length).
        func slice(_ values: [Float], heads: Int, width: Int, start: Int, length: Int) -> [Float] {
            var result: [Float] = []
            for h in 0..<heads {
                let first: Int = (h * T + start) * width
                result += values[first..<(first + length * width)]
            }
            return result
        }
        Support.forEachConfiguration { label in
            var out = [Float](repeating: .nan, count: packedShape.queryCount), lse = [Float](repeating: .nan, count: 4 * T)
            ck_attention_forward(1, 4, 2, Int64(T), Int64(T), 8, inputs.q, inputs.k, inputs.v, scale, 1, inputs.mask, starts, &out, &lse)
            var dq = [Float](repeating: .nan, count: packedShape.queryCount)
            var dk = [Float](repeating: .nan, count: packedShape.keyCount), dv = dk
            ck_attention_backward(1, 4, 2, Int64(T), Int64(T), 8, inputs.q, inputs.k, inputs.v, scale, 1, inputs.mask, starts,
                                  out, lse, inputs.dout, &dq, &dk, &dv)
            var start = 0
            for length in lengths {
                let shape = Shape(B: 1, Hq: 4, Hkv: 2, T: length, S: length, D: 8, causal: true)
                let alone = Inputs(q: slice(inputs.q, heads: 4, width: 8, start: start, length: length),
                                   k: slice(inputs.k, heads: 2, width: 8, start: start, length: length),
                                   v: slice(inputs.v, heads: 2, width: 8, start: start, length: length),
                                   dout: slice(inputs.dout, heads: 4, width: 8, start: start, length: length),
                                   mask: Array(inputs.mask![start..<(start + length)]))
                let expected = forward(shape, alone, scale: scale)
                let grads = backward(shape, alone, scale: scale, out: expected.out, lse: expected.lse)
                let name = "segment at \(start) of \(length) \(label)"
                Support.assertClose(slice(out, heads: 4, width: 8, start: start, length: length), expected.out.map(Double.init), relative: 1e-5, absolute: 1e-6, "\(name) out")
                Support.assertClose(slice(lse, heads: 4, width: 1, start: start, length: length), expected.lse.map(Double.init), relative: 1e-5, absolute: 1e-6, "\(name) lse")
                Support.assertClose(slice(dq, heads: 4, width: 8, start: start, length: length), grads.dq.map(Double.init), relative: 1e-5, absolute: 1e-6, "\(name) dq")
                Support.assertClose(slice(dk, heads: 2, width: 8, start: start, length: length), grads.dk.map(Double.init), relative: 1e-5, absolute: 1e-6, "\(name) dk")
                Support.assertClose(slice(dv, heads: 2, width: 8, start: start, length: length), grads.dv.map(Double.init), relative: 1e-5, absolute: 1e-6, "\(name) dv")
                start += length
            }
        }
    }

    func testDeterministic() {
        let shape = Shape(B: 3, Hq: 4, Hkv: 2, T: 70, S: 75, D: 8, causal: true)  // several query tiles
        let inputs = makeInputs(shape, masked: true, seed: 99)
        var perConfiguration: [[Float]] = []
        Support.forEachConfiguration { label in
            let first = forward(shape, inputs, scale: 0.25), second = forward(shape, inputs, scale: 0.25)
            XCTAssertEqual(first.out, second.out, label)
            XCTAssertEqual(first.lse.map(\.bitPattern), second.lse.map(\.bitPattern), label)
            let g1 = backward(shape, inputs, scale: 0.25, out: first.out, lse: first.lse)
            let g2 = backward(shape, inputs, scale: 0.25, out: first.out, lse: first.lse)
            XCTAssertEqual(g1.dq + g1.dk + g1.dv, g2.dq + g2.dk + g2.dv, label)
            perConfiguration.append(first.out + g1.dq + g1.dk + g1.dv)
        }
        // Every unit of work runs on one thread in a fixed order, so 1 and 2 threads agree bit for bit too.
        for pair in stride(from: 0, to: perConfiguration.count, by: 2) {
            XCTAssertEqual(perConfiguration[pair], perConfiguration[pair + 1], "thread-count independence")
        }
    }

    /// ck_attention_forward_strided over keys and values of (B, Hkv, C, D) buffers, their first S positions filled.
    private func strided(_ shape: Shape, q: [Float], k: [Float], v: [Float], capacity C: Int, mask: [UInt8]?) -> (out: [Float], lse: [Float]) {
        var out = [Float](repeating: .nan, count: shape.queryCount), lse = [Float](repeating: .nan, count: shape.B * shape.Hq * shape.T)
        ck_attention_forward_strided(Int64(shape.B), Int64(shape.Hq), Int64(shape.Hkv), Int64(shape.T), Int64(shape.S), Int64(C),
                                     Int64(shape.D), q, k, v, 0.3, shape.causal ? 1 : 0, mask, nil, &out, &lse)
        return (out, lse)
    }

    /// A half-precision KV cache: attention over keys and values stored as IEEE halves has the bits of the float32
    /// attention over the same values widened — decoding (one query row: heads of a kv head in groups, the halves read
    /// as they are), a few rows (widened per kv head) and a prefill's transposed products — on every kernel path.
    func testHalfPrecisionKeysAndValuesGiveTheBitsOfTheirWidenedValues() {
        let shapes = [
            Shape(B: 2, Hq: 6, Hkv: 2, T: 1, S: 37, D: 64, causal: true),   // SmolLM2's heads: groups of 3
            Shape(B: 1, Hq: 10, Hkv: 2, T: 1, S: 9, D: 20, causal: true),   // groups of 5: 4 + 1; D not whole vectors
            Shape(B: 2, Hq: 4, Hkv: 4, T: 1, S: 5, D: 8, causal: true),     // one head per kv head
            Shape(B: 1, Hq: 4, Hkv: 2, T: 2, S: 11, D: 24, causal: true),   // a few rows: dot products
            Shape(B: 2, Hq: 4, Hkv: 1, T: 6, S: 13, D: 16, causal: true),   // transposed products
        ]
        for (index, shape) in shapes.enumerated() {
            let capacity = shape.S + 3
            let count = shape.B * shape.Hkv * capacity * shape.D
            let q = Support.randomFloats(shape.queryCount, seed: UInt64(500 + index))
            let k = Support.randomFloats(count, in: -3...3, seed: UInt64(600 + index)), v = Support.randomFloats(count, seed: UInt64(700 + index))
            var k16 = [UInt16](repeating: 0, count: count), v16 = k16
            ck_floats_to_halves(Int64(count), k, &k16)
            ck_floats_to_halves(Int64(count), v, &v16)
            var kWide = [Float](repeating: 0, count: count), vWide = kWide
            ck_halves_to_floats(Int64(count), k16, &kWide)
            ck_halves_to_floats(Int64(count), v16, &vWide)
            XCTAssertNotEqual(kWide, k, "the halves are rounded")
            for masked in [false, true] {
                var mask: [UInt8]? = nil
                if masked {
                    mask = (0..<(shape.B * shape.S)).map { $0 % 4 == 1 ? 0 : 1 }
                }
                Support.forEachConfiguration { label in
                    let name = "\(shape) masked=\(masked) \(label)"
                    let expected = strided(shape, q: q, k: kWide, v: vWide, capacity: capacity, mask: mask)
                    var out = [Float](repeating: .nan, count: shape.queryCount), lse = [Float](repeating: .nan, count: shape.B * shape.Hq * shape.T)
                    ck_attention_forward_strided_half(Int64(shape.B), Int64(shape.Hq), Int64(shape.Hkv), Int64(shape.T), Int64(shape.S),
                                                      Int64(capacity), Int64(shape.D), q, k16, v16, 0.3, 1, mask, nil, &out, &lse)
                    XCTAssertEqual(out.map(\.bitPattern), expected.out.map(\.bitPattern), name)
                    XCTAssertEqual(lse.map(\.bitPattern), expected.lse.map(\.bitPattern), name)
                }
            }
        }
    }

    /// A decoding step takes the query heads of a kv head together, reading each key and value row once; every head
    /// still gets the bits it gets alone: grouped-query heads equal the same heads with their kv head copied to each.
    func testDecodingHeadsTogetherGivesTheBitsOfOneHeadAtATime() {
        let grouped = Shape(B: 2, Hq: 12, Hkv: 2, T: 1, S: 29, D: 40, causal: true)  // groups of 6: 4 + 2
        let single = Shape(B: 2, Hq: 12, Hkv: 12, T: 1, S: 29, D: 40, causal: true)
        let inputs = makeInputs(grouped, masked: true, seed: 31)
        let copies = grouped.Hq / grouped.Hkv, block = grouped.S * grouped.D
        var k: [Float] = [], v: [Float] = []
        for b in 0..<grouped.B {
            for h in 0..<grouped.Hq {
                let base = (b * grouped.Hkv + h / copies) * block
                k += inputs.k[base..<(base + block)]
                v += inputs.v[base..<(base + block)]
            }
        }
        Support.forEachConfiguration { label in
            let together = forward(grouped, inputs, scale: 0.2)
            let alone = forward(single, Inputs(q: inputs.q, k: k, v: v, dout: inputs.dout, mask: inputs.mask), scale: 0.2)
            XCTAssertEqual(together.out.map(\.bitPattern), alone.out.map(\.bitPattern), label)
            XCTAssertEqual(together.lse.map(\.bitPattern), alone.lse.map(\.bitPattern), label)
        }
    }

    /// A decoding step's kernels (heads of a kv head together) compute what a query row of a multi-row call computes,
    /// bit for bit: one query against S keys equals the last row of two queries, which sees the same S keys.
    func testDecodingStepGivesTheBitsOfTheLastRowOfTwo() {
        for (index, one) in [Shape(B: 2, Hq: 6, Hkv: 2, T: 1, S: 37, D: 64, causal: true), Shape(B: 1, Hq: 10, Hkv: 2, T: 1, S: 9, D: 20, causal: true),
                             Shape(B: 1, Hq: 2, Hkv: 1, T: 1, S: 70, D: 32, causal: true)].enumerated() {
            var two = one
            two.T = 2
            let inputs = makeInputs(two, masked: index == 0, seed: UInt64(40 + index))
            // The decoding step's query for head h is row 1 of head h's two rows.
            func lastRow(_ x: [Float], head: Int) -> ArraySlice<Float> {
                let start = (head * 2 + 1) * one.D
                return x[start..<(start + one.D)]
            }
            let lastRows: [Float] = (0..<(one.B * one.Hq)).flatMap { lastRow(inputs.q, head: $0) }
            Support.forEachConfiguration { label in
                let step = forward(one, Inputs(q: lastRows, k: inputs.k, v: inputs.v, dout: [], mask: inputs.mask), scale: 0.2)
                let rows = forward(two, inputs, scale: 0.2)
                let expected: [Float] = (0..<(one.B * one.Hq)).flatMap { lastRow(rows.out, head: $0) }
                XCTAssertEqual(step.out.map(\.bitPattern), expected.map(\.bitPattern), "\(one) \(label)")
                XCTAssertEqual(step.lse.map(\.bitPattern), stride(from: 1, to: rows.lse.count, by: 2).map { rows.lse[$0].bitPattern }, "\(one) \(label)")
            }
        }
    }

    /// Float32 → half rounds to nearest, ties to even, overflowing to infinity, as numpy's float16 does; back is exact.
    func testHalfConversionsRoundToNearestEven() {
        let values: [Float] = [1, 1 + 0x1p-11, 1 + 0x1p-10 + 0x1p-11, 1 + 0x1p-12, -2.5, 65504, 65520, 0x1p-24, 0x1p-25, 0x1.8p-25, -0.0, .infinity]
        let expected: [UInt16] = [0x3C00, 0x3C00, 0x3C02, 0x3C00, 0xC100, 0x7BFF, 0x7C00, 0x0001, 0x0000, 0x0001, 0x8000, 0x7C00]
        // Eight more than the list, so the vector path (eight at a time) converts the list and a scalar tail too.
        let padded = values + values.prefix(8)
        var halves = [UInt16](repeating: 0, count: padded.count)
        ck_floats_to_halves(Int64(padded.count), padded, &halves)
        XCTAssertEqual(Array(halves.prefix(values.count)), expected)
        XCTAssertEqual(Array(halves.suffix(8)), Array(expected.prefix(8)))
        var back = [Float](repeating: .nan, count: halves.count)
        ck_halves_to_floats(Int64(halves.count), halves, &back)
        XCTAssertEqual(Array(back.prefix(values.count)).map(\.bitPattern),
                       ([1, 1, 1 + 0x1p-9, 1, -2.5, 65504, .infinity, 0x1p-24, 0, 0x1p-24, -0.0, .infinity] as [Float]).map(\.bitPattern))
    }
}
