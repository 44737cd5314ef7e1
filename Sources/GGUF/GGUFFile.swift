import CKernels
import Foundation
import Runtime

/// A GGUF file (llama.cpp's model format), memory-mapped and validated when opened.
///
/// Layout (little-endian): "GGUF", version (u32, 2 or 3), tensor count (u64), metadata count (u64); the metadata
/// key-values; the tensor infos (name, dimension count, dimensions, ggml type, offset); padding to
/// `general.alignment` (default 32); the data section, where each tensor's offset is relative and aligned.
/// Every count, length and offset is checked against the file before it is used.
public final class GGUFFile: @unchecked Sendable {
    /// One tensor's info.
    public struct TensorInfo: Equatable, Sendable {
        public let name: String
        /// ggml's dimensions, fastest-varying first (`ne[0]` is a row's length).
        public let dimensions: [Int]
        public let type: GGMLType
        /// Byte range in the file.
        public let byteRange: Range<Int>

        /// The shape in PyTorch/numpy order (slowest first): `dimensions` reversed.
        public var shape: [Int] { dimensions.reversed() }
        public var elementCount: Int { dimensions.reduce(1, *) }
    }

    /// Largest metadata array accepted (a 256k-token vocabulary's tokens and merges fit many times over); a larger
    /// count is treated as hostile rather than expanded in memory.
    static let maximumArrayCount = 1 << 24
    /// Deepest nesting of arrays accepted (ggml's own reader allows arrays of arrays; nobody nests deeper).
    static let maximumNesting = 8
    /// ggml's `GGML_MAX_DIMS`.
    static let maximumDimensions = 4
    /// `GGUF_DEFAULT_ALIGNMENT`.
    static let defaultAlignment = 32

    public let url: URL
    public let version: UInt32
    /// Metadata in file order.
    public let metadata: [(key: String, value: GGUFValue)]
    /// Tensor infos in file order.
    public let tensors: [TensorInfo]
    /// The data section's offset in the file.
    public let dataOffset: Int
    /// `general.alignment`, or 32.
    public let alignment: Int
    private let file: MappedFile
    private let index: [String: Int]
    private let metadataIndex: [String: Int]

    /// Maps and validates `url`.
    /// - Throws: ``GGUFError`` naming the field at fault and its byte offset.
    public convenience init(url: URL) throws {
        let mapped: MappedFile
        do { mapped = try MappedFile(url: url) } catch { throw GGUFError.unreadable(file: url.path, reason: "\(error)") }
        try self.init(mapped: mapped, url: url)
    }

    /// Validates `data` (tests; `url` names it in errors).
    public convenience init(data: Data, url: URL = URL(fileURLWithPath: "memory.gguf")) throws {
        try self.init(mapped: MappedFile(data: data), url: url)
    }

    private init(mapped: MappedFile, url: URL) throws {
        var cursor = GGUFCursor(bytes: mapped.bytes, path: url.path)
        try cursor.need(4, "magic")
        guard cursor.bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self) == UInt32(littleEndian: 0x4655_4747) else {
            throw GGUFError.notGGUF(file: url.path)
        }
        cursor.offset = 4
        let version = try cursor.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(file: url.path, version: version) }
        // A tensor info takes at least 8 (name length) + 4 (dimension count) + 4 (type) + 8 (offset) bytes; a
        // key-value at least 8 (key length) + 4 (type) + 1.
        let tensorCount = try cursor.count("tensor count", minimumElementBytes: 24)
        let metadataCount = try cursor.count("metadata count", minimumElementBytes: 13)

        var metadata: [(key: String, value: GGUFValue)] = []
        var metadataIndex: [String: Int] = [:]
        for number in 0..<metadataCount {
            let start = cursor.offset
            let key = try cursor.string("metadata key \(number)")
            guard metadataIndex[key] == nil else { throw cursor.fail("metadata key \"\(key)\"", at: start, "appears twice") }
            let type = try cursor.read(UInt32.self, "metadata \"\(key)\" type")
            let value = try Self.value(type: type, cursor: &cursor, field: "metadata \"\(key)\"", depth: 0)
            metadataIndex[key] = metadata.count
            metadata.append((key, value))
        }

        var alignment = Self.defaultAlignment
        if let position = metadataIndex["general.alignment"] {
            guard case .uint32(let value) = metadata[position].value, value > 0, value & (value - 1) == 0, value <= 1 << 20 else {
                throw cursor.fail("metadata \"general.alignment\"", at: 0,
                                  "must be a uint32 power of two up to 1 MiB, found \(metadata[position].value)")
            }
            alignment = Int(value)
        }

        var infos: [(name: String, dimensions: [Int], type: GGMLType, offset: Int, byteCount: Int, position: Int)] = []
        var index: [String: Int] = [:]
        for number in 0..<tensorCount {
            let start = cursor.offset
            let name = try cursor.string("tensor \(number) name")
            guard index[name] == nil else { throw cursor.fail("tensor \"\(name)\"", at: start, "appears twice") }
            let field = "tensor \"\(name)\""
            let dimensionStart = cursor.offset
            let dimensionCount = try cursor.read(UInt32.self, field + " dimension count")
            guard dimensionCount <= Self.maximumDimensions else {
                throw cursor.fail(field + " dimension count", at: dimensionStart, "\(dimensionCount) exceeds ggml's \(Self.maximumDimensions)")
            }
            var dimensions: [Int] = []
            var elements = 1
            for axis in 0..<Int(dimensionCount) {
                let position = cursor.offset
                let raw = try cursor.read(UInt64.self, field + " dimension \(axis)")
                guard let size = Int(exactly: raw) else {
                    throw cursor.fail(field + " dimension \(axis)", at: position, "\(raw) is too large")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: size)
                guard !overflow else { throw cursor.fail(field + " dimensions", at: position, "element count overflows") }
                dimensions.append(size)
                elements = product
            }
            let typeStart = cursor.offset
            let typeID = try cursor.read(UInt32.self, field + " type")
            guard let type = GGMLType.withID(typeID) else {
                throw cursor.fail(field + " type", at: typeStart, "unknown ggml type id \(typeID)")
            }
            let rowLength = dimensions.first ?? 1
            if rowLength % type.blockSize != 0 {
                throw cursor.fail(field + " dimension 0", at: dimensionStart + 4,
                                  "row length \(rowLength) is not a multiple of \(type.name)'s block size \(type.blockSize)")
            }
            let (byteCount, overflow) = (elements / type.blockSize).multipliedReportingOverflow(by: type.blockBytes)
            guard !overflow else { throw cursor.fail(field + " dimensions", at: dimensionStart, "byte size overflows") }
            let offsetStart = cursor.offset
            let rawOffset = try cursor.read(UInt64.self, field + " offset")
            guard let offset = Int(exactly: rawOffset), offset <= mapped.count else {
                throw cursor.fail(field + " offset", at: offsetStart, "data offset \(rawOffset) is past the end of the \(mapped.count)-byte file")
            }
            guard offset % alignment == 0 else {
                throw cursor.fail(field + " offset", at: offsetStart, "\(rawOffset) is not a multiple of the alignment \(alignment)")
            }
            index[name] = infos.count
            infos.append((name, dimensions, type, offset, byteCount, offsetStart))
        }

        let (padded, _) = cursor.offset.addingReportingOverflow((alignment - cursor.offset % alignment) % alignment)
        let dataOffset = padded
        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(infos.count)
        for info in infos {
            let (start, overflowStart) = dataOffset.addingReportingOverflow(info.offset)
            let (end, overflowEnd) = start.addingReportingOverflow(info.byteCount)
            guard !overflowStart, !overflowEnd, end <= mapped.count else {
                throw cursor.fail("tensor \"\(info.name)\" offset", at: info.position,
                                  "its \(info.byteCount) bytes at data offset \(info.offset) run past the end of the \(mapped.count)-byte file")
            }
            tensors.append(TensorInfo(name: info.name, dimensions: info.dimensions, type: info.type, byteRange: start..<end))
        }
        try Self.checkOverlap(tensors, cursor: cursor, positions: infos.map(\.position))

        self.url = url
        self.version = version
        self.metadata = metadata
        self.metadataIndex = metadataIndex
        self.tensors = tensors
        self.index = index
        self.alignment = alignment
        self.dataOffset = dataOffset
        self.file = mapped
    }

    /// Reads one value of GGUF type `type`.
    private static func value(type: UInt32, cursor: inout GGUFCursor, field: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try cursor.read(UInt8.self, field))
        case 1: return .int8(try cursor.read(Int8.self, field))
        case 2: return .uint16(try cursor.read(UInt16.self, field))
        case 3: return .int16(try cursor.read(Int16.self, field))
        case 4: return .uint32(try cursor.read(UInt32.self, field))
        case 5: return .int32(try cursor.read(Int32.self, field))
        case 6: return .float32(Float(bitPattern: try cursor.read(UInt32.self, field)))
        case 7:
            let position = cursor.offset
            let byte = try cursor.read(UInt8.self, field)
            guard byte <= 1 else { throw cursor.fail(field, at: position, "bool must be 0 or 1, found \(byte)") }
            return .bool(byte == 1)
        case 8: return .string(try cursor.string(field))
        case 9:
            let position = cursor.offset
            guard depth < maximumNesting else { throw cursor.fail(field, at: position, "arrays nested deeper than \(maximumNesting)") }
            let elementType = try cursor.read(UInt32.self, field + " element type")
            guard let size = minimumBytes(elementType) else {
                throw cursor.fail(field + " element type", at: position, "unknown GGUF value type \(elementType)")
            }
            let countPosition = cursor.offset
            let count = try cursor.count(field + " count", minimumElementBytes: size)
            guard count <= maximumArrayCount else {
                throw cursor.fail(field + " count", at: countPosition, "\(count) elements exceed the limit of \(maximumArrayCount)")
            }
            var values: [GGUFValue] = []
            values.reserveCapacity(count)
            for element in 0..<count {
                values.append(try value(type: elementType, cursor: &cursor, field: "\(field)[\(element)]", depth: depth + 1))
            }
            return .array(values)
        case 10: return .uint64(try cursor.read(UInt64.self, field))
        case 11: return .int64(try cursor.read(Int64.self, field))
        case 12: return .float64(Double(bitPattern: try cursor.read(UInt64.self, field)))
        default:
            throw cursor.fail(field + " type", at: cursor.offset - 4, "unknown GGUF value type \(type)")
        }
    }

    /// The fewest bytes one value of GGUF type `type` occupies, or nil for an unknown type.
    private static func minimumBytes(_ type: UInt32) -> Int? {
        switch type {
        case 0, 1, 7: return 1
        case 2, 3: return 2
        case 4, 5, 6: return 4
        case 8, 10, 11, 12: return 8
        case 9: return 12
        default: return nil
        }
    }

    /// Requires tensors not to share bytes (a hostile file could alias one tensor's data into another's).
    private static func checkOverlap(_ tensors: [TensorInfo], cursor: GGUFCursor, positions: [Int]) throws {
        let order = tensors.indices.sorted { tensors[$0].byteRange.lowerBound < tensors[$1].byteRange.lowerBound }
        for (previous, next) in zip(order, order.dropFirst()) where tensors[next].byteRange.lowerBound < tensors[previous].byteRange.upperBound {
            throw cursor.fail("tensor \"\(tensors[next].name)\" offset", at: positions[next],
                              "its bytes overlap tensor \"\(tensors[previous].name)\"")
        }
    }

    // MARK: - Access

    /// The metadata value of `key`, or nil.
    public subscript(key: String) -> GGUFValue? { metadataIndex[key].map { metadata[$0].value } }

    /// The info of tensor `name`, or nil.
    public func tensor(_ name: String) -> TensorInfo? { index[name].map { tensors[$0] } }

    /// Whether a tensor of that name exists.
    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// Tensor `name` dequantised to float32, in row-major order of ``TensorInfo/shape``: ggml's `dequantize_row_*`
    /// bit for bit (the quantized kernels' decoder, `ck_q_dequantize`). The stored blocks' pages are then released
    /// from the resident set, so a loader holds the tensor once.
    /// - Throws: ``GGUFError`` when the tensor is absent or its type has no dequantiser.
    public func floats(_ name: String) throws -> [Float] {
        guard let info = tensor(name) else { throw GGUFError.tensorNotFound(file: url.path, tensor: name) }
        guard info.type.isSupported else {
            throw GGUFError.unsupportedTensorType(file: url.path, tensor: name, type: info.type.name)
        }
        let bytes = UnsafeRawBufferPointer(rebasing: file.bytes[info.byteRange])
        let type = info.type, count = info.elementCount, id = Int32(type.id)
        // Opening the file checked that the rows are whole blocks and that the byte range holds exactly their bytes;
        // the decoder reads as many bytes as its own table says, so the two tables must agree.
        precondition(count % type.blockSize == 0 && bytes.count == count / type.blockSize * type.blockBytes
                     && Int(ck_q_block_size(id)) == type.blockSize && Int(ck_q_block_bytes(id)) == type.blockBytes,
                     "\(url.path): tensor \"\(name)\": \(bytes.count) bytes of \(type.name) do not hold \(count) elements as the decoder reads them")
        guard count > 0 else { return [] }
        let values = [Float](unsafeUninitializedCapacity: count) { output, initialized in
            let status = ck_q_dequantize(id, bytes.baseAddress, 1, Int64(count), output.baseAddress)
            precondition(status == 0, "\(url.path): tensor \"\(name)\": ck_q_dequantize refused \(type.name)")
            initialized = count
        }
        // The caller keeps the floats: the stored blocks need not stay resident beside them.
        file.releasePages(info.byteRange)
        return values
    }

    /// Lets tensor `name`'s stored bytes leave the resident set (``MappedFile/releasePages(_:)``) once a copy of them
    /// is made; they read back unchanged from the file if used again.
    public func releasePages(of name: String) {
        if let info = tensor(name) { file.releasePages(info.byteRange) }
    }

    /// Calls `body` with tensor `name`'s bytes as stored (its blocks, row after row), without copying them.
    /// - Throws: ``GGUFError/tensorNotFound(file:tensor:)`` when absent.
    public func withBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let info = tensor(name) else { throw GGUFError.tensorNotFound(file: url.path, tensor: name) }
        return try body(UnsafeRawBufferPointer(rebasing: file.bytes[info.byteRange]))
    }
}
