import Foundation
import Runtime

/// Writes an experiment's `results.json`: pretty-printed, keys sorted, slashes unescaped, replaced atomically (so a
/// reader never sees half a file).
public enum ResultsFile {
    /// The file name every experiment uses.
    public static let name = "results.json"

    /// The encoder for results and other JSON records an experiment writes next to them.
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Writes `results` as `directory/results.json`, creating the folder; returns the file's URL.
    /// - Throws: encoding errors and file-system errors.
    @discardableResult
    public static func write<Results: Encodable>(_ results: Results, to directory: URL) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try AtomicFile.write(try encoder.encode(results), to: url)
        return url
    }

    /// `directory/results.json` decoded as `type`.
    /// - Parameter what: what the file holds, for the error ("the quickstart's results").
    /// - Throws: `ResultsFile.ReadError` naming the file, `what` and why it cannot be read.
    public static func read<Results: Decodable>(_ type: Results.Type, in directory: URL, what: String) throws -> Results {
        let url = directory.appendingPathComponent(name)
        do {
            return try JSONDecoder().decode(type, from: Data(contentsOf: url))
        } catch {
            throw ReadError(description: "\(url.path): cannot read \(what) (\(error))")
        }
    }

    /// A results.json that is missing or does not decode.
    public struct ReadError: Error, CustomStringConvertible {
        public let description: String
    }
}
