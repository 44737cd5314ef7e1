import Foundation

/// Writes TensorBoard event files (`events.out.tfevents.*`) that TensorBoard's own reader loads: TFRecord framing
/// (length, masked CRC-32C of the length, payload, masked CRC-32C of the payload) around `Event` protocol buffers,
/// encoded here by hand — the three messages it needs are small:
///
/// ```
/// Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
/// Summary { repeated Value value = 1; }
/// Value   { string tag = 1; float simple_value = 2; }
/// ```
///
/// Scalars are written as transformers' `TensorBoardCallback` writes them (`add_scalar(tag, value, global_step)`).
public final class TensorBoardEvents {
    public let url: URL
    private let file: AppendOnlyFile

    /// Creates `directory` (when needed) and a new event file in it, starting with the `brain.Event:2` version record.
    /// - Throws: `RuntimeError` when the folder or file cannot be created.
    public init(directory: URL, now: Date = Date()) throws {
        let host = ProcessInfo.processInfo.hostName
        let name = "events.out.tfevents.\(Int(now.timeIntervalSince1970)).\(host).\(ProcessInfo.processInfo.processIdentifier).0"
        url = directory.appendingPathComponent(name)
        file = try AppendOnlyFile(url: url)
        try file.append(record: Self.record(Self.event(wallTime: now.timeIntervalSince1970, step: 0, fileVersion: "brain.Event:2")))
    }

    /// Appends one event holding `scalars` (tag → value) at `step`.
    public func write(scalars: [(tag: String, value: Float)], step: Int, wallTime: Date = Date()) throws {
        guard !scalars.isEmpty else { return }
        var summary = Data()
        for (tag, value) in scalars {
            var entry = Data()
            Self.appendBytes(field: 1, Data(tag.utf8), to: &entry)
            entry.append(0x15)  // field 2, fixed32
            withUnsafeBytes(of: value.bitPattern.littleEndian) { entry.append(contentsOf: $0) }
            Self.appendBytes(field: 1, entry, to: &summary)
        }
        try file.append(record: Self.record(Self.event(wallTime: wallTime.timeIntervalSince1970, step: step, summary: summary)))
    }

    /// transformers' `default_logdir()`: `runs/MonDD_HH-MM-SS_HOST` (local time, as Python's `datetime.now()`).
    public static func defaultDirectoryName(now: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "MMMdd_HH-mm-ss"
        return "runs/\(formatter.string(from: now))_\(ProcessInfo.processInfo.hostName)"
    }

    /// The scalars of an event file, in file order: what TensorBoard (or transformers' callback) logged.
    /// - Throws: `RuntimeError` naming the file when it cannot be read or a record is cut short.
    public static func scalars(in url: URL) throws -> [(step: Int, tag: String, value: Float)] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw RuntimeError(file: url.path, "cannot read (\(error.localizedDescription))") }
        let bytes = [UInt8](data)
        var found: [(step: Int, tag: String, value: Float)] = []
        var offset = 0
        while offset < bytes.count {
            guard offset + 12 <= bytes.count else { throw RuntimeError(file: url.path, "a record is cut short at byte \(offset)") }
            let length = bytes[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | Int($1) }
            let start = offset + 12, end = start + length
            guard length >= 0, end + 4 <= bytes.count else { throw RuntimeError(file: url.path, "a record is cut short at byte \(offset)") }
            var step = 0
            var values: [(String, Float)] = []
            for (field, value) in fields(bytes[start..<end]) {
                if field == 2, case let .varint(number) = value { step = Int(truncatingIfNeeded: number) }
                if field == 5, case let .bytes(summary) = value {
                    for (entryField, entry) in fields(summary) where entryField == 1 {
                        guard case let .bytes(entryBytes) = entry else { continue }
                        var tag: String?, number: Float?
                        for (valueField, item) in fields(entryBytes) {
                            if valueField == 1, case let .bytes(text) = item { tag = String(decoding: text, as: UTF8.self) }
                            if valueField == 2, case let .fixed32(bits) = item { number = Float(bitPattern: bits) }
                        }
                        if let tag, let number { values.append((tag, number)) }
                    }
                }
            }
            found += values.map { (step, $0.0, $0.1) }
            offset = end + 4
        }
        return found
    }

    /// A protocol-buffer field's value, by wire type.
    enum FieldValue {
        case varint(UInt64), fixed64(UInt64), bytes(ArraySlice<UInt8>), fixed32(UInt32)
    }

    /// The fields of one message (unknown wire types end the message).
    static func fields(_ bytes: ArraySlice<UInt8>) -> [(Int, FieldValue)] {
        var result: [(Int, FieldValue)] = []
        var index = bytes.startIndex
        func varint() -> UInt64? {
            var value: UInt64 = 0, shift: UInt64 = 0
            while index < bytes.endIndex, shift < 64 {
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        func fixed(_ count: Int) -> UInt64? {
            guard bytes.endIndex - index >= count else { return nil }
            defer { index += count }
            return bytes[index..<index + count].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        while index < bytes.endIndex, let key = varint() {
            let field = Int(key >> 3)
            switch key & 7 {
            case 0: guard let value = varint() else { return result }; result.append((field, .varint(value)))
            case 1: guard let value = fixed(8) else { return result }; result.append((field, .fixed64(value)))
            case 2:
                guard let length = varint(), UInt64(bytes.endIndex - index) >= length else { return result }
                result.append((field, .bytes(bytes[index..<index + Int(length)])))
                index += Int(length)
            case 5: guard let value = fixed(4) else { return result }; result.append((field, .fixed32(UInt32(value))))
            default: return result
            }
        }
        return result
    }

    // MARK: Encoding

    static func event(wallTime: Double, step: Int, fileVersion: String? = nil, summary: Data? = nil) -> Data {
        var data = Data([0x09])  // field 1, fixed64
        withUnsafeBytes(of: wallTime.bitPattern.littleEndian) { data.append(contentsOf: $0) }
        if step != 0 {  // proto3 leaves a zero out, as TensorBoard's writer does
            data.append(0x10)  // field 2, varint
            appendVarint(UInt64(bitPattern: Int64(step)), to: &data)
        }
        if let fileVersion { appendBytes(field: 3, Data(fileVersion.utf8), to: &data) }
        if let summary { appendBytes(field: 5, summary, to: &data) }
        return data
    }

    static func appendBytes(field: UInt64, _ bytes: Data, to data: inout Data) {
        appendVarint(field << 3 | 2, to: &data)
        appendVarint(UInt64(bytes.count), to: &data)
        data.append(bytes)
    }

    static func appendVarint(_ value: UInt64, to data: inout Data) {
        var value = value
        while value >= 0x80 {
            data.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        data.append(UInt8(value))
    }

    /// One TFRecord: u64 length, masked CRC-32C of those 8 bytes, the payload, masked CRC-32C of the payload.
    static func record(_ payload: Data) -> Data {
        var length = Data()
        withUnsafeBytes(of: UInt64(payload.count).littleEndian) { length.append(contentsOf: $0) }
        var out = length
        withUnsafeBytes(of: maskedCRC(length).littleEndian) { out.append(contentsOf: $0) }
        out.append(payload)
        withUnsafeBytes(of: maskedCRC(payload).littleEndian) { out.append(contentsOf: $0) }
        return out
    }

    /// TFRecord's masking of CRC-32C (rotate right by 15, add a constant), so that a CRC of data holding CRCs is safe.
    static func maskedCRC(_ data: Data) -> UInt32 {
        let crc = crc32c(data)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord uses.
    static func crc32c(_ data: Data) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    private static let crcTable: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0x82F6_3B78 : value >> 1 }
        return value
    }
}
