import Foundation
import Gzip
import JSON
import Runtime

/// Writes JSON Lines atomically: output goes to a temporary file that ``finish()`` renames into place, so a
/// crash or error never leaves a half-written dataset. Gzip-compressed when the name ends in `.gz` (or on request).
///
/// ```swift
/// let writer = try JSONLWriter(url: URL(fileURLWithPath: "revisions.jsonl.gz"))
/// for example in examples { try writer.write(example) }
/// try writer.finish()
/// ```
public final class JSONLWriter {
    /// The destination.
    public let url: URL
    /// Whether the output is gzip-compressed.
    public let isCompressed: Bool
    /// Lines written so far.
    public private(set) var lineCount = 0

    private let gzip: GzipWriter?
    private let handle: FileHandle?
    private let temporaryURL: URL?
    private var buffer = Data()
    private var finished = false

    /// Opens a writer.
    /// - Parameters:
    ///   - url: Destination, replaced on ``finish()``.
    ///   - compressed: Force compression on or off; by default, compress when the name ends in `.gz`.
    /// - Throws: ``DatasetError`` (kind `.io`) when the output cannot be created.
    public init(url: URL, compressed: Bool? = nil) throws {
        self.url = url
        isCompressed = compressed ?? (url.pathExtension == "gz")
        do {
            if isCompressed {
                gzip = try GzipWriter(url: url)
                handle = nil
                temporaryURL = nil
            } else {
                let temporary = try AtomicFile.createTemporary(for: url)
                gzip = nil
                temporaryURL = temporary.url
                handle = temporary.handle
            }
        } catch let error as RuntimeError {
            throw DatasetError(file: url.lastPathComponent, line: 0, kind: .io, reason: error.reason)
        } catch {
            throw DatasetError(file: url.lastPathComponent, line: 0, kind: .io, reason: "\(error)")
        }
    }

    deinit {
        if !finished, let temporaryURL {
            try? handle?.close()
            try? FileManager.default.removeItem(at: temporaryURL)
        }
    }

    /// Writes one JSON value as a line.
    public func write(_ value: JSONValue) throws {
        precondition(!finished, "JSONLWriter.write after finish()")
        buffer.append(contentsOf: Array((value.serialized(.jsonLines) + "\n").utf8))
        lineCount += 1
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// Writes a line read from a JSONL file as it was (one JSON object's text, without its line break), so that an
    /// unchanged line keeps its bytes: key order, spacing, escapes and number spellings.
    public func write(originalLine text: String) throws {
        precondition(!finished, "JSONLWriter.write after finish()")
        precondition(!text.contains("\n"), "JSONLWriter.write(originalLine:) with a line break inside")
        buffer.append(contentsOf: Array((text + "\n").utf8))
        lineCount += 1
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// Writes one example in TRL format (see ``Example/jsonValue(keepImplicitPrompt:)``).
    public func write(_ example: Example, keepImplicitPrompt: Bool = false) throws {
        try write(example.jsonValue(keepImplicitPrompt: keepImplicitPrompt))
    }

    /// Flushes, closes and renames the file into place.
    /// - Throws: ``DatasetError`` (kind `.io`).
    public func finish() throws {
        guard !finished else { return }
        try flush()
        finished = true
        do {
            if let gzip {
                try gzip.finish()
                return
            }
            try handle?.synchronize()
            try handle?.close()
        } catch {
            throw DatasetError(file: url.lastPathComponent, line: 0, kind: .io, reason: "\(error)")
        }
        guard let temporaryURL else { return }
        do {
            try AtomicFile.moveIntoPlace(temporaryURL, to: url)
        } catch let error as RuntimeError {
            throw DatasetError(file: url.lastPathComponent, line: 0, kind: .io, reason: error.reason)
        }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        do {
            if let gzip { try gzip.write(buffer) } else { try handle?.write(contentsOf: buffer) }
        } catch {
            throw DatasetError(file: url.lastPathComponent, line: 0, kind: .io, reason: "cannot write: \(error)")
        }
    }
}
