import Foundation
import XCTest
@testable import SafeTensors

/// Writer → reader round trips and exhaustive checks of the 16-bit conversions.
final class SafeTensorsRoundTripTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testFloatDTypesRoundTrip() throws {
        let values: [Float] = [0, -0.0, 1, -2.5, 0.333251953125, 1024, -65504, 6.103515625e-05, 5.960464477539063e-08]
        var writer = SafeTensorsWriter()
        try writer.add("f32", shape: [3, 3], values: values)
        try writer.add("f16", shape: [9], values: values, as: .float16)
        try writer.add("bf16", shape: [9, 1], values: values, as: .bfloat16)
        try writer.add("f64", shape: [9], values: values, as: .float64)
        let url = directory.appendingPathComponent("floats.safetensors")
        try writer.write(to: url)

        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertEqual(file.names, ["bf16", "f16", "f32", "f64"], "data is laid out in sorted name order")
        XCTAssertEqual(try file.floats("f32").map(\.bitPattern), values.map(\.bitPattern))
        XCTAssertEqual(try file.floats("f64").map(\.bitPattern), values.map(\.bitPattern))
        XCTAssertEqual(try file.floats("f16").map(\.bitPattern), values.map(\.bitPattern), "all values are exact halves")
        XCTAssertEqual(try file.floats("bf16"), values.map { HalfPrecision.float(fromBFloat16: HalfPrecision.bfloat16(from: $0)) })
        XCTAssertEqual(try file.info("bf16"), TensorInfo(dtype: .bfloat16, shape: [9, 1], dataRange: 0..<18))
        for name in file.names { XCTAssertEqual(try file.weights(name), try file.floats(name), "float weights load as floats") }

        let bytes = try Data(contentsOf: url)
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(headerLength % 8, 0, "header padded to 8 bytes")
        XCTAssertEqual(bytes[8 + headerLength - 1], UInt8(ascii: " "), "padding is spaces")
    }

    func testIntegerAndBoolDTypesRoundTripThroughRawBytes() throws {
        var writer = SafeTensorsWriter(metadata: [:])
        func little<T: FixedWidthInteger>(_ values: [T]) -> Data {
            values.reduce(into: Data()) { data, value in withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        }
        try writer.add("i64", dtype: .int64, shape: [3], bytes: little([Int64(-5), 1 << 40, 7]))
        try writer.add("i32", dtype: .int32, shape: [2], bytes: little([Int32.min, 9]))
        try writer.add("i16", dtype: .int16, shape: [2], bytes: little([Int16(-300), 300]))
        try writer.add("i8", dtype: .int8, shape: [2], bytes: Data([0xFF, 0x05]))
        try writer.add("u8", dtype: .uint8, shape: [2], bytes: Data([0xFF, 0x05]))
        try writer.add("u16", dtype: .uint16, shape: [1], bytes: little([UInt16(65535)]))
        try writer.add("u32", dtype: .uint32, shape: [1], bytes: little([UInt32(70000)]))
        try writer.add("u64", dtype: .uint64, shape: [1], bytes: little([UInt64(1) << 33]))
        try writer.add("bool", dtype: .bool, shape: [3], bytes: Data([1, 0, 1]))
        try writer.add("f8", dtype: .float8E5M2, shape: [1], bytes: Data([0x3C]))
        let url = directory.appendingPathComponent("ints.safetensors")
        try writer.write(to: url)

        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.metadata, [:])
        XCTAssertEqual(try file.floats("i64"), [-5, 1_099_511_627_776, 7])
        XCTAssertEqual(try file.floats("i32"), [-2_147_483_648, 9])
        XCTAssertEqual(try file.floats("i16"), [-300, 300])
        XCTAssertEqual(try file.floats("i8"), [-1, 5])
        XCTAssertEqual(try file.floats("u8"), [255, 5])
        XCTAssertEqual(try file.floats("u16"), [65535])
        XCTAssertEqual(try file.floats("u32"), [70000])
        XCTAssertEqual(try file.floats("u64"), [8_589_934_592])
        XCTAssertEqual(try file.floats("bool"), [1, 0, 1])
        XCTAssertEqual(try file.data("f8"), Data([0x3C]))
        for name in writer.names { XCTAssertEqual(try file.data(name), writer.tensors[name]?.bytes, name) }
        // Where a model weight is expected, integers and booleans are refused, not converted.
        for name in ["i64", "i32", "i16", "i8", "u8", "u16", "u32", "u64", "bool"] {
            XCTAssertThrowsError(try file.weights(name)) { error in
                let dtype = (try? file.info(name).dtype.rawValue) ?? "?"
                XCTAssertEqual(error as? SafeTensorsError, .notFloatingPoint(file: url.path, tensor: name, dtype: dtype))
                XCTAssertTrue("\(error)".contains("tensor \"\(name)\" has dtype \(dtype), but a model weight must be floating-point"), "\(error)")
            }
        }
        XCTAssertThrowsError(try file.weights("f8")) { XCTAssertEqual($0 as? SafeTensorsError, .unsupportedDType(file: url.path, tensor: "f8", dtype: "F8_E5M2")) }
    }

    /// Other writers may not pad the header, leaving tensor data unaligned: the slow paths must agree.
    func testUnalignedDataConvertsLikeAligned() throws {
        let values: [Float] = [1.5, -2, 0.099609375, 65504, -0.0, 3]
        var writer = SafeTensorsWriter(metadata: [:])
        try writer.add("a32", shape: [6], values: values)
        try writer.add("b16", shape: [6], values: values, as: .bfloat16)
        try writer.add("c16", shape: [6], values: values, as: .float16)
        let aligned = directory.appendingPathComponent("aligned.safetensors")
        try writer.write(to: aligned)
        // Re-serialise with the header trimmed of its padding plus one extra space: odd length, odd data offset.
        let bytes = try Data(contentsOf: aligned)
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        var header = Data(bytes[8..<(8 + headerLength)])
        while header.last == UInt8(ascii: " ") { header.removeLast() }
        if header.count % 2 == 0 { header.append(UInt8(ascii: " ")) }
        var unalignedBytes = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { unalignedBytes.append(contentsOf: $0) }
        unalignedBytes.append(header)
        unalignedBytes.append(bytes[(8 + headerLength)...])
        let unaligned = directory.appendingPathComponent("unaligned.safetensors")
        try unalignedBytes.write(to: unaligned)

        let reference = try SafeTensorsFile(url: aligned)
        let file = try SafeTensorsFile(url: unaligned)
        XCTAssertEqual(file.dataOffset % 2, 1, "the test must exercise unaligned data")
        for name in ["a32", "b16", "c16"] {
            XCTAssertEqual(try file.floats(name).map(\.bitPattern), try reference.floats(name).map(\.bitPattern), name)
            XCTAssertEqual(try file.withFloats(name) { Array($0) }, try reference.floats(name), name)
        }
        XCTAssertEqual(try file.floats("a32"), values)
    }

    /// Byte layouts the reference Rust serializer produces (its own unit-test vectors): no spaces in the JSON,
    /// entry keys dtype/shape/data_offsets, `__metadata__` first, space padding to a multiple of 8.
    func testLayoutMatchesReferenceSerializer() throws {
        func serialized(_ writer: SafeTensorsWriter) throws -> [UInt8] {
            let url = directory.appendingPathComponent("layout-\(UUID().uuidString).safetensors")
            try writer.write(to: url)
            return Array(try Data(contentsOf: url))
        }
        func lengthPrefix(_ length: Int) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } }

        var one = SafeTensorsWriter(metadata: [:])
        try one.add("attn.0", shape: [1, 2, 3], values: [0, 1, 2, 3, 4, 5])
        let header = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}"
        let floats = [Float]([0, 1, 2, 3, 4, 5]).flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * $0)) } }
        XCTAssertEqual(try serialized(one), lengthPrefix(64) + Array(header.utf8) + floats)

        XCTAssertEqual(try serialized(SafeTensorsWriter(metadata: [:])), lengthPrefix(8) + Array("{}      ".utf8))
        let withMetadata = "{\"__metadata__\":{\"framework\":\"pt\"}}     "
        XCTAssertEqual(try serialized(SafeTensorsWriter(metadata: ["framework": "pt"])), lengthPrefix(40) + Array(withMetadata.utf8))
    }

    func testWriterRejectsDuplicateAndReservedNames() throws {
        var writer = SafeTensorsWriter()
        try writer.add("x", shape: [1], values: [1])
        XCTAssertThrowsError(try writer.add("x", shape: [1], values: [2])) { error in
            XCTAssertEqual("\(error)", "tensor \"x\": added twice; tensor names must be unique")
        }
        XCTAssertThrowsError(try writer.add("__metadata__", shape: [1], values: [2]))
    }

    func testWriteIsAtomicAndReportsMissingDirectory() throws {
        let url = directory.appendingPathComponent("missing/dir/out.safetensors")
        var writer = SafeTensorsWriter()
        try writer.add("x", shape: [], values: [1])
        XCTAssertThrowsError(try writer.write(to: url)) { error in
            guard case .writeFailed? = error as? SafeTensorsError else { return XCTFail("\(error)") }
        }
        // Overwriting an existing file replaces it whole and leaves no temporary files behind.
        let target = directory.appendingPathComponent("out.safetensors")
        try writer.write(to: target)
        try writer.add("y", shape: [2], values: [1, 2])
        try writer.write(to: target)
        XCTAssertEqual(try SafeTensorsFile(url: target).sortedNames, ["x", "y"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["out.safetensors"])
    }

    func testShardedWriterSplitsAndSingleShardWritesOneFile() throws {
        var sharded = ShardedSafeTensorsWriter(maximumShardSize: 100)
        try sharded.add("a", shape: [10], values: Array(repeating: 1, count: 10))  // 40 bytes
        try sharded.add("b", shape: [10], values: Array(repeating: 2, count: 10))  // 80 total
        try sharded.add("c", shape: [30], values: Array(repeating: 3, count: 30))  // 120 bytes > limit: own shard
        try sharded.add("d", shape: [1], values: [4])
        XCTAssertEqual(sharded.plan(), [["a", "b"], ["c"], ["d"]])
        let out = directory.appendingPathComponent("ckpt")
        try sharded.write(to: out)
        let checkpoint = try ShardedSafeTensors(directory: out)
        XCTAssertEqual(checkpoint.files.count, 3)
        XCTAssertEqual(checkpoint.totalSize, 204)
        XCTAssertEqual(try checkpoint.floats("c"), Array(repeating: 3, count: 30))
        XCTAssertEqual(try checkpoint.file(containing: "d").url.lastPathComponent, "model-00003-of-00003.safetensors")

        var single = ShardedSafeTensorsWriter()
        try single.add("w", shape: [2], values: [1, 2], as: .bfloat16)
        let singleOut = directory.appendingPathComponent("single")
        XCTAssertEqual(try single.write(to: singleOut).map(\.lastPathComponent), ["model.safetensors"])
        let reopened = try ShardedSafeTensors(directory: singleOut)
        XCTAssertNil(reopened.totalSize)
        XCTAssertEqual(try reopened.withFloats("w") { Array($0) }, [1, 2])
    }

    func testFloat16WideningIsExactForEveryBitPattern() {
        for bits in 0...UInt16.max {
            let value = HalfPrecision.float(fromFloat16: bits)
            let exponent = (bits >> 10) & 0x1F, mantissa = bits & 0x3FF
            let sign: Float = bits & 0x8000 == 0 ? 1 : -1
            let reference: Float
            switch exponent {
            case 0: reference = sign * Float(mantissa) * 0x1p-24
            case 31: reference = mantissa == 0 ? sign * .infinity : .nan
            default: reference = sign * (1 + Float(mantissa) / 1024) * Float(sign: .plus, exponent: Int(exponent) - 15, significand: 1)
            }
            if reference.isNaN {
                XCTAssertTrue(value.isNaN, "\(bits)")
                XCTAssertEqual(HalfPrecision.float16(from: value) & 0x8000, bits & 0x8000, "NaN keeps its sign")
            } else {
                XCTAssertEqual(value.bitPattern, reference.bitPattern, "half bits \(bits)")
                XCTAssertEqual(HalfPrecision.float16(from: value), bits, "round trip \(bits)")
            }
        }
    }

    func testBFloat16RoundsToNearestEvenAndKeepsNaN() {
        for bits in stride(from: 0, through: Int(UInt16.max), by: 1).map(UInt16.init) {
            let value = HalfPrecision.float(fromBFloat16: bits)
            if value.isNaN { XCTAssertTrue(HalfPrecision.float(fromBFloat16: HalfPrecision.bfloat16(from: value)).isNaN) }
            else { XCTAssertEqual(HalfPrecision.bfloat16(from: value), bits) }
        }
        XCTAssertEqual(HalfPrecision.bfloat16(from: Float(bitPattern: 0x3F80_8000)), 0x3F80, "tie rounds to even (down)")
        XCTAssertEqual(HalfPrecision.bfloat16(from: Float(bitPattern: 0x3F81_8000)), 0x3F82, "tie rounds to even (up)")
        XCTAssertEqual(HalfPrecision.bfloat16(from: Float(bitPattern: 0x3F80_8001)), 0x3F81)
        XCTAssertEqual(HalfPrecision.bfloat16(from: .greatestFiniteMagnitude), 0x7F80, "overflow rounds to infinity")
        XCTAssertEqual(HalfPrecision.bfloat16(from: Float(bitPattern: 0x7F80_0001)) & 0x7FC0, 0x7FC0, "signalling NaN is quieted, not turned into infinity")
        XCTAssertEqual(HalfPrecision.float16(from: 65520), 0x7C00, "half overflow rounds to infinity")
        XCTAssertEqual(HalfPrecision.float16(from: 0x1p-25), 0, "half-way below the smallest subnormal rounds to even (zero)")
        XCTAssertEqual(HalfPrecision.float16(from: 0x1.8p-24), 2, "1.5 ulp rounds to even (2)")
    }
}
