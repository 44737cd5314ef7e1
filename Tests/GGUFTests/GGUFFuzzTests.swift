import Foundation
import Runtime
import XCTest
@testable import GGUF

/// Untrusted input: truncated, corrupted and hostile GGUF files produce typed errors naming the field and its byte
/// offset, never a crash, an out-of-bounds read or an allocation sized from an unchecked count.
final class GGUFFuzzTests: XCTestCase {
    /// A small valid file: metadata of several types (an array of strings included) and three tensors.
    func validFile() -> Data {
        var builder = GGUFBuilder()
        builder.metadata = [
            ("general.architecture", 8, GGUFBuilder.string("llama")),
            ("general.alignment", 4, GGUFBuilder.le(UInt32(32))),
            ("tokenizer.ggml.tokens", 9, GGUFBuilder.le(UInt32(8)) + GGUFBuilder.le(UInt64(2)) + GGUFBuilder.string("a") + GGUFBuilder.string("bc")),
            ("test.float", 6, GGUFBuilder.le(Float(1.5).bitPattern)),
        ]
        var q8 = Data(count: 34)
        q8[0] = 0x00; q8[1] = 0x3C  // d = 1.0
        for i in 0..<32 { q8[2 + i] = UInt8(bitPattern: Int8(i - 16)) }
        builder.tensors = [
            .init(name: "a", dimensions: [4, 2], typeID: 0, data: Data((0..<8).flatMap { withUnsafeBytes(of: Float($0).bitPattern.littleEndian, Array.init) })),
            .init(name: "b", dimensions: [32], typeID: 8, data: q8),
            .init(name: "c", dimensions: [3], typeID: 1, data: Data([0x00, 0x3C, 0x00, 0x40, 0x00, 0xC0])),
        ]
        return builder.data
    }

    /// Parses `bytes`; when accepted, reads every supported tensor to prove the accessors stay in bounds.
    @discardableResult
    func parse(_ bytes: Data) throws -> GGUFFile {
        let file = try GGUFFile(data: bytes, url: URL(fileURLWithPath: "fuzz.gguf"))
        for tensor in file.tensors where tensor.type.isSupported {
            XCTAssertLessThanOrEqual(tensor.byteRange.upperBound, bytes.count)
            XCTAssertEqual(try file.floats(tensor.name).count, tensor.elementCount)
        }
        return file
    }

    func testTheValidFileReads() throws {
        let file = try parse(validFile())
        XCTAssertEqual(try file.floats("a"), (0..<8).map(Float.init))
        XCTAssertEqual(try file.floats("b"), (0..<32).map { Float($0 - 16) })
        XCTAssertEqual(try file.floats("c"), [1, 2, -2])
        XCTAssertEqual(file.tensor("a")?.shape, [2, 4])
        XCTAssertEqual(file["tokenizer.ggml.tokens"], .array([.string("a"), .string("bc")]))
    }

    func testEveryTruncationIsAnError() {
        let valid = validFile()
        for length in 0..<valid.count {
            XCTAssertThrowsError(try parse(valid.prefix(length)), "truncated to \(length) bytes") { error in
                XCTAssertTrue(error is GGUFError, "\(error)")
            }
        }
    }

    func testRandomByteFlipsNeverCrash() throws {
        let valid = validFile()
        let file = try parse(valid)
        var generator = SplitMix64(seed: 7)
        var rejected = 0
        for _ in 0..<4000 {
            var corrupt = valid
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                // Mostly the header (where every count, length, type and offset lives), sometimes the data.
                let limit = Bool.random(using: &generator) ? file.dataOffset : corrupt.count
                corrupt[Int.random(in: 0..<limit, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            do { try parse(corrupt) } catch is GGUFError { rejected += 1 }
        }
        XCTAssertGreaterThan(rejected, 1000, "most header corruptions must be detected")
    }

    func expectError(_ bytes: Data, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(bytes), file: file, line: line) { error in
            XCTAssertTrue(error is GGUFError, "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(expected), "«\(error)» should contain «\(expected)»", file: file, line: line)
        }
    }

    func testHostileHeadersAreTypedErrorsNamingTheField() {
        let header = Data("GGUF".utf8) + GGUFBuilder.le(UInt32(3))
        expectError(Data("GGML".utf8) + Data(count: 20), "not a GGUF file")
        expectError(Data("GGUF".utf8) + GGUFBuilder.le(UInt32(1)) + Data(count: 16), "version 1 is not supported")
        // Counts no file could back.
        expectError(header + GGUFBuilder.le(UInt64.max) + GGUFBuilder.le(UInt64(0)), "tensor count at byte 8: count 18446744073709551615")
        expectError(header + GGUFBuilder.le(UInt64(0)) + GGUFBuilder.le(UInt64(1) << 40), "metadata count at byte 16")
        // A key length past the end.
        expectError(header + GGUFBuilder.le(UInt64(0)) + GGUFBuilder.le(UInt64(1)) + GGUFBuilder.le(UInt64(1) << 50) + Data(count: 16),
                    "metadata key 0 length at byte 24")

        var builder = GGUFBuilder()
        builder.metadata = [("x", 13, Data(count: 8))]
        expectError(builder.data, "metadata \"x\" type at byte 33: unknown GGUF value type 13")
        builder.metadata = [("x", 9, GGUFBuilder.le(UInt32(99)) + GGUFBuilder.le(UInt64(1)))]
        expectError(builder.data, "unknown GGUF value type 99")
        builder.metadata = [("x", 9, GGUFBuilder.le(UInt32(0)) + GGUFBuilder.le(UInt64.max))]
        expectError(builder.data, "metadata \"x\" count")
        builder.metadata = [("x", 8, GGUFBuilder.le(UInt64(1) << 62))]
        expectError(builder.data, "metadata \"x\" length")
        builder.metadata = [("x", 8, GGUFBuilder.le(UInt64(2)) + Data([0xFF, 0xFE]))]
        expectError(builder.data, "is not valid UTF-8")
        builder.metadata = [("x", 7, Data([2]))]
        expectError(builder.data, "bool must be 0 or 1")
        builder.metadata = [("general.alignment", 4, GGUFBuilder.le(UInt32(24)))]
        expectError(builder.data, "general.alignment")
        builder.metadata = [("x", 0, Data([1])), ("x", 0, Data([2]))]
        expectError(builder.data, "appears twice")
        // Arrays nested past the limit.
        var nested = GGUFBuilder.le(UInt32(0)) + GGUFBuilder.le(UInt64(0))
        for _ in 0..<12 { nested = GGUFBuilder.le(UInt32(9)) + GGUFBuilder.le(UInt64(1)) + nested }
        builder.metadata = [("deep", 9, nested)]
        expectError(builder.data, "nested deeper than 8")

        builder.metadata = []
        builder.tensors = [.init(name: "w", dimensions: [4], typeID: 77, data: Data(count: 16))]
        expectError(builder.data, "tensor \"w\" type at byte")
        builder.tensors = [.init(name: "w", dimensions: [4, 1, 1, 1, 1], typeID: 0, data: Data(count: 16))]
        expectError(builder.data, "dimension count at byte 33: 5 exceeds ggml's 4")
        builder.tensors = [.init(name: "w", dimensions: [1 << 40, 1 << 40], typeID: 0, data: Data(count: 16))]
        expectError(builder.data, "element count overflows")
        builder.tensors = [.init(name: "w", dimensions: [1 << 31, 1 << 31], typeID: 0, data: Data(count: 16))]
        expectError(builder.data, "byte size overflows")
        builder.tensors = [.init(name: "w", dimensions: [40], typeID: 2, data: Data(count: 18))]
        expectError(builder.data, "row length 40 is not a multiple of Q4_0's block size 32")
        builder.tensors = [.init(name: "blk.0.ffn_down.weight", dimensions: [128, 2], typeID: 12, data: Data(count: 144))]
        expectError(builder.data, "tensor \"blk.0.ffn_down.weight\" dimension 0")
        expectError(builder.data, "row length 128 is not a multiple of Q4_K's block size 256")
        // Q6_K (210-byte superblocks) and Q5_K (176) likewise: a 300-wide row is refused by name, whatever the bytes.
        builder.tensors = [.init(name: "blk.1.ffn_down.weight", dimensions: [300, 1], typeID: 14, data: Data(count: 210))]
        expectError(builder.data, "tensor \"blk.1.ffn_down.weight\" dimension 0")
        expectError(builder.data, "row length 300 is not a multiple of Q6_K's block size 256")
        builder.tensors = [.init(name: "blk.1.attn_v.weight", dimensions: [64, 4], typeID: 13, data: Data(count: 176))]
        expectError(builder.data, "row length 64 is not a multiple of Q5_K's block size 256")
        // Q5_0 (22-byte blocks of 32) and Q5_1 (24), kept by --dtype stored: a 40-wide row is refused by name.
        builder.tensors = [.init(name: "blk.0.attn_q.weight", dimensions: [40, 1], typeID: 6, data: Data(count: 44))]
        expectError(builder.data, "row length 40 is not a multiple of Q5_0's block size 32")
        builder.tensors = [.init(name: "blk.0.ffn_down.weight", dimensions: [40, 1], typeID: 7, data: Data(count: 48))]
        expectError(builder.data, "tensor \"blk.0.ffn_down.weight\" dimension 0")
        expectError(builder.data, "row length 40 is not a multiple of Q5_1's block size 32")
        builder.tensors = [.init(name: "w", dimensions: [1 << 20], typeID: 0, data: Data(count: 16))]
        expectError(builder.data, "run past the end")
        builder.tensors = [.init(name: "w", dimensions: [4], typeID: 0, data: Data(count: 16), offset: UInt64.max - 31)]
        expectError(builder.data, "is past the end")
        builder.tensors = [.init(name: "w", dimensions: [4], typeID: 0, data: Data(count: 16), offset: 3)]
        expectError(builder.data, "not a multiple of the alignment 32")
        builder.tensors = [.init(name: "w", dimensions: [4], typeID: 0, data: Data(count: 64)),
                           .init(name: "v", dimensions: [4], typeID: 0, data: Data(), offset: 0)]
        expectError(builder.data, "overlap")
        builder.tensors = [.init(name: "w", dimensions: [4], typeID: 0, data: Data(count: 16)),
                           .init(name: "w", dimensions: [4], typeID: 0, data: Data(count: 16))]
        expectError(builder.data, "tensor \"w\" at byte")
    }

    /// A valid file whose array count claims more elements than the limit (but fits in the file as bytes) is
    /// refused before anything is allocated for it.
    func testArrayCountLimit() {
        var builder = GGUFBuilder()
        let count = GGUFFile.maximumArrayCount + 1
        builder.metadata = [("big", 9, GGUFBuilder.le(UInt32(0)) + GGUFBuilder.le(UInt64(count)) + Data(count: count))]
        expectError(builder.data, "exceed the limit")
    }
}
