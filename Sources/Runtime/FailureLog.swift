import Foundation
import JSON

/// Items that failed after every retry: `{"id", "error", "attempts"}` lines, rewritten by each run.
public final class FailureLog: @unchecked Sendable {
    public let url: URL
    private let lock = NSLock()
    private let file: AppendOnlyFile
    public private(set) var count = 0

    /// Creates (or empties) the file.
    /// - Throws: ``RuntimeError`` when the folder is not writable.
    public init(url: URL) throws {
        self.url = url
        file = try AppendOnlyFile(url: url, emptying: true)
    }

    /// Appends one failed item and syncs it to disk.
    public func record(id: String, error: Error, attempts: Int) throws {
        let record: JSONValue = ["attempts": .integer(attempts), "error": .string("\(error)"), "id": .string(id)]
        try lock.withLock {
            try file.append(record, sync: true)
            count += 1
        }
    }
}
