import Foundation

/// Items that failed after every retry: `{"id", "error", "attempts"}` lines, rewritten by each run.
public final class FailureLog: @unchecked Sendable {
    public let url: URL
    private let lock = NSLock()
    private var handle: FileHandle
    public private(set) var count = 0

    /// Creates (or empties) the file.
    /// - Throws: ``RuntimeError`` when the folder is not writable.
    public init(url: URL) throws {
        self.url = url
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw RuntimeError("cannot create \(url.path); check that the folder is writable")
        }
        handle = try FileHandle(forWritingTo: url)
    }

    deinit { try? handle.close() }

    /// Appends one failed item and syncs it to disk.
    public func record(id: String, error: Error, attempts: Int) throws {
        let object: [String: Any] = ["id": id, "error": "\(error)", "attempts": attempts]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        try lock.withLock {
            try handle.write(contentsOf: data + Data("\n".utf8))
            try handle.synchronize()
            count += 1
        }
    }
}
