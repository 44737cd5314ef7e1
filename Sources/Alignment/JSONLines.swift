import Foundation
import JSON
import Runtime

/// Appends records to a JSON Lines file (samples.jsonl, completions.jsonl, metrics.jsonl): one object per line, keys
/// sorted, written compactly by the JSON target (see ``JSONValue/init(foundation:)``).
enum JSONLines {
    /// Appends `records` to `url`, creating the file when it does not exist.
    /// - Throws: `RuntimeError` when the file cannot be opened or written, `TrainingError.data` for a value with no
    ///   JSON form.
    static func append(_ records: [[String: Any]], to url: URL) throws {
        let lines = try records.map(line)
        let file = try AppendOnlyFile(url: url)
        for text in lines { try file.append(line: text) }
    }

    /// One record as a line: compact JSON with sorted keys (no newline).
    /// - Throws: `TrainingError.data` for a value with no JSON form.
    static func line(_ record: [String: Any]) throws -> String {
        do {
            return try JSONValue(foundation: record).serialized(.compactLines)
        } catch let error as JSONConversionError {
            throw TrainingError.data("\(error)")
        }
    }
}
