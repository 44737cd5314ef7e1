import Foundation
import Runtime

/// Streaming gzip (RFC 1952) decoder: yields the decompressed bytes chunk by chunk in constant memory.
///
/// Handles every header field (FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT), checks each member's CRC-32 and ISIZE,
/// and concatenates multiple members as `gzip -d` does. The DEFLATE data is inflated by the system zlib. The
/// compressed input is memory-mapped (files) or held once (data); only zlib's 32 KiB window plus one chunk of
/// output is resident. The total output is bounded by ``InputLimits`` (a gzip bomb is an error naming the input).
///
/// ```swift
/// let decoder = try GzipDecoder(url: url)
/// while let chunk = try decoder.nextChunk() { consume(chunk) }
/// ```
public final class GzipDecoder {
    /// The input's name in errors.
    public let name: String
    let input: MappedFile
    let inflater: Inflater
    private var crc = CRC32()
    private var memberSize: UInt32 = 0
    private var inMember = false
    private var done = false
    /// Members decoded so far.
    public private(set) var memberCount = 0
    /// Name stored in the first member's FNAME field, if any.
    public private(set) var storedFileName: String?
    /// Comment stored in the first member's FCOMMENT field, if any.
    public private(set) var storedComment: String?
    /// Decompressed bytes handed out so far (all members).
    public private(set) var decompressedBytes = 0
    /// The most decompressed bytes this input may produce (from ``InputLimits`` and the compressed size).
    public let decompressedByteLimit: Int

    /// Decodes the gzip file at `url` (memory-mapped).
    /// - Parameter limits: bounds on the output; nil: the defaults with the environment's overrides
    ///   (``InputLimits/fromEnvironment(_:)``).
    /// - Throws: ``GzipError`` with reason `.io` when it cannot be read.
    public convenience init(url: URL, chunkSize: Int = 1 << 18, limits: InputLimits? = nil) throws {
        self.init(input: try Self.map(url), name: url.path, chunkSize: chunkSize, limits: try limits ?? InputLimits.fromEnvironment())
    }

    /// The file's bytes, memory-mapped; a read failure is a ``GzipError`` with reason `.io`.
    static func map(_ url: URL) throws -> MappedFile {
        do {
            return try MappedFile(url: url)
        } catch let error as RuntimeError {
            throw GzipError(file: url.path, offset: 0, reason: .io(error.reason))
        }
    }

    /// Decodes gzip `data`; `name` labels errors; `limits` bounds the output.
    public convenience init(data: Data, name: String = "<data>", chunkSize: Int = 1 << 18, limits: InputLimits = InputLimits()) {
        self.init(input: MappedFile(data: data), name: name, chunkSize: chunkSize, limits: limits)
    }

    init(input: MappedFile, name: String, chunkSize: Int, limits: InputLimits) {
        precondition(chunkSize > 0, "chunkSize must be positive, got \(chunkSize)")
        self.input = input
        self.name = name
        decompressedByteLimit = limits.decompressedByteLimit(compressedSize: input.count)
        inflater = Inflater(input: input, name: name, start: 0, chunkSize: chunkSize)
    }

    /// Calls `body` with the next chunk of decompressed bytes (valid only during the call).
    /// - Returns: `body`'s result, or nil at the end of the stream.
    /// - Throws: ``GzipError`` for corrupt or truncated input (before any corrupt bytes are handed out
    ///   where the check allows: CRC mismatches surface at the end of the member), or output beyond
    ///   ``decompressedByteLimit`` (reason `.expansionTooLarge`).
    public func withNextChunk<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result? {
        guard let chunk = try nextChunkBuffer() else { return nil }
        return try body(chunk)
    }

    /// The next chunk of decompressed bytes, valid until the next call, or nil at the end of the stream.
    func nextChunkBuffer() throws -> UnsafeRawBufferPointer? {
        while !done {
            if !inMember {
                var start = inflater.position
                if memberCount > 0 {
                    // Zero padding after the last member is tolerated, as by gzip(1) and Python's gzip module.
                    while start < input.count && input.bytes[start] == 0 { start += 1 }
                    if start >= input.count {
                        done = true
                        break
                    }
                }
                try readMemberHeader(at: start)
                continue
            }
            let chunk = try inflater.decode()
            if chunk.count > 0 {
                decompressedBytes += chunk.count
                guard decompressedBytes <= decompressedByteLimit else {
                    done = true
                    throw GzipError(file: name, offset: inflater.position,
                                    reason: .expansionTooLarge(limit: decompressedByteLimit, compressedSize: input.count))
                }
                crc.update(chunk)
                memberSize &+= UInt32(truncatingIfNeeded: chunk.count)
                return chunk
            }
            if inflater.finished { try readMemberTrailer() }
        }
        return nil
    }

    /// The next chunk of decompressed bytes, or nil at the end of the stream.
    public func nextChunk() throws -> Data? {
        try withNextChunk { Data($0) }
    }

    /// Parses a member header starting at `offset` and positions the inflater after it.
    private func readMemberHeader(at start: Int) throws {
        let bytes = input.bytes
        var offset = start
        func fail(_ reason: GzipError.Reason, at position: Int? = nil) -> GzipError {
            GzipError(file: name, offset: position ?? offset, reason: reason)
        }
        func byte() throws -> UInt8 {
            guard offset < bytes.count else { throw fail(.truncated) }
            defer { offset += 1 }
            return bytes[offset]
        }
        guard bytes.count - start >= 2, bytes[start] == 0x1F, bytes[start + 1] == 0x8B else {
            throw fail(memberCount == 0 ? .notGzip : .trailingGarbage)
        }
        offset += 2
        let method = try byte()
        guard method == 8 else { throw fail(.unsupportedMethod(method), at: offset - 1) }
        let flags = try byte()
        guard flags & 0xE0 == 0 else { throw fail(.reservedFlags(flags), at: offset - 1) }
        offset += 6  // MTIME, XFL, OS
        guard offset <= bytes.count else { throw fail(.truncated, at: bytes.count) }
        if flags & 0x04 != 0 {  // FEXTRA
            let length = Int(try byte()) | Int(try byte()) << 8
            guard offset + length <= bytes.count else { throw fail(.truncated, at: bytes.count) }
            offset += length
        }
        func zeroTerminated() throws -> String {
            let begin = offset
            while try byte() != 0 {}
            // RFC 1952 says ISO 8859-1; decode as such so every byte maps to a character.
            return String(bytes[begin..<(offset - 1)].map { Character(Unicode.Scalar($0)) })
        }
        if flags & 0x08 != 0 {  // FNAME
            let fileName = try zeroTerminated()
            if memberCount == 0 { storedFileName = fileName }
        }
        if flags & 0x10 != 0 {  // FCOMMENT
            let comment = try zeroTerminated()
            if memberCount == 0 { storedComment = comment }
        }
        if flags & 0x02 != 0 {  // FHCRC: low 16 bits of the CRC-32 of the header so far
            let checksumOffset = offset
            let stored = UInt32(try byte()) | UInt32(try byte()) << 8
            let actual = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[start..<checksumOffset])) & 0xFFFF
            guard stored == actual else { throw fail(.headerChecksumMismatch, at: checksumOffset) }
        }
        try inflater.reset(start: offset)
        crc = CRC32()
        memberSize = 0
        inMember = true
    }

    /// Checks the member trailer (CRC-32, ISIZE) after the final block.
    private func readMemberTrailer() throws {
        let offset = inflater.position
        guard offset + 8 <= input.count else { throw GzipError(file: name, offset: input.count, reason: .truncated) }
        let word = { (at: Int) -> UInt32 in
            UInt32(littleEndian: self.input.base.loadUnaligned(fromByteOffset: at, as: UInt32.self))
        }
        let storedCRC = word(offset)
        let storedSize = word(offset + 4)
        guard storedCRC == crc.value else {
            throw GzipError(file: name, offset: offset, reason: .checksumMismatch(expected: storedCRC, actual: crc.value))
        }
        guard storedSize == memberSize else {
            throw GzipError(file: name, offset: offset + 4, reason: .sizeMismatch(expected: storedSize, actual: memberSize))
        }
        try inflater.reset(start: offset + 8)
        memberCount += 1
        inMember = false
    }
}
