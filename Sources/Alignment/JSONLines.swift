import Foundation

/// Appends records to a JSON Lines file (samples.jsonl, completions.jsonl): one object per line, keys sorted.
enum JSONLines {
    /// Appends `records` to `url`, creating the file when it does not exist.
    /// - Throws: `TrainingError.io` when the file cannot be opened, and what encoding a record throws.
    static func append(_ records: [[String: Any]], to url: URL) throws {
        var lines = Data()
        for record in records {
            lines += try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) + Data("\n".utf8)
        }
        if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: url.path) else { throw TrainingError.io("cannot open \(url.path) for writing") }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(lines)
    }
}
