import Foundation
import XCTest
@testable import SafeTensors

/// Files written by the Python `safetensors`/`transformers` packages (Fixtures/make_fixtures.py) read exactly,
/// and files Charter writes are byte-stable (the same script verifies they load in Python).
final class SafeTensorsFixtureTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    struct Expected: Decodable {
        var dtype: String?
        var shape: [Int]?
        var bits: [UInt32]?
        var input: [UInt32]?
        var f16: [UInt16]?
        var bf16: [UInt16]?
    }

    func loadExpected(_ name: String) throws -> [String: Expected] {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent(name))
        return try JSONDecoder().decode([String: Expected].self, from: data)
    }

    func testReadsEveryDTypeWrittenByPython() throws {
        let file = try SafeTensorsFile(url: Self.fixtures.appendingPathComponent("dtypes.safetensors"))
        let expected = try loadExpected("dtypes.expected.json").filter { $0.key != "__rounding__" }
        XCTAssertEqual(file.metadata, ["format": "pt", "note": "fixture \"quoted\""])
        XCTAssertEqual(Set(file.names), Set(expected.keys))
        XCTAssertEqual(file.sortedNames, expected.keys.sorted())
        let torchNames: [String: SafeTensorsDType] = [
            "torch.float64": .float64, "torch.float32": .float32, "torch.float16": .float16, "torch.bfloat16": .bfloat16,
            "torch.int64": .int64, "torch.int32": .int32, "torch.int16": .int16, "torch.int8": .int8,
            "torch.uint8": .uint8, "torch.bool": .bool,
        ]
        for (name, reference) in expected {
            let info = try file.info(name)
            XCTAssertEqual(info.dtype, torchNames[reference.dtype ?? ""], name)
            XCTAssertEqual(info.shape, reference.shape, name)
            // NaN payloads differ between conversion routines (torch canonicalises half NaN); compare NaN-ness.
            func canonical(_ bits: [UInt32]) -> [UInt32] { bits.map { Float(bitPattern: $0).isNaN ? 0x7FC0_0000 : $0 } }
            let values = try file.floats(name)
            XCTAssertEqual(canonical(values.map(\.bitPattern)), canonical(reference.bits ?? []), "tensor \(name)")
            let viaFastPath = try file.withFloats(name) { Array($0) }
            XCTAssertEqual(canonical(viaFastPath.map(\.bitPattern)), canonical(reference.bits ?? []), "withFloats \(name)")
        }
        XCTAssertEqual(try file.info("scalar").shape, [])
        XCTAssertEqual(try file.floats("empty"), [])
    }

    func testZeroCopyFastPathPointsIntoTheMapping() throws {
        let file = try SafeTensorsFile(url: Self.fixtures.appendingPathComponent("dtypes.safetensors"))
        let raw = try file.withRawBytes("f32") { UInt(bitPattern: $0.baseAddress) }
        let viewed = try file.withFloats("f32") { UInt(bitPattern: $0.baseAddress) }
        XCTAssertEqual(raw, viewed, "aligned F32 must not be copied")
        XCTAssertEqual(try file.data("i8"), Data([0x80, 0x7F, 0x05]))
    }

    func testNarrowingMatchesTorchBitForBit() throws {
        let rounding = try XCTUnwrap(loadExpected("dtypes.expected.json")["__rounding__"])
        let inputs = try XCTUnwrap(rounding.input).map { Float(bitPattern: $0) }
        let references: [(String, (Float) -> UInt16, (UInt16) -> Float, [UInt16])] = [
            ("f16", HalfPrecision.float16(from:), HalfPrecision.float(fromFloat16:), try XCTUnwrap(rounding.f16)),
            ("bf16", HalfPrecision.bfloat16(from:), HalfPrecision.float(fromBFloat16:), try XCTUnwrap(rounding.bf16)),
        ]
        for (name, narrow, widen, expected) in references {
            XCTAssertEqual(expected.count, inputs.count)
            let mismatches = zip(inputs, expected).filter { input, reference in
                input.isNaN ? !widen(narrow(input)).isNaN : narrow(input) != reference
            }
            XCTAssertTrue(mismatches.isEmpty, "\(name): \(mismatches.count) mismatches, first: "
                + mismatches.prefix(5).map { "\(String($0.0.bitPattern, radix: 16)) -> \(String(narrow($0.0), radix: 16)) vs torch \(String($0.1, radix: 16))" }.joined(separator: ", "))
        }
    }

    func testFloat8IsAnUnsupportedDTypeOnAccess() throws {
        let url = Self.fixtures.appendingPathComponent("f8.safetensors")
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(try file.info("f8").dtype, .float8E4M3)
        XCTAssertEqual(try file.data("f8").count, 2)
        XCTAssertThrowsError(try file.floats("f8")) { error in
            XCTAssertEqual(error as? SafeTensorsError, .unsupportedDType(file: url.path, tensor: "f8", dtype: "F8_E4M3"))
            XCTAssertTrue("\(error)".contains("unsupported dtype F8_E4M3"))
        }
        XCTAssertThrowsError(try file.withFloats("f8") { _ in })
    }

    func testReadsTransformersShardedCheckpoint() throws {
        let checkpoint = try ShardedSafeTensors(directory: Self.fixtures.appendingPathComponent("sharded"))
        let expected = try loadExpected("sharded.expected.json")
        XCTAssertEqual(checkpoint.files.count, 2)
        XCTAssertEqual(checkpoint.names, expected.keys.sorted())
        XCTAssertEqual(checkpoint.totalSize, 31488)
        for (name, reference) in expected {
            XCTAssertEqual(try checkpoint.info(name).shape, reference.shape, name)
            XCTAssertEqual(try checkpoint.floats(name).map(\.bitPattern), reference.bits, name)
        }
        XCTAssertThrowsError(try checkpoint.floats("lm_head.weight"))
    }

    /// The recipe `make_fixtures.py --verify` checks in Python; keep the two in sync.
    static func charterWriter() throws -> SafeTensorsWriter {
        var writer = SafeTensorsWriter(metadata: ["format": "pt", "writer": "charter"])
        try writer.add("c", shape: [3, 2], values: [0, -0.0, 6.1e-5, 65504, 1e-7, -3], as: .float16)
        try writer.add("a", shape: [2, 3], values: (0..<6).map { Float($0) * 0.5 - 1 })
        try writer.add("b", shape: [6], values: [1, -2.5, 3.140625, 1e-3, .nan, 1e38], as: .bfloat16)
        return writer
    }

    static func charterShardedWriter() throws -> ShardedSafeTensorsWriter {
        var writer = ShardedSafeTensorsWriter(maximumShardSize: 400)
        for index in 0..<5 {
            try writer.add("layer.\(index).weight", shape: [4, 10], values: (0..<40).map { Float(index * 10 + $0) / 8 })
        }
        return writer
    }

    /// Charter's output is deterministic and byte-identical to the committed files Python verified.
    /// Set CHARTER_REGENERATE_FIXTURES=1 to rewrite them (then rerun `python3 make_fixtures.py --verify`).
    func testCharterWrittenFilesAreByteStable() throws {
        let regenerate = ProcessInfo.processInfo.environment["CHARTER_REGENERATE_FIXTURES"] != nil
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("charter-st-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: temporary) }
        let singleTarget = regenerate ? Self.fixtures.appendingPathComponent("charter-written.safetensors")
            : temporary.appendingPathComponent("charter-written.safetensors")
        let shardedTarget = regenerate ? Self.fixtures.appendingPathComponent("charter-sharded")
            : temporary.appendingPathComponent("charter-sharded")
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        try Self.charterWriter().write(to: singleTarget)
        let written = try Self.charterShardedWriter().write(to: shardedTarget)
        XCTAssertEqual(written.map(\.lastPathComponent), [
            "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
            "model-00003-of-00003.safetensors", "model.safetensors.index.json",
        ])
        guard !regenerate else { return }
        XCTAssertEqual(try Data(contentsOf: singleTarget),
                       try Data(contentsOf: Self.fixtures.appendingPathComponent("charter-written.safetensors")))
        for url in written {
            XCTAssertEqual(try Data(contentsOf: url),
                           try Data(contentsOf: Self.fixtures.appendingPathComponent("charter-sharded/\(url.lastPathComponent)")),
                           url.lastPathComponent)
        }
    }
}
