import CKernels
import XCTest
@testable import Tensors

/// A KV cache's growable buffer: appends land after the filled positions whatever the capacity, and attention over
/// the buffer read in place gives the bits of attention over the concatenated keys and values.
final class SequenceBufferTests: XCTestCase {
    func bits(_ t: Tensor) -> [UInt32] { t.withUnsafeBufferPointer { $0.map(\.bitPattern) } }

    /// Steps of (B, H, T, D) appended with the given reservation; also returns their concatenation.
    func filled(steps: [Int], reserving: Int, batch: Int = 2, heads: Int = 3, headSize: Int = 8, seed: UInt64) -> (SequenceBuffer, Tensor) {
        let buffer = SequenceBuffer(batch: batch, heads: heads, headSize: headSize, capacity: 0)
        var parts: [Tensor] = []
        for (index, time) in steps.enumerated() {
            let part = randomTensor([batch, heads, time, headSize], seed: seed + UInt64(index))
            buffer.append(part, reserving: reserving)
            parts.append(part)
        }
        return (buffer, Tensor.concatenate(parts, axis: 2))
    }

    func testAppendsEqualConcatenationWhetherItGrowsOrNot() {
        for reserving in [0, 40] {  // doubling moves the storage several times; a reservation never moves it
            let (buffer, whole) = filled(steps: [11, 1, 1, 5, 1, 1, 1], reserving: reserving, seed: 3)
            XCTAssertEqual(buffer.length, 21)
            XCTAssertEqual(buffer.capacity, reserving == 0 ? 22 : 40, "doubling 11 → 22; the reservation is taken at once")
            XCTAssertEqual(bits(buffer.tensor()), bits(whole))
            XCTAssertEqual(bits(buffer.tensor(rows: 1..<2, positions: 7)), bits(whole.slice(axis: 0, 1..<2).slice(axis: 2, 0..<7)))
        }
    }

    func testSelectingRowsKeepsTheirPositions() {
        let (buffer, whole) = filled(steps: [4, 1], reserving: 9, batch: 3, seed: 5)
        let selected = buffer.selecting(rows: [2, 0])
        XCTAssertEqual(selected.length, 5)
        XCTAssertEqual(bits(selected.tensor()), bits(Tensor.concatenate([whole.slice(axis: 0, 2..<3), whole.slice(axis: 0, 0..<1)], axis: 0)))
        selected.append(randomTensor([2, 3, 1, 8], seed: 9))  // appending to the selection leaves the original alone
        XCTAssertEqual(bits(buffer.tensor()), bits(whole))
    }

    func testAFullBufferSharesItsTensorAndMovesBeforeWriting() {
        let tensor = randomTensor([1, 2, 6, 4], seed: 11), before = bits(tensor)
        let buffer = SequenceBuffer(tensor)
        XCTAssertEqual(buffer.capacity, 6)
        buffer.append(randomTensor([1, 2, 1, 4], seed: 12))
        XCTAssertEqual(bits(tensor), before, "the shared tensor is never written")
        XCTAssertEqual(bits(buffer.tensor(positions: 6)), before)
    }

    /// Grouped-query attention (6 query heads over 3 kv heads) of a prefill and of decoding steps: reading the
    /// buffers in place (capacity > length) gives the same bits as the attention over concatenated tensors.
    func testAttentionInPlaceEqualsAttentionOverTheConcatenation() {
        withoutGradients {
            for (steps, mask) in [([9, 1, 1], false), ([1, 1], false), ([12, 1], true)] {
                let (keys, allKeys) = filled(steps: steps, reserving: 64, seed: 20)
                let (values, allValues) = filled(steps: steps, reserving: 64, seed: 40)
                let time = steps.last!, length = keys.length
                let query = randomTensor([2, 6, time, 8], seed: 60)
                let keyMask: [UInt8]? = mask ? (0..<(2 * length)).map { $0 == 1 ? 0 : 1 } : nil  // row 0's position 1 is padding
                let inPlace = Tensor.scaledDotProductAttention(query: query, key: keys, value: values, causal: true, keyMask: keyMask)
                let reference = Tensor.scaledDotProductAttention(query: query, key: allKeys, value: allValues, causal: true, keyMask: keyMask)
                XCTAssertEqual(bits(inPlace), bits(reference), "steps \(steps), mask \(mask)")
            }
        }
    }

    func testWithGradientsItRecordsOnCopies() {
        let (keys, allKeys) = filled(steps: [5], reserving: 8, seed: 70)
        let (values, allValues) = filled(steps: [5], reserving: 8, seed: 80)
        let query = randomTensor([2, 3, 5, 8], seed: 90)
        query.requiresGrad = true
        let output = Tensor.scaledDotProductAttention(query: query, key: keys, value: values, causal: true)
        output.sum().backward()
        let gradient = query.grad!.copied()
        query.grad = nil
        Tensor.scaledDotProductAttention(query: query, key: allKeys, value: allValues, causal: true).sum().backward()
        XCTAssertEqual(bits(gradient), bits(query.grad!))
    }

    /// The values `x` becomes in a half-precision buffer: each rounded to the nearest half.
    func rounded(_ x: Tensor) -> Tensor {
        var halves = [UInt16](repeating: 0, count: x.count), back = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { ck_floats_to_halves(Int64(x.count), $0.baseAddress, &halves) }
        ck_halves_to_floats(Int64(x.count), halves, &back)
        return Tensor(shape: x.shape, scalars: back)
    }

    /// A half-precision buffer (`--kv-cache f16`) holds the appended values rounded to halves, through growth and
    /// selection, and attention over it gives the bits of float32 attention over those rounded values.
    func testHalfPrecisionBufferHoldsRoundedValuesAndAttendsOverThem() {
        withoutGradients {
            for reserving in [0, 40] {
                let keys = SequenceBuffer(batch: 2, heads: 3, headSize: 8, capacity: 0, precision: .float16)
                let values = SequenceBuffer(batch: 2, heads: 3, headSize: 8, capacity: 0, precision: .float16)
                var keyParts: [Tensor] = [], valueParts: [Tensor] = []
                for (index, time) in [11, 1, 1, 5, 1].enumerated() {
                    let k = randomTensor([2, 3, time, 8], seed: 100 + UInt64(index)), v = randomTensor([2, 3, time, 8], seed: 200 + UInt64(index))
                    keys.append(k, reserving: reserving)
                    values.append(v, reserving: reserving)
                    keyParts.append(rounded(k))
                    valueParts.append(rounded(v))
                    let query = randomTensor([2, 6, time, 8], seed: 300 + UInt64(index))
                    let inPlace = Tensor.scaledDotProductAttention(query: query, key: keys, value: values, causal: true)
                    let reference = Tensor.scaledDotProductAttention(query: query, key: Tensor.concatenate(keyParts, axis: 2),
                                                                     value: Tensor.concatenate(valueParts, axis: 2), causal: true)
                    XCTAssertEqual(bits(inPlace), bits(reference), "step \(index), reserving \(reserving)")
                }
                let whole = Tensor.concatenate(keyParts, axis: 2)
                XCTAssertEqual(keys.precision, .float16)
                XCTAssertEqual(bits(keys.tensor()), bits(whole))
                XCTAssertNotEqual(bits(keys.tensor()), bits(Tensor.concatenate((0..<5).map { randomTensor([2, 3, [11, 1, 1, 5, 1][$0], 8], seed: 100 + UInt64($0)) }, axis: 2)),
                                  "the values are rounded")
                let selected = keys.selecting(rows: [1])
                XCTAssertEqual(selected.precision, .float16)
                XCTAssertEqual(bits(selected.tensor()), bits(whole.slice(axis: 0, 1..<2)))
                XCTAssertEqual(bits(SequenceBuffer(whole, precision: .float16).tensor()), bits(whole), "rounded values stay as they are")
            }
        }
    }
}
