import JSON

/// The parsed and validated header of a safetensors file.
///
/// Layout: an 8-byte little-endian header length `N`, `N` bytes of UTF-8 JSON, then the data section.
/// Validation follows the reference Rust crate: the header is bounded, every entry's dtype, shape and
/// offsets agree, tensors do not overlap and together cover the data section exactly.
struct SafeTensorsHeader {
    /// Largest header accepted (100 MiB); a larger `N` is treated as a corrupt or hostile file.
    static let maximumLength = 100 * 1024 * 1024

    /// Tensors in header order.
    let entries: [(name: String, info: TensorInfo)]
    /// The optional `__metadata__` map.
    let metadata: [String: String]
    /// Byte offset of the data section from the start of the file (8 + N).
    let dataOffset: Int

    /// Parses and validates the header of `bytes`, the whole file named `path` (used in errors).
    /// - Throws: ``SafeTensorsError`` naming the file, tensor and field at fault.
    init(bytes: UnsafeRawBufferPointer, path: String) throws {
        guard bytes.count >= 8 else { throw SafeTensorsError.tooSmall(file: path, size: bytes.count) }
        let declared = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard declared <= UInt64(Self.maximumLength) else {
            throw SafeTensorsError.headerTooLarge(file: path, length: declared, limit: Self.maximumLength)
        }
        let length = Int(declared)
        guard 8 + length <= bytes.count else {
            throw SafeTensorsError.headerPastEnd(file: path, length: declared, fileSize: bytes.count)
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + length)])
        // Like the reference implementation, allow JSON whitespace before the object but nothing else.
        let firstSignificant = headerBytes.firstIndex { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        guard let firstSignificant, headerBytes[firstSignificant] == UInt8(ascii: "{") else {
            throw SafeTensorsError.invalidHeader(file: path, offset: 8 + (firstSignificant ?? 0),
                                                 reason: "header must be a JSON object starting with '{'")
        }
        let json: JSONValue
        do {
            let parsed = try JSONParser.parsePrefix(headerBytes, maximumDepth: JSONValue.headerMaximumDepth)
            json = parsed.value
            let end = parsed.end
            // The header is padded with spaces after the object; anything else after it is corruption.
            if let trailing = headerBytes[end...].firstIndex(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) {
                throw SafeTensorsError.invalidHeader(file: path, offset: 8 + trailing, reason: "unexpected trailing content")
            }
        } catch let error as JSONSyntaxError {
            throw SafeTensorsError.invalidHeader(file: path, offset: 8 + error.offset, reason: error.reason)
        }
        guard case let .object(members) = json else {
            throw SafeTensorsError.invalidHeader(file: path, offset: 8, reason: "header must be a JSON object, found \(json.headerTypeName)")
        }

        let dataSize = bytes.count - 8 - length
        var entries: [(name: String, info: TensorInfo)] = []
        var metadata: [String: String] = [:]
        for member in members {
            let name = member.key, value = member.value
            if name == "__metadata__" {
                metadata = try Self.parseMetadata(value, path: path)
            } else {
                entries.append((name, try Self.parseEntry(name: name, value: value, dataSize: dataSize, path: path)))
            }
        }
        try Self.checkCoverage(entries, dataSize: dataSize, path: path)
        self.entries = entries
        self.metadata = metadata
        self.dataOffset = 8 + length
    }

    private static func parseMetadata(_ value: JSONValue, path: String) throws -> [String: String] {
        if value == .null { return [:] }
        guard case let .object(members) = value else {
            throw SafeTensorsError.invalidEntry(
                file: path, tensor: "__metadata__", field: "__metadata__",
                reason: "must be an object of strings, found \(value.headerTypeName)")
        }
        var metadata: [String: String] = [:]
        for member in members {
            let key = member.key, item = member.value
            guard case let .string(text) = item else {
                throw SafeTensorsError.invalidEntry(
                    file: path, tensor: "__metadata__", field: key, reason: "must be a string, found \(item.headerTypeName)")
            }
            metadata[key] = text
        }
        return metadata
    }

    private static func parseEntry(name: String, value: JSONValue, dataSize: Int, path: String) throws -> TensorInfo {
        func fail(_ field: String, _ reason: String) -> SafeTensorsError {
            SafeTensorsError.invalidEntry(file: path, tensor: name, field: field, reason: reason)
        }
        guard case let .object(fields) = value else { throw fail("(entry)", "must be an object, found \(value.headerTypeName)") }
        func field(_ key: String) throws -> JSONValue {
            guard let found = fields.first(where: { $0.key == key }) else { throw fail(key, "missing") }
            return found.value
        }

        let dtypeValue = try field("dtype")
        guard case let .string(dtypeName) = dtypeValue else { throw fail("dtype", "must be a string, found \(dtypeValue.headerTypeName)") }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            let known = SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            throw fail("dtype", "unknown dtype \"\(dtypeName)\" (known: \(known))")
        }

        let shapeValue = try field("shape")
        guard case let .array(dimensions) = shapeValue else { throw fail("shape", "must be an array, found \(shapeValue.headerTypeName)") }
        var shape: [Int] = []
        var elementCount = 1
        for dimension in dimensions {
            guard let size = dimension.nonNegativeInteger else {
                throw fail("shape", "dimensions must be non-negative integers, found \(dimension.headerTypeName)")
            }
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: size)
            guard !overflow else { throw fail("shape", "element count overflows") }
            shape.append(size)
            elementCount = product
        }
        let (byteCount, overflow) = elementCount.multipliedReportingOverflow(by: dtype.size)
        guard !overflow else { throw fail("shape", "byte size overflows") }

        let offsetsValue = try field("data_offsets")
        guard case let .array(offsets) = offsetsValue, offsets.count == 2 else {
            throw fail("data_offsets", "must be an array [begin, end], found \(offsetsValue.headerTypeName)")
        }
        guard let begin = offsets[0].nonNegativeInteger, let end = offsets[1].nonNegativeInteger else {
            throw fail("data_offsets", "must be non-negative integers")
        }
        guard begin <= end else { throw fail("data_offsets", "begin \(begin) is after end \(end)") }
        guard end <= dataSize else {
            throw fail("data_offsets", "end \(end) is past the \(dataSize)-byte data section; the file is truncated")
        }
        guard end - begin == byteCount else {
            throw fail(
                "data_offsets",
                "spans \(end - begin) bytes but shape \(shape) of \(dtype.rawValue) needs \(byteCount)")
        }
        return TensorInfo(dtype: dtype, shape: shape, dataRange: begin..<end)
    }

    /// Requires the tensors to tile the data section exactly: no overlap, no gap, nothing trailing.
    private static func checkCoverage(_ entries: [(name: String, info: TensorInfo)], dataSize: Int, path: String) throws {
        let ordered = entries.sorted {
            ($0.info.dataRange.lowerBound, $0.info.dataRange.upperBound)
                < ($1.info.dataRange.lowerBound, $1.info.dataRange.upperBound)
        }
        var cursor = 0
        var previous: String?
        for (name, info) in ordered {
            if info.dataRange.lowerBound < cursor, let previous {
                throw SafeTensorsError.overlappingTensors(file: path, tensor: name, other: previous)
            }
            if info.dataRange.lowerBound > cursor {
                throw SafeTensorsError.uncoveredData(file: path, from: cursor, to: info.dataRange.lowerBound)
            }
            cursor = info.dataRange.upperBound
            previous = name
        }
        if cursor != dataSize { throw SafeTensorsError.uncoveredData(file: path, from: cursor, to: dataSize) }
    }
}
