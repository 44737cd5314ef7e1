import Datasets
import Foundation
import JSON

/// The small files experiments write and read besides results: prompt and corpus JSON Lines, and the training
/// metrics (`metrics.jsonl`) of a trained model folder.
public enum ExperimentFiles {
    /// Writes one JSON object per line (keys sorted), replacing `url` atomically (Datasets' one JSONL writer).
    public static func writeJSONL(_ objects: [[String: String]], to url: URL) throws {
        try writeJSONL(objects.map { JSONValue(sortingKeys: $0.mapValues(JSONValue.string)) }, to: url)
    }

    /// Writes one JSON value per line, replacing `url` atomically.
    public static func writeJSONL(_ values: [JSONValue], to url: URL) throws {
        let writer = try JSONLWriter(url: url, compressed: false)
        for value in values { try writer.write(value) }
        try writer.finish()
    }

    /// A model folder's metrics.jsonl as numbers by key (eval lines included; non-numeric values dropped); empty when
    /// the folder has none.
    public static func metrics(_ folder: URL) -> [[String: Double]] {
        guard let text = try? String(contentsOf: folder.appendingPathComponent("metrics.jsonl"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard case let .object(members)? = try? JSONParser.parse(String(line)) else { return nil }
            return Dictionary(members.compactMap { member in member.value.doubleValue.map { (member.key, $0) } },
                              uniquingKeysWith: { first, _ in first })
        }
    }
}
