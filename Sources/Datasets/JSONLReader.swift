import Foundation
import Gzip
import JSON

/// Reads a JSON Lines file (`.jsonl`, or gzip-compressed, detected by content) one object per non-blank line,
/// with `file:line` in every error: the one JSONL reader behind datasets and the constitutional pipeline's inputs.
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

    private let lines: LineReader

    /// Opens a JSONL file.
    /// - Throws: ``DatasetError`` (kind `.io`) when the file cannot be opened.
    public init(url: URL) throws {
        self.url = url
        fileName = url.lastPathComponent
        do {
            lines = try LineReader(url: url)
        } catch {
            throw DatasetError(file: fileName, line: 0, kind: .io, reason: "\(error)")
        }
    }

    /// The next non-blank line's object members, in file order, with its 1-based line number; nil at the end.
    ///
    /// After a line error the reader stays usable: the next call continues with the following line.
    /// - Throws: ``DatasetError`` of kind `.invalidJSON` for a line that is not UTF-8, not JSON (the message gives
    ///   the column) or not an object; `.io` for an unreadable or corrupt (gzip) file.
    public func next() throws -> (line: Int, members: [JSONValue.Member])? {
        while true {
            let next: (lineNumber: Int, line: String)?
            do {
                next = try lines.next()
            } catch let error as GzipError {
                if case let .invalidUTF8(line) = error.reason {
                    throw DatasetError(file: fileName, line: line, kind: .invalidJSON, reason: "line is not valid UTF-8")
                }
                throw DatasetError(file: fileName, line: 0, kind: .io, reason: error.description)
            }
            guard let (number, line) = next else { return nil }
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
            return (number, members)
        }
    }
}
