import Foundation

/// One-call gzip compression and decompression (the gzip framing in Swift, DEFLATE by the system zlib).
///
/// ```swift
/// let text = try Gzip.decompress(try Data(contentsOf: url), name: url.path)
/// let packed = Gzip.compress(Data("hello".utf8))
/// ```
/// For large inputs prefer the streaming ``GzipDecoder``, ``LineReader`` and ``GzipWriter``.
public enum Gzip {
    /// The two magic bytes every gzip member starts with.
    public static let magic: [UInt8] = [0x1F, 0x8B]

    /// Whether `data` starts with the gzip magic bytes.
    public static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B
    }

    /// Decompresses all members of gzip `data`.
    /// - Parameters:
    ///   - data: A complete gzip stream (one or more members).
    ///   - name: Labels errors (e.g. the file path).
    ///   - limits: Bounds the output (a gzip bomb is an error).
    /// - Throws: ``GzipError`` for corrupt, truncated or non-gzip input, or output beyond the limits.
    public static func decompress(_ data: Data, name: String = "<data>", limits: InputLimits = InputLimits()) throws -> Data {
        let decoder = GzipDecoder(data: data, name: name, limits: limits)
        var output = Data()
        while try decoder.withNextChunk({ output.append(contentsOf: $0) }) != nil {}
        return output
    }

    /// Decompresses the gzip file at `url`; nil `limits`: the defaults with the environment's overrides.
    /// - Throws: ``GzipError``.
    public static func decompress(contentsOf url: URL, limits: InputLimits? = nil) throws -> Data {
        let decoder = try GzipDecoder(url: url, limits: limits)
        var output = Data()
        while try decoder.withNextChunk({ output.append(contentsOf: $0) }) != nil {}
        return output
    }

    /// Compresses `data` into a single gzip member.
    /// - Parameters:
    ///   - level: ``Deflater/Level/default`` (zlib level 6, as `gzip`), ``Deflater/Level/fast`` (level 1) or
    ///     ``Deflater/Level/stored`` (no compression).
    ///   - fileName: Optional FNAME header field.
    public static func compress(_ data: Data, level: Deflater.Level = .default, fileName: String? = nil) -> Data {
        var output = Data()
        output.append(contentsOf: memberHeader(fileName: fileName))
        let deflater = Deflater(level: level)
        data.withUnsafeBytes { deflater.compress($0, isFinal: true) }
        output.append(deflater.takeOutput())
        var crc = CRC32()
        data.withUnsafeBytes { crc.update($0) }
        output.append(contentsOf: trailer(crc: crc.value, size: UInt32(truncatingIfNeeded: data.count)))
        return output
    }

    /// A member header: magic, CM=8, FLG (FNAME if given), MTIME=0 (reproducible output), XFL=0, OS=255 (unknown).
    static func memberHeader(fileName: String?) -> [UInt8] {
        var header: [UInt8] = [0x1F, 0x8B, 8, fileName == nil ? 0 : 0x08, 0, 0, 0, 0, 0, 255]
        if let fileName {
            // ISO 8859-1 per RFC 1952; characters outside it become '?', NUL is dropped.
            header += fileName.unicodeScalars.compactMap { $0.value == 0 ? nil : $0.value < 256 ? UInt8($0.value) : UInt8(ascii: "?") }
            header.append(0)
        }
        return header
    }

    /// A member trailer: CRC-32 and ISIZE, little-endian.
    static func trailer(crc: UInt32, size: UInt32) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) } + (0..<4).map { UInt8(truncatingIfNeeded: size >> (8 * $0)) }
    }
}
