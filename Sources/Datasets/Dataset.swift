import Foundation

/// A whole TRL-format dataset file read into memory, with what was skipped and what looked unusual.
///
/// ```swift
/// let dataset = try Dataset.load(URL(fileURLWithPath: "harmless-base-test.jsonl.gz"))
/// print(dataset.summary)  // "2312 implicit-prompt preference examples (standard) ...; quirks: ..."
/// for example in dataset.examples { guard let (prompt, chosen, rejected) = example.preference else { continue } ... }
/// ```
public struct Dataset: Sendable {
    /// The source file.
    public let url: URL
    /// The dataset type (detected or forced).
    public let type: DatasetType
    /// The file's format.
    public let format: DatasetFormat
    /// The examples, in file order.
    public let examples: [Example]
    /// Lines skipped as invalid (only with ``DatasetOptions/skipInvalid``).
    public let skipped: SkipReport
    /// Unusual preference pairs (kept in ``examples``).
    public let quirks: [DatasetQuirk]
    /// Whitespace-only lines ignored.
    public let blankLines: Int

    /// Reads every example of a `.jsonl` or `.jsonl.gz` file.
    /// - Throws: ``DatasetError`` for the first invalid line (unless skipping), unreadable files, or a file with
    ///   no valid example at all.
    public static func load(_ url: URL, options: DatasetOptions = DatasetOptions()) throws -> Dataset {
        let reader = try DatasetReader(url: url, options: options)
        var examples: [Example] = []
        while let example = try reader.next() { examples.append(example) }
        guard let type = reader.type, let format = reader.format else {
            var reason = "contains no examples (\(reader.blankLines) blank lines, \(reader.skipped.count) invalid lines skipped)"
            if let first = reader.skipped.firstReasons.first { reason += "; first problem: \(first)" }
            throw DatasetError(file: reader.fileName, line: 0, kind: .noExamples, reason: reason)
        }
        return Dataset(url: url, type: type, format: format, examples: examples, skipped: reader.skipped,
                       quirks: reader.quirks, blankLines: reader.blankLines)
    }

    /// Number of quirks of each kind.
    public var quirkCounts: [DatasetQuirk.Kind: Int] {
        quirks.reduce(into: [:]) { $0[$1.kind, default: 0] += 1 }
    }

    /// A one-paragraph report: counts, skipped lines with their first reasons, and quirks with line numbers.
    public var summary: String {
        var text = "\(url.lastPathComponent): \(examples.count) \(type.rawValue) example\(examples.count == 1 ? "" : "s") (\(format.rawValue))"
        if blankLines > 0 { text += ", \(blankLines) blank line\(blankLines == 1 ? "" : "s") ignored" }
        if skipped.count > 0 {
            text += "; \(skipped.count) invalid line\(skipped.count == 1 ? "" : "s") skipped, e.g. " + skipped.firstReasons.map(\.description).joined(separator: "; ")
        }
        let counts = quirkCounts
        for kind in DatasetQuirk.Kind.allCases {
            guard let count = counts[kind] else { continue }
            let lines = quirks.filter { $0.kind == kind }.prefix(10).map { String($0.line) }.joined(separator: ", ")
            text += "; \(count)× \(kind.rawValue) (lines \(lines)\(count > 10 ? ", …" : ""))"
        }
        return text
    }
}
