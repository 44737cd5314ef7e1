/// A little-endian reader over a GGUF file's bytes that checks every read against the end of the file.
///
/// Every failure names the field being read and its byte offset, so a truncated or hostile file says where it
/// went wrong.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    let path: String
    /// Offset of the next byte to read.
    var offset = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    var remaining: Int { bytes.count - offset }

    func fail(_ field: String, at position: Int? = nil, _ reason: String) -> GGUFError {
        .invalidField(file: path, field: field, offset: position ?? offset, reason: reason)
    }

    /// Requires `count` more bytes for `field`.
    func need(_ count: Int, _ field: String) throws {
        guard count <= remaining else {
            throw fail(field, "needs \(count) bytes, only \(remaining) remain in the \(bytes.count)-byte file")
        }
    }

    mutating func read<T: FixedWidthInteger>(_ type: T.Type, _ field: String) throws -> T {
        try need(MemoryLayout<T>.size, field)
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        offset += MemoryLayout<T>.size
        return value
    }

    /// A count (u64) that must fit `Int` and leave at least `minimumElementBytes` bytes per element in the file,
    /// so nothing is allocated from a count the file cannot back.
    mutating func count(_ field: String, minimumElementBytes: Int) throws -> Int {
        let start = offset
        let raw = try read(UInt64.self, field)
        let limit = UInt64(remaining / max(minimumElementBytes, 1))
        guard raw <= limit else {
            throw fail(field, at: start, "count \(raw) needs at least \(raw)×\(minimumElementBytes) bytes, only \(remaining) remain")
        }
        return Int(raw)
    }

    /// A GGUF string: u64 length, then that many UTF-8 bytes.
    mutating func string(_ field: String) throws -> String {
        let start = offset
        let length = try count(field + " length", minimumElementBytes: 1)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw fail(field, at: start, "is not valid UTF-8")
        }
        offset += length
        return text
    }
}
