import Foundation
import JSON
import Runtime

/// Builds a safetensors file in memory and writes it atomically.
///
/// ```swift
/// var writer = SafeTensorsWriter(metadata: ["format": "pt"])
/// try writer.add("lm_head.weight", shape: [vocabularySize, hiddenSize], values: weights, as: .bfloat16)
/// try writer.write(to: outputURL)
/// ```
///
/// Output matches the reference implementation's layout: tensors in sorted name order, contiguous,
/// header padded with spaces to a multiple of 8 bytes so that the data section is 8-byte aligned.
public struct SafeTensorsWriter {
    /// The `__metadata__` map written into the header (omitted when empty).
    public var metadata: [String: String]
    /// Encoded tensors by name.
    private(set) var tensors: [String: (dtype: SafeTensorsDType, shape: [Int], bytes: Data)] = [:]

    /// Creates an empty writer.
    /// - Parameter metadata: Header metadata; transformers expects `["format": "pt"]`.
    public init(metadata: [String: String] = ["format": "pt"]) {
        self.metadata = metadata
    }

    /// Names of the tensors added so far, sorted.
    public var names: [String] { tensors.keys.sorted() }

    /// Total bytes of tensor data added so far.
    public var dataByteCount: Int { tensors.values.reduce(0) { $0 + $1.bytes.count } }

    /// Adds a tensor of `Float` values, stored as `dtype`.
    /// - Parameters:
    ///   - name: Tensor name; must be unique and not `__metadata__`.
    ///   - shape: Dimensions; their product must equal `values.count` (a programmer error otherwise).
    ///   - values: Row-major elements.
    ///   - dtype: `.float32`, `.bfloat16` or `.float16` (rounded to nearest even), or `.float64`.
    /// - Throws: ``SafeTensorsError/invalidName(tensor:reason:)`` for a duplicate or reserved name.
    public mutating func add(_ name: String, shape: [Int], values: [Float], as dtype: SafeTensorsDType = .float32) throws {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == values.count,
                     "tensor \"\(name)\": shape \(shape) does not hold \(values.count) values")
        try add(name, dtype: dtype, shape: shape, bytes: Self.encode(values, as: dtype))
    }

    /// Adds a tensor from raw little-endian bytes of any dtype (for integer tensors or re-serialising).
    /// - Throws: ``SafeTensorsError/invalidName(tensor:reason:)`` for a duplicate or reserved name.
    public mutating func add(_ name: String, dtype: SafeTensorsDType, shape: [Int], bytes: Data) throws {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) * dtype.size == bytes.count,
                     "tensor \"\(name)\": shape \(shape) of \(dtype.rawValue) does not match \(bytes.count) bytes")
        guard name != "__metadata__" else {
            throw SafeTensorsError.invalidName(tensor: name, reason: "\"__metadata__\" is reserved by the format")
        }
        guard tensors[name] == nil else {
            throw SafeTensorsError.invalidName(tensor: name, reason: "added twice; tensor names must be unique")
        }
        tensors[name] = (dtype, shape, bytes)
    }

    /// Encodes `values` as little-endian `dtype` elements.
    static func encode(_ values: [Float], as dtype: SafeTensorsDType) -> Data {
        switch dtype {
        case .float32:
            return values.withUnsafeBufferPointer { buffer in
                var data = Data(count: buffer.count * 4)
                data.withUnsafeMutableBytes { output in
                    for (index, value) in buffer.enumerated() {
                        output.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: index * 4, as: UInt32.self)
                    }
                }
                return data
            }
        case .bfloat16, .float16:
            let halves = [UInt16](unsafeUninitializedCapacity: values.count) { output, initialized in
                values.withUnsafeBufferPointer { input in
                    if dtype == .bfloat16 {
                        for index in 0..<input.count { output[index] = HalfPrecision.bfloat16(from: input[index]).littleEndian }
                    } else {
                        for index in 0..<input.count { output[index] = HalfPrecision.float16(from: input[index]).littleEndian }
                    }
                }
                initialized = values.count
            }
            return halves.withUnsafeBytes { Data($0) }
        case .float64:
            var data = Data(count: values.count * 8)
            data.withUnsafeMutableBytes { output in
                for (index, value) in values.enumerated() {
                    output.storeBytes(of: Double(value).bitPattern.littleEndian, toByteOffset: index * 8, as: UInt64.self)
                }
            }
            return data
        default:
            preconditionFailure("SafeTensorsWriter.add(_:shape:values:as:) writes F32, F16, BF16 or F64, not \(dtype.rawValue)")
        }
    }

    /// The serialised header: JSON padded with spaces so that `8 + length` is a multiple of 8.
    func headerBytes() -> Data {
        var json = "{"
        var first = true
        if !metadata.isEmpty {
            let members = metadata.keys.sorted().map { "\(JSONValue.quoted($0)):\(JSONValue.quoted(metadata[$0] ?? ""))" }
            json += "\"__metadata__\":{\(members.joined(separator: ","))}"
            first = false
        }
        var offset = 0
        for name in names {
            guard let tensor = tensors[name] else { continue }
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            if !first { json += "," }
            first = false
            json += "\(JSONValue.quoted(name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(offset),\(offset + tensor.bytes.count)]}"
            offset += tensor.bytes.count
        }
        json += "}"
        var header = Data(json.utf8)
        let padding = (8 - header.count % 8) % 8
        header.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: padding))
        return header
    }

    /// Writes the file atomically: to a temporary file in the same directory, then renamed over `url`.
    /// - Throws: ``SafeTensorsError/writeFailed(file:reason:)``.
    public func write(to url: URL) throws {
        let header = headerBytes()
        try AtomicFile.writeSafeTensors(to: url) { handle in
            var length = UInt64(header.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: header)
            for name in names {
                if let tensor = tensors[name] { try handle.write(contentsOf: tensor.bytes) }
            }
        }
    }
}
