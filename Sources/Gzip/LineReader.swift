import Foundation
import Runtime

/// Reads a text file line by line, transparently decompressing gzip (detected by its magic bytes, not the
/// file extension), without holding the decompressed file in memory.
///
/// Lines are split on `\n`; a trailing `\r` and a leading UTF-8 byte-order mark are removed; a final line
/// without a newline is still returned. Each line must be valid UTF-8 and at most ``InputLimits/maximumLineBytes``
/// long; gzip input may expand only as far as ``InputLimits`` allows. A line over the limit is an error naming
/// its number, and is never held in memory: the next call goes on after it.
///
/// Streaming means lines are returned before a gzip member's CRC-32 is checked at its end: a corrupt file
/// fails with an error by the last line at the latest, so treat a read as complete only when it ends without one.
///
/// ```swift
/// let reader = try LineReader(url: URL(fileURLWithPath: "train.jsonl.gz"))
/// while let (number, line) = try reader.next() { ... }
/// ```
public final class LineReader {
    /// The file being read.
    public let url: URL
    /// Whether the file is gzip-compressed.
    public let isCompressed: Bool
    /// Number of the line most recently returned (1-based; 0 before the first).
    public private(set) var lineNumber = 0
    /// The bounds in effect.
    public let limits: InputLimits

    private let input: MappedFile
    private let decoder: GzipDecoder?
    /// The chunk being scanned: the whole mapped file for plain text, or the decoder's current chunk
    /// (valid until the next decoder call).
    private var chunk = UnsafeRawBufferPointer(start: nil, count: 0)
    private var cursor = 0
    /// Bytes of a line that started in an earlier chunk.
    private var carried: [UInt8] = []
    /// Within a line that was too long: its remaining bytes are skipped.
    private var skippingLongLine = false
    private var exhausted = false

    /// Opens `url` (memory-mapped).
    /// - Parameter limits: the longest line and the gzip expansion allowed; nil: the defaults with the
    ///   environment's overrides (``InputLimits/fromEnvironment(_:)``).
    /// - Throws: ``GzipError`` with reason `.io` when the file cannot be read.
    public init(url: URL, limits: InputLimits? = nil) throws {
        self.url = url
        self.limits = try limits ?? InputLimits.fromEnvironment()
        input = try GzipDecoder.map(url)
        isCompressed = input.count >= 2 && input.bytes[0] == 0x1F && input.bytes[1] == 0x8B
        if isCompressed {
            decoder = GzipDecoder(input: input, name: url.path, chunkSize: 1 << 18, limits: self.limits)
        } else {
            decoder = nil
            chunk = input.bytes
        }
    }

    /// The next line and its 1-based number, or nil at the end of the file.
    /// - Throws: ``GzipError`` for corrupt compressed input, a line that is not UTF-8 or too long (`file:line` in
    ///   the message; the reader stays usable), or gzip data expanding beyond the limits.
    public func next() throws -> (lineNumber: Int, line: String)? {
        guard let bytes = try nextLineBytes() else { return nil }
        lineNumber += 1
        var body = bytes[...]
        if body.last == UInt8(ascii: "\r") { body = body.dropLast() }
        if lineNumber == 1, body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        if body.isEmpty { return (lineNumber, "") }  // cheap blank lines: a gzip bomb of newlines is millions of them
        guard let line = String(bytes: body, encoding: .utf8) else {
            throw GzipError(file: url.path, offset: 0, reason: .invalidUTF8(line: lineNumber))
        }
        return (lineNumber, line)
    }

    /// Skips the empty lines (bare `\n`) that come next, in bulk, and returns how many; ``lineNumber`` counts them.
    /// Cheap even for hundreds of millions of them (a gzip bomb of newlines), which one ``next()`` call each is not.
    /// - Throws: ``GzipError`` for corrupt compressed input or gzip data expanding beyond the limits.
    public func skipEmptyLines() throws -> Int {
        var skipped = 0
        while carried.isEmpty, !skippingLongLine {
            if cursor < chunk.count, let base = chunk.baseAddress {
                let bytes = base.assumingMemoryBound(to: UInt8.self)
                var position = cursor
                let end = chunk.count
                while position < end, bytes[position] == UInt8(ascii: "\n") { position += 1 }
                skipped += position - cursor
                cursor = position
                if position < end { break }
            }
            guard try loadNextChunk() else { break }
        }
        lineNumber += skipped
        return skipped
    }

    /// Calls `body` for every remaining line.
    public func forEachLine(_ body: (_ lineNumber: Int, _ line: String) throws -> Void) throws {
        while let (number, line) = try next() { try body(number, line) }
    }

    /// The raw bytes of the next line (without `\n`), or nil at the end.
    private func nextLineBytes() throws -> [UInt8]? {
        let limit = limits.maximumLineBytes
        while true {
            if cursor < chunk.count, let base = chunk.baseAddress {
                let remaining = chunk.count - cursor
                if let found = memchr(base + cursor, Int32(UInt8(ascii: "\n")), remaining) {
                    let end = base.distance(to: UnsafeRawPointer(found))
                    defer { cursor = end + 1 }
                    if skippingLongLine {
                        skippingLongLine = false
                        continue
                    }
                    if carried.count + end - cursor > limit {
                        carried.removeAll(keepingCapacity: true)
                        throw tooLong()
                    }
                    var line = carried
                    line.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[cursor..<end]))
                    carried.removeAll(keepingCapacity: true)
                    return line
                }
                if !skippingLongLine {
                    if carried.count + remaining > limit {
                        carried.removeAll()
                        cursor = chunk.count
                        skippingLongLine = true
                        throw tooLong()
                    }
                    carried.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[cursor...]))
                }
                cursor = chunk.count
            }
            guard try loadNextChunk() else {
                skippingLongLine = false
                if carried.isEmpty { return nil }
                defer { carried.removeAll() }
                return carried
            }
        }
    }

    /// Counts the over-long line and names it.
    private func tooLong() -> GzipError {
        lineNumber += 1
        return GzipError(file: url.path, offset: 0, reason: .lineTooLong(line: lineNumber, limit: limits.maximumLineBytes))
    }

    /// Replaces `chunk` with the next decompressed chunk; false at the end of input.
    private func loadNextChunk() throws -> Bool {
        guard let decoder, !exhausted else { return false }
        guard let next = try decoder.nextChunkBuffer() else {
            exhausted = true
            return false
        }
        chunk = next
        cursor = 0
        return true
    }
}
