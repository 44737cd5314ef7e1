import Foundation
import JSON

/// A file that grows only at its end, one whole line at a time: the one way Charter appends to its logs
/// (item logs, failure logs, `metrics.jsonl`, sample logs). Opening creates the folder and the file when needed;
/// each line is written with a single `write`, optionally fsync'd, so a kill leaves at most one torn last line.
/// Not thread-safe: owners that share one across threads hold their own lock.
public final class AppendOnlyFile {
    public let url: URL
    private var handle: FileHandle

    /// Opens `url` for appending.
    /// - Parameter emptying: start from an empty file (a log each run rewrites) instead of keeping what is there.
    /// - Throws: ``RuntimeError`` naming the file when the folder or file cannot be created or opened.
    public init(url: URL, emptying: Bool = false) throws {
        self.url = url
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw RuntimeError(file: url.path, "cannot create its folder (\(error.localizedDescription))")
        }
        if emptying || !manager.fileExists(atPath: url.path) {
            guard manager.createFile(atPath: url.path, contents: nil) else {
                throw RuntimeError(file: url.path, "cannot create the file; check that the folder is writable")
            }
        }
        handle = try Self.open(url)
    }

    deinit { try? handle.close() }

    /// Appends `line` and a newline in one write; with `sync`, the line is on disk when this returns.
    public func append(line: String, sync: Bool = false) throws {
        try append(line: Data(line.utf8), sync: sync)
    }

    /// Appends the UTF-8 bytes of one line and a newline in one write.
    public func append(line: Data, sync: Bool = false) throws {
        precondition(!line.contains(UInt8(ascii: "\n")), "an appended line must not contain a newline")
        do {
            try handle.write(contentsOf: line + Data("\n".utf8))
            if sync { try handle.synchronize() }
        } catch {
            throw RuntimeError(file: url.path, "cannot append (\(error.localizedDescription)); is the disk full?")
        }
    }

    /// Appends one binary record (a TFRecord, say) in one write, without a newline.
    public func append(record: Data) throws {
        do { try handle.write(contentsOf: record) } catch {
            throw RuntimeError(file: url.path, "cannot append (\(error.localizedDescription)); is the disk full?")
        }
    }

    /// Appends one JSON value as a compact JSON Lines record.
    public func append(_ value: JSONValue, sync: Bool = false) throws {
        try append(line: value.serialized(.compactLines), sync: sync)
    }

    /// Cuts the file to its first `length` bytes and continues appending from there (dropping a torn last line,
    /// or records a resumed run will write again).
    public func truncate(toLength length: UInt64) throws {
        do {
            try handle.truncate(atOffset: length)
            try handle.synchronize()
            try handle.seekToEnd()
        } catch {
            throw RuntimeError(file: url.path, "cannot truncate to \(length) bytes (\(error.localizedDescription))")
        }
    }

    /// Reopens the file after it was replaced on disk (an atomic rewrite), continuing at its new end.
    public func reopen() throws {
        try? handle.close()
        handle = try Self.open(url)
    }

    private static func open(_ url: URL) throws -> FileHandle {
        do {
            let handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
            return handle
        } catch {
            throw RuntimeError(file: url.path, "cannot open for appending (\(error.localizedDescription))")
        }
    }
}
