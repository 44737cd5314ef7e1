import Foundation
import XCTest
@testable import GGUF

/// Every supported ggml type decoded bit-exactly as the `gguf` package's `gguf.quants.dequantize` decodes it
/// (Fixtures/make_fixtures.py writes each tensor next to its expected float32 values), and every metadata value type.
final class GGUFDequantizationTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func testEveryTypeIsBitExactToTheGGUFPackage() throws {
        let file = try GGUFFile(url: Self.fixtures.appendingPathComponent("types.gguf"))
        for type in GGMLType.supported {
            let info = try XCTUnwrap(file.tensor(type.name), type.name)
            XCTAssertEqual(info.type, type)
            let expected = try file.floats(type.name + ".expected")
            XCTAssertEqual(file.tensor(type.name + ".expected")?.shape, info.shape, type.name)
            let actual = try file.floats(type.name)
            XCTAssertEqual(actual.count, expected.count, type.name)
            let mismatches = zip(actual, expected).enumerated().filter { $0.element.0.bitPattern != $0.element.1.bitPattern }
            XCTAssertTrue(mismatches.isEmpty, "\(type.name): \(mismatches.count) values differ, first at \(mismatches.first.map { "\($0.offset): \($0.element.0) vs \($0.element.1)" } ?? "")")
            // The quantized fixtures hold varied values, not one repeated number (a decoder reading the wrong bytes
            // would still have to match them all).
            XCTAssertGreaterThan(Set(expected.map(\.bitPattern)).count, expected.count / 8, type.name)
        }
    }

    func testMetadataOfEveryValueType() throws {
        let file = try GGUFFile(url: Self.fixtures.appendingPathComponent("types.gguf"))
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, 32)
        XCTAssertEqual(file.dataOffset % 32, 0)
        XCTAssertEqual(file["general.architecture"], .string("llama"))
        XCTAssertEqual(file["test.uint8"], .uint8(200))
        XCTAssertEqual(file["test.int8"], .int8(-100))
        XCTAssertEqual(file["test.uint16"], .uint16(60000))
        XCTAssertEqual(file["test.int16"], .int16(-30000))
        XCTAssertEqual(file["test.uint32"], .uint32(4_000_000_000))
        XCTAssertEqual(file["test.int32"], .int32(-2_000_000_000))
        XCTAssertEqual(file["test.float32"], .float32(0.1))
        XCTAssertEqual(file["test.uint64"], .uint64(1 << 63 + 5))
        XCTAssertEqual(file["test.int64"], .int64(-(1 << 62)))
        XCTAssertEqual(file["test.float64"], .float64(0.1))
        XCTAssertEqual(file["test.bool"], .bool(true))
        XCTAssertEqual(file["test.string"], .string("héllo ✓"))
        XCTAssertEqual(file["test.array"]?.arrayValue?.compactMap(\.intValue), [1, 2, 3])
        XCTAssertEqual(file["test.strings"], .array([.string("a"), .string("bc"), .string("")]))
        XCTAssertEqual(file["test.nested"]?.arrayValue?.map { $0.arrayValue?.compactMap(\.intValue) ?? [] }, [[1, 2], [3]])
        XCTAssertNil(file["test.absent"])
        // Shapes are ggml's dimensions reversed.
        XCTAssertEqual(file.tensor("Q4_K")?.dimensions, [512, 2])
        XCTAssertEqual(file.tensor("Q4_K")?.shape, [2, 512])
    }

    func testUnsupportedTypeIsNamed() throws {
        // A Q2_K tensor parses (its layout is known) but is refused when read, naming the tensor and the type.
        let bytes = GGUFBuilder(tensors: [.init(name: "w", dimensions: [256], typeID: 10, data: Data(count: 84))]).data
        let file = try GGUFFile(data: bytes)
        XCTAssertThrowsError(try file.floats("w")) { error in
            XCTAssertEqual(error as? GGUFError, .unsupportedTensorType(file: URL(fileURLWithPath: "memory.gguf").path, tensor: "w", type: "Q2_K"))
            XCTAssertTrue("\(error)".contains("re-quantise"), "\(error)")
        }
    }
}
