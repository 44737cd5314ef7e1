import Foundation
import JSON

/// An append-only JSONL file of finished items, each line an object with a string `id`, so an interrupted run
/// resumes exactly: every line is written whole and fsync'd before the item counts as done, a torn last line
/// (from a kill mid-write) is cut off on open, and ids already present are skipped.
public final class ItemLog: @unchecked Sendable {
    public let url: URL
    private let lock = NSLock()
    private let file: AppendOnlyFile
    private var ids: Set<String> = []

    /// Opens (creating if needed) the log and reads the ids it holds.
    /// - Throws: ``RuntimeError`` naming file:line when a complete line is not an object with an `id`.
    public init(url: URL) throws {
        self.url = url
        file = try AppendOnlyFile(url: url)
        var data = try Data(contentsOf: url)
        if let last = data.last, last != UInt8(ascii: "\n") {
            // A torn line: the item was not finished; drop it so that it is redone.
            let keep = data.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
            data = data.prefix(keep)
            try file.truncate(toLength: UInt64(keep))
        }
        for (index, line) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            guard let id = Self.id(of: line) else {
                throw RuntimeError("\(url.path):\(index + 1): not a finished item (a JSON object with an \"id\"); remove the line or the file to redo it")
            }
            ids.insert(id)
        }
    }

    /// Ids of the items already in the file.
    public var completedIDs: Set<String> { lock.withLock { ids } }

    /// Appends one item (a JSON object on one line) and syncs it to disk. An id already present is ignored, so
    /// an item is never written twice.
    public func append(id: String, line: Data) throws {
        try lock.withLock {
            guard !ids.contains(id) else { return }
            try file.append(line: line, sync: true)
            ids.insert(id)
        }
    }

    /// Appends an encodable item with an `id` field.
    public func append<Record: Encodable>(id: String, _ record: Record) throws {
        try append(id: id, line: try Self.encoder.encode(record))
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Rewrites the finished file with its lines in `order` (ids not in `order` are kept at the end), atomically;
    /// concurrency then leaves no trace in the result.
    public func sort(by order: [String]) throws {
        try lock.withLock {
            let data = try Data(contentsOf: url)
            var lines: [(rank: Int, data: Data)] = []
            let rank = Dictionary(order.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
            for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                let id = Self.id(of: line)
                lines.append((id.flatMap { rank[$0] } ?? Int.max, Data(line)))
            }
            let sorted = lines.enumerated().sorted { ($0.element.rank, $0.offset) < ($1.element.rank, $1.offset) }
            var output = Data()
            for entry in sorted { output += entry.element.data + Data("\n".utf8) }
            try AtomicFile.write(output, to: url)
            try file.reopen()
        }
    }

    /// The string `id` of a line holding a JSON object, or nil when the line is not one.
    private static func id(of line: Data.SubSequence) -> String? {
        (try? JSONParser.parse(line))?["id"]?.stringValue
    }
}
