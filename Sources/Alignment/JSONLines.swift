import Foundation
import JSON

/// Appends records to a JSON Lines file (samples.jsonl, completions.jsonl, metrics.jsonl): one object per line, keys
/// sorted, written compactly by the JSON target (see ``JSONValue/init(foundation:)``).
enum JSONLines {
    /// Appends `records` to `url`, creating the file when it does not exist.
    /// - Throws: `TrainingError.io` when the file cannot be opened, `TrainingError.data` for a value with no JSON form.
    static func append(_ records: [[String: Any]], to url: URL) throws {
        var lines = ""
        for record in records { lines += try line(record) }
        if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: url.path) else { throw TrainingError.io("cannot open \(url.path) for writing") }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data(lines.utf8))
    }

    /// One record as a line: compact JSON with sorted keys and a newline.
    /// - Throws: `TrainingError.data` for a value with no JSON form.
    static func line(_ record: [String: Any]) throws -> String {
        try JSONValue(foundation: record).serialized(.compact) + "\n"
    }
}
