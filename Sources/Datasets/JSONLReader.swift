import Foundation
import Gzip
import JSON

/// Reads a JSON Lines file (`.jsonl`, or gzip-compressed, detected by content) one object per non-blank line,
/// with `file:line` in every error: the one JSONL reader behind datasets and the constitutional pipeline's inputs.
///
/// Every input is bounded (``InputLimits``): a line longer than 16 MiB is an error of kind `.lineTooLong` (and is
/// never held in memory), gzip data expanding beyond the ratio limit an `.io` error naming the file.
///
/// ```swift
/// let reader = try JSONLReader(url: url)
/// while let (line, members) = try reader.next() { ... }
/// ```
public final class JSONLReader {
    /// The file being read.
    public let url: URL
    /// The file name errors use (last path component).
    public let fileName: String
    /// Whitespace-only lines seen so far (skipped).
    public private(set) var blankLines = 0
    /// The text of the line ``next()`` last returned (without its line break); nil before the first.
    public private(set) var lastLineText: String?

    private let lines: LineReader

    /// Opens a JSONL file.
    /// - Parameter limits: the longest line and the gzip expansion allowed; nil: the defaults with the environment's
    ///   overrides (`CHARTER_MAX_LINE_BYTES`, `CHARTER_MAX_GZIP_RATIO`, `CHARTER_MAX_GZIP_BYTES`).
    /// - Throws: ``DatasetError`` (kind `.io`) when the file cannot be opened.
    public init(url: URL, limits: InputLimits? = nil) throws {
        self.url = url
        fileName = url.lastPathComponent
        do {
            lines = try LineReader(url: url, limits: limits)
        } catch {
            throw DatasetError(file: fileName, line: 0, kind: .io, reason: "\(error)")
        }
    }

    /// The next non-blank line's object members, in file order, with its 1-based line number; nil at the end.
    ///
    /// After a line error the reader stays usable: the next call continues with the following line.
    /// - Throws: ``DatasetError`` of kind `.invalidJSON` for a line that is not UTF-8, not JSON (the message gives
    ///   the column) or not an object; `.lineTooLong` for a line over the limit; `.io` for an unreadable or corrupt
    ///   (gzip) file, or gzip data expanding beyond the limit.
    public func next() throws -> (line: Int, members: [JSONValue.Member])? {
        while true {
            let next: (lineNumber: Int, line: String)?
            do {
                blankLines += try lines.skipEmptyLines()
                next = try lines.next()
            } catch let error as GzipError {
                if case let .invalidUTF8(line) = error.reason {
                    throw DatasetError(file: fileName, line: line, kind: .invalidJSON, reason: "line is not valid UTF-8")
                }
                if case let .lineTooLong(line, limit) = error.reason {
                    throw DatasetError(file: fileName, line: line, kind: .lineTooLong,
                                       reason: "line is longer than \(InputLimits.describe(limit: limit)); if the file "
                                           + "is genuine, raise the limit with CHARTER_MAX_LINE_BYTES=<bytes>")
                }
                // The description starts with the path; the dataset error names the file itself.
                let reason = error.description.hasPrefix(error.file + ": ") ? String(error.description.dropFirst(error.file.count + 2)) : error.description
                throw DatasetError(file: fileName, line: 0, kind: .io, reason: reason)
            }
            guard let (number, line) = next else { return nil }
            lastLineText = nil
            if line.allSatisfy(\.isWhitespace) {
                blankLines += 1
                continue
            }
            let value: JSONValue
            do {
                value = try JSONParser.parse(line)
            } catch let error as JSONSyntaxError {
                throw DatasetError(file: fileName, line: number, kind: .invalidJSON,
                                   reason: "invalid JSON at column \(error.column): \(error.reason)")
            }
            guard case let .object(members) = value else {
                throw DatasetError(file: fileName, line: number, kind: .invalidJSON,
                                   reason: "expected a JSON object, found \(value.typeName)")
            }
            lastLineText = line
            return (number, members)
        }
    }
}
