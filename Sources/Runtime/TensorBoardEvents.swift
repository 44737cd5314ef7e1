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
