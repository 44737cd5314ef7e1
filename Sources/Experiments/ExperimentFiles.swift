import Foundation
import Runtime

/// The small files experiments write and read besides results: prompt and corpus JSON Lines, and the training
/// metrics (`metrics.jsonl`) of a trained model folder.
public enum ExperimentFiles {
    /// Writes one JSON object per line (keys sorted, slashes unescaped), replacing `url` atomically.
    public static func writeJSONL(_ objects: [[String: String]], to url: URL) throws {
        var data = Data()
        for object in objects {
            data.append(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            data.append(0x0A)
        }
        try AtomicFile.write(data, to: url)
    }

    /// A model folder's metrics.jsonl as numbers by key (eval lines included; non-numeric values dropped); empty when
    /// the folder has none.
    public static func metrics(_ folder: URL) -> [[String: Double]] {
        guard let text = try? String(contentsOf: folder.appendingPathComponent("metrics.jsonl"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?.compactMapValues { ($0 as? NSNumber)?.doubleValue }
        }
    }
}
