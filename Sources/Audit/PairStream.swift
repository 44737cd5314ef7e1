import Datasets
import Foundation

/// Streams a preference file through Datasets' reader, pairing each example with its ``AuditPair``; lines that
/// cannot be read (invalid JSON, a missing or mistyped field, a malformed `judgements` or `annotator_labels`) are collected in
/// ``unreadable`` with their `file:line` error, never dropped silently. Audit and clean read through it, so both see
/// the same lines the same way.
final class PairStream {
    let url: URL
    private let reader: DatasetReader
    /// Lines that could not be read, in file order (the reader's skipped lines, then those rejected here, merged).
    private(set) var unreadable: [DatasetError] = []
    private var reported = 0

    /// - Throws: ``DatasetError`` when the file cannot be opened.
    init(url: URL) throws {
        self.url = url
        reader = try DatasetReader(url: url, options: Self.options)
    }

    /// How audit and clean read a file: every unreadable line kept with its error, HelpSteer2 and HelpSteer3
    /// preference lines read as pairs (``HelpSteerPreference``).
    static let options = DatasetOptions(skipInvalid: true, reportedSkipReasons: .max, adaptLine: HelpSteerPreference.adapt)

    /// The reader's type and format, once known.
    var type: DatasetType? { reader.type }
    var format: DatasetFormat? { reader.format }
    /// The file's text of the line the last pair came from (without its line break).
    var lastLineText: String? { reader.lastLineText }

    /// The next readable pair, or nil at the end.
    /// - Throws: ``DatasetError`` for unreadable files (kind `.io`), and when the file holds examples that are not
    ///   preference pairs (audit reads preference data only).
    func next() throws -> (example: Example, pair: AuditPair)? {
        while true {
            let example = try reader.next()
            collectSkipped()
            guard let example else { return nil }
            do {
                guard let pair = try AuditPair(example, file: url.lastPathComponent) else {
                    throw DatasetError(file: url.lastPathComponent, line: example.line, kind: .unknownType,
                                       reason: "\(example.type.rawValue) example; audit and clean read preference pairs (prompt/chosen/rejected or chosen/rejected)")
                }
                return (example, pair)
            } catch let error as DatasetError where error.kind == .invalidField {
                unreadable.append(error)
            }
        }
    }

    private func collectSkipped() {
        let reasons = reader.skipped.firstReasons
        guard reasons.count > reported else { return }
        unreadable += reasons[reported...]
        reported = reasons.count
        unreadable.sort { $0.line < $1.line }
    }
}
