import Foundation
import Runtime
import XCTest
@testable import SafeTensors

/// Untrusted input: truncated, corrupted and hostile files must produce typed errors, never a crash.
final class SafeTensorsFuzzTests: XCTestCase {
    func validFile() throws -> Data {
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        try writer.add("embed.weight", shape: [4, 3], values: (0..<12).map(Float.init))
        try writer.add("norm.bias", shape: [3], values: [1, 2, 3], as: .bfloat16)
        try writer.add("norm.weight", shape: [3], values: [4, 5, 6], as: .float16)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try writer.write(to: url)
        return try Data(contentsOf: url)
    }

    /// Parses `bytes` as a whole file; when it is accepted, reads every tensor to prove accessors stay in bounds.
    @discardableResult
    func parse(_ bytes: Data) throws -> SafeTensorsHeader {
        try bytes.withUnsafeBytes { raw in
            let header = try SafeTensorsHeader(bytes: raw, path: "fuzz.safetensors")
            for (_, info) in header.entries where info.dtype.isConvertibleToFloat {
                let start = header.dataOffset + info.dataRange.lowerBound
                XCTAssertLessThanOrEqual(start + info.dataRange.count, raw.count)
                var output = [Float](repeating: 0, count: info.elementCount)
                output.withUnsafeMutableBufferPointer { buffer in
                    SafeTensorsFile.convert(UnsafeRawBufferPointer(rebasing: raw[start..<(start + info.dataRange.count)]),
                                            dtype: info.dtype, into: buffer)
                }
            }
            return header
        }
    }

    func testEveryTruncationIsAnError() throws {
        let valid = try validFile()
        XCTAssertNoThrow(try parse(valid))
        var generator = SplitMix64(seed: 1)
        let headerEnd = 8 + Int(valid[0]) + Int(valid[1]) << 8
        let offsets = Array(0..<(headerEnd + 8)) + (0..<200).map { _ in Int.random(in: 0..<valid.count, using: &generator) }
        for length in offsets {
            XCTAssertThrowsError(try parse(valid.prefix(length)), "truncated to \(length) bytes")
        }
    }

    func testRandomByteFlipsInTheHeaderNeverCrash() throws {
        let valid = try validFile()
        let headerEnd = 8 + Int(valid[0]) + Int(valid[1]) << 8
        var generator = SplitMix64(seed: 2)
        var rejected = 0
        for _ in 0..<3000 {
            var corrupt = valid
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                corrupt[Int.random(in: 0..<headerEnd, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            do { try parse(corrupt) } catch is SafeTensorsError { rejected += 1 }
        }
        XCTAssertGreaterThan(rejected, 2000, "most random corruptions must be detected")
    }

    /// A file with the given header text (unpadded) and data bytes.
    func file(_ header: String, data: Data = Data(), declaredLength: UInt64? = nil) -> Data {
        var bytes = Data()
        withUnsafeBytes(of: (declaredLength ?? UInt64(header.utf8.count)).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array(header.utf8))
        bytes.append(data)
        return bytes
    }

    func expectError(_ bytes: Data, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(bytes), file: file, line: line) { error in
            XCTAssertTrue(error is SafeTensorsError, "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(expected), "«\(error)» should contain «\(expected)»", file: file, line: line)
        }
    }

    func testHostileHeadersAreTypedErrors() {
        let four = Data(count: 4)
        func entry(_ dtype: String = "F32", shape: String = "[1]", offsets: String = "[0,4]") -> String {
            "{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
        }
        expectError(Data(), "too small")
        expectError(Data(count: 7), "too small")
        expectError(file("{}", declaredLength: .max), "exceeds the 104857600-byte limit")
        expectError(file("{}", declaredLength: 104_857_601), "exceeds")
        expectError(file("{}", declaredLength: 200), "runs past the end of the 10-byte file")
        expectError(file("[1,2]"), "invalid header at byte 8: header must be a JSON object starting with '{'")
        expectError(file("   "), "header must be a JSON object")
        expectError(file("{\"a\":"), "invalid header at byte 13: unexpected end of JSON")
        expectError(file("{\"a\":1} x"), "unexpected trailing content")
        expectError(file("{\"t\":\(entry()),\"t\":\(entry())}", data: four), "duplicate key \"t\"")
        expectError(file("{\"t\":\(entry(offsets: "[0,8]"))}", data: four), "field \"data_offsets\": end 8 is past the 4-byte data section")
        expectError(file("{\"t\":\(entry(offsets: "[4,0]"))}", data: four), "begin 4 is after end 0")
        expectError(file("{\"t\":\(entry(offsets: "[0,4,8]"))}", data: four), "must be an array [begin, end]")
        expectError(file("{\"t\":\(entry(offsets: "[-4,0]"))}", data: four), "non-negative integers")
        expectError(file("{\"t\":\(entry(shape: "[2]"))}", data: four), "spans 4 bytes but shape [2] of F32 needs 8")
        expectError(file("{\"t\":\(entry(shape: "[-1]"))}", data: four), "tensor \"t\": field \"shape\": dimensions must be non-negative integers, found number -1")
        expectError(file("{\"t\":\(entry(shape: "[1.5]"))}", data: four), "found number 1.5")
        expectError(file("{\"t\":\(entry(shape: "[99999999999999999999999]"))}", data: four), "dimensions must be non-negative")
        expectError(file("{\"t\":\(entry(shape: "[4294967296,4294967296]"))}", data: four), "element count overflows")
        expectError(file("{\"t\":\(entry(shape: "[2305843009213693952]"))}", data: four), "byte size overflows")
        expectError(file("{\"t\":\(entry(shape: "\"1\""))}", data: four), "field \"shape\": must be an array, found string")
        expectError(file("{\"t\":\(entry("Q7"))}", data: four), "field \"dtype\": unknown dtype \"Q7\"")
        expectError(file("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", data: four), "field \"data_offsets\": missing")
        expectError(file("{\"t\":[1]}", data: four), "must be an object, found array")
        expectError(file("{\"__metadata__\":{\"a\":1}}"), "tensor \"__metadata__\": field \"a\": must be a string, found number 1")
        expectError(file("{\"a\":\(entry(offsets: "[0,4]")),\"b\":\(entry(offsets: "[2,6]"))}", data: Data(count: 8)),
                    "tensor \"b\" overlaps tensor \"a\"")
        expectError(file("{\"a\":\(entry(offsets: "[4,8]"))}", data: Data(count: 8)), "data bytes 0..<4 belong to no tensor")
        expectError(file("{\"a\":\(entry())}", data: Data(count: 6)), "data bytes 4..<6 belong to no tensor")
        expectError(file("{\"t\\ud800\":1}"), "unpaired surrogate")
        expectError(file("{\"\u{1}\":1}"), "unescaped control character")
        expectError(file("{\"a\":" + String(repeating: "[", count: 10_000)), "nesting deeper than 64 levels")
        var invalidUTF8 = file("{\"xx\":1}")
        invalidUTF8[11] = 0xFF
        expectError(invalidUTF8, "not valid UTF-8")
    }

    func testEdgeCasesThatAreValid() throws {
        XCTAssertEqual(try parse(file("{}")).entries.count, 0)
        XCTAssertEqual(try parse(file("{}      ")).entries.count, 0)
        let header = try parse(file("{\"__metadata__\":{\"k\":\"\\u00e9\\ud83d\\ude00\"},\"z\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[0,0]}}"))
        XCTAssertEqual(header.metadata, ["k": "é😀"])
        XCTAssertEqual(header.entries.first?.info.shape, [0, 5])
    }

    func testOpeningHostileFilesThroughTheMappedReader() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try file("{}", declaredLength: 1 << 40).write(to: url)
        XCTAssertThrowsError(try SafeTensorsFile(url: url)) { error in
            XCTAssertTrue("\(error)".hasPrefix(url.path), "errors name the file: \(error)")
        }
        try Data().write(to: url)
        XCTAssertThrowsError(try SafeTensorsFile(url: url))
        XCTAssertThrowsError(try SafeTensorsFile(url: url.appendingPathExtension("missing"))) { error in
            guard case .unreadable? = error as? SafeTensorsError else { return XCTFail("\(error)") }
        }
    }

    func testShardedIndexErrorsNameIndexAndTensor() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shards-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var writer = ShardedSafeTensorsWriter(maximumShardSize: 8)
        try writer.add("a", shape: [2], values: [1, 2])
        try writer.add("b", shape: [2], values: [3, 4])
        try writer.write(to: directory)
        let index = directory.appendingPathComponent(ShardedSafeTensors.indexFileName)
        let original = try String(contentsOf: index, encoding: .utf8)

        try original.replacingOccurrences(of: "\"b\": \"model-00002", with: "\"b\": \"model-00001").write(to: index, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ShardedSafeTensors(directory: directory)) { error in
            XCTAssertEqual(error as? SafeTensorsError, .tensorMissingFromShard(index: index.path, tensor: "b", shard: "model-00001-of-00002.safetensors"))
        }
        try original.replacingOccurrences(of: "\"b\": \"model-00002-of-00002", with: "\"b\": \"gone").write(to: index, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ShardedSafeTensors(directory: directory)) { error in
            XCTAssertEqual(error as? SafeTensorsError, .missingShard(index: index.path, tensor: "b", shard: "gone.safetensors"))
        }
        try original.replacingOccurrences(of: "\"b\": \"model-00002", with: "\"b\": \"../model-00002").write(to: index, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ShardedSafeTensors(directory: directory)) { error in
            XCTAssertTrue("\(error)".contains("is not a plain file name"), "\(error)")
        }
        try "[]".write(to: index, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ShardedSafeTensors(directory: directory)) { error in
            XCTAssertEqual("\(error)", "\(index.path): invalid sharded-checkpoint index: must be a JSON object, found array")
        }
        try FileManager.default.removeItem(at: index)
        XCTAssertThrowsError(try ShardedSafeTensors(directory: directory)) { error in
            XCTAssertTrue("\(error)".contains("neither model.safetensors.index.json nor model.safetensors exists"))
        }
    }
}

/// Acceptance of malformed files agrees with the reference implementation (`safe_open`, recorded by
/// make_fixtures.py in Fixtures/hostile/python-accepts.json), with one deliberate difference.
final class SafeTensorsReferenceAgreementTests: XCTestCase {
    func testAcceptsExactlyWhatTheReferenceAccepts() throws {
        let directory = SafeTensorsFixtureTests.fixtures.appendingPathComponent("hostile")
        let verdicts = try JSONDecoder().decode([String: Bool].self,
                                                from: Data(contentsOf: directory.appendingPathComponent("python-accepts.json")))
        XCTAssertEqual(verdicts.count, 20)
        for (name, pythonAccepts) in verdicts.sorted(by: { $0.key < $1.key }) {
            let url = directory.appendingPathComponent("\(name).safetensors")
            var charterAccepts = true
            do { _ = try SafeTensorsFile(url: url) } catch is SafeTensorsError { charterAccepts = false }
            // Duplicate keys: the reference keeps the last entry silently; Charter refuses to guess.
            let expected = name == "duplicate-key" ? false : pythonAccepts
            XCTAssertEqual(charterAccepts, expected, name)
        }
    }
}
