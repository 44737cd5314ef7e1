import CKernels
import Foundation
import Runtime
import XCTest

/// Decoding checked against values worked out from the block layouts here (`Tests/GGUFTests` checks the same decoder
/// against the `gguf` package): Q5_0 and Q5_1, which QuantizedKernelTests multiplies, and F32, which ck_q_dequantize
/// only decodes (GGUF files' F32 tensors widened at load): the kernels neither write nor multiply it.
final class DecodedOnlyFormatTests: XCTestCase {
    typealias Generator = SplitMix64

    /// `blocks` random Q5_0 (or, with `offset`, Q5_1) blocks and each element's exact value: d (and m) IEEE halves in
    /// [2^-10, 2^-2), then 4 bytes of fifth bits (bit j of the little-endian word: element j's), then 16 bytes whose
    /// low nibble is element j's low four bits and high nibble element j + 16's; x = d·(q − 16), or d·q + m.
    static func randomBlocks(_ blocks: Int, offset: Bool, _ generator: inout Generator) -> (bytes: [UInt8], values: [Double]) {
        var bytes: [UInt8] = [], values: [Double] = []
        for _ in 0..<blocks {
            let d = QuantizedKernelTests.randomHalf(&generator)
            let m = offset ? QuantizedKernelTests.randomHalf(&generator) : (bits: UInt16(0), value: 0.0)
            bytes += [UInt8(d.bits & 0xFF), UInt8(d.bits >> 8)]
            if offset { bytes += [UInt8(m.bits & 0xFF), UInt8(m.bits >> 8)] }
            let high = (0..<4).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let nibbles = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes += high + nibbles
            for element in 0..<32 {
                let low = element < 16 ? Int(nibbles[element] & 0x0F) : Int(nibbles[element - 16] >> 4)
                let fifth = Int(high[element / 8] >> UInt8(element % 8)) & 1
                let q = low | fifth << 4
                values.append(offset ? d.value * Double(q) + m.value : d.value * Double(q - 16))
            }
        }
        return (bytes, values)
    }

    /// Q5_0's d·(q − 16) is exact in float32 (an 11-bit half times a 5-bit integer); Q5_1's d·q is exact and its sum
    /// with m rounds once, as the double sum rounded to float does. So every element is its exact value, rounded.
    func testQ5BlocksDecodeToTheirValues() {
        var generator = Generator(seed: 51)
        for (type, offset) in [(Int32(6), false), (Int32(7), true)] {
            let (rows, columns) = (3, 64)
            let (bytes, values) = Self.randomBlocks(rows * columns / 32, offset: offset, &generator)
            var decoded = [Float](repeating: .nan, count: rows * columns)
            XCTAssertEqual(ck_q_dequantize(type, bytes, Int64(rows), Int64(columns), &decoded), 0)
            let expected = values.map { Float($0) }
            let differing = (0..<decoded.count).filter { decoded[$0].bitPattern != expected[$0].bitPattern }
            XCTAssertTrue(differing.isEmpty, "type \(type): \(differing.count) of \(decoded.count) differ, first "
                          + (differing.first.map { "\($0): \(decoded[$0]) vs \(expected[$0])" } ?? ""))
            // Varied values: a decoder reading the wrong bytes could not match them all.
            XCTAssertGreaterThan(Set(expected.map(\.bitPattern)).count, expected.count / 2)
        }
    }

    /// F32 is copied bit for bit, NaN payloads and the sign of zero included.
    func testF32DecodesToItsBits() {
        let bits: [UInt32] = [0x3F80_0000, 0x8000_0000, 0x7FA1_2345, 0xFFC0_0001, 0x0000_0001, 0x7F80_0000]
        var decoded = [Float](repeating: 0, count: bits.count)
        XCTAssertEqual(bits.withUnsafeBytes { ck_q_dequantize(0, $0.baseAddress, 2, 3, &decoded) }, 0)
        XCTAssertEqual(decoded.map(\.bitPattern), bits)
    }

    /// The table knows F32's "block" (one 4-byte element), but nothing quantizes to it and ck_qgemm refuses it on both
    /// of its paths (below 16 input rows the dot products, from 16 the decode-then-GEMM path), writing nothing.
    func testF32IsNeitherQuantizedNorMultiplied() {
        XCTAssertEqual(ck_q_block_size(0), 1)
        XCTAssertEqual(ck_q_block_bytes(0), 4)
        XCTAssertEqual(ck_q_has_quantizer(0), 0)
        var blocks = [UInt8](repeating: 9, count: 4 * 64)
        XCTAssertEqual(ck_q_quantize(0, [Float](repeating: 1, count: 64), 1, 64, &blocks), -1)
        XCTAssertEqual(Set(blocks), [9], "nothing is written on refusal")
        for M in [1, 4, 16, 20] {
            var y = [Float](repeating: 7, count: M)
            let x = [Float](repeating: 1, count: M * 64)
            XCTAssertEqual(ck_qgemm(0, Int64(M), 1, 64, x, 64, blocks, &y, 1), -1, "M = \(M)")
            XCTAssertEqual(y, [Float](repeating: 7, count: M), "M = \(M): nothing is written on refusal")
        }
        XCTAssertEqual([6, 7].map { ck_q_block_bytes($0) }, [22, 24], "Q5_0, Q5_1")
        // A row that is not whole blocks is refused by the decoder too.
        var y = [Float](repeating: 7, count: 48)
        XCTAssertEqual(ck_q_dequantize(6, [UInt8](repeating: 0, count: 44), 1, 48, &y), -1)
    }
}
