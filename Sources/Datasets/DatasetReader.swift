import Foundation
import Gzip
import JSON

/// How to read a dataset file.
public struct DatasetOptions: Sendable {
    /// Force a dataset type instead of detecting it from the first valid line.
    public var type: DatasetType?
    /// Skip invalid lines (counting them in ``DatasetReader/skipped``) instead of throwing at the first one.
    public var skipInvalid: Bool
    /// How many skipped lines' errors to keep in ``SkipReport/firstReasons``.
    public var reportedSkipReasons: Int
    /// Field holding a soft preference label in [0, 1] (probability that `chosen` wins), or nil for none.
    public var softLabelField: String?
    /// Convert Anthropic HH transcript strings in preference pairs into conversational messages.
    public var convertHHTranscripts: Bool
    /// The longest line and the gzip expansion allowed; nil: the defaults with the environment's overrides
    /// (`CHARTER_MAX_LINE_BYTES`, `CHARTER_MAX_GZIP_RATIO`, `CHARTER_MAX_GZIP_BYTES`). An over-long line is an
    /// invalid line (skipped with ``skipInvalid``).
    public var limits: InputLimits?
    /// Rewrites each line's members before the type is detected: another dataset's layout into TRL's fields (e.g. the
    /// audit's reading of HelpSteer preference lines). Given the members, the 1-based line number and the file name; a
    /// ``DatasetError`` it throws is that line's error (skipped with ``skipInvalid``).
    public var adaptLine: (@Sendable (_ members: [JSONValue.Member], _ line: Int, _ file: String) throws -> [JSONValue.Member])?

    /// Creates options; the defaults detect the type, stop at the first invalid line and keep HH strings as-is.
    public init(type: DatasetType? = nil, skipInvalid: Bool = false, reportedSkipReasons: Int = 5,
                softLabelField: String? = "chosen_probability", convertHHTranscripts: Bool = false, limits: InputLimits? = nil,
                adaptLine: (@Sendable (_ members: [JSONValue.Member], _ line: Int, _ file: String) throws -> [JSONValue.Member])? = nil) {
        self.type = type
        self.skipInvalid = skipInvalid
        self.reportedSkipReasons = reportedSkipReasons
        self.softLabelField = softLabelField
        self.convertHHTranscripts = convertHHTranscripts
        self.limits = limits
        self.adaptLine = adaptLine
    }
}

/// Streams typed examples from a TRL-format `.jsonl` or `.jsonl.gz` file (gzip detected by content).
///
/// The dataset type and format are detected from the first valid line (or forced with
/// ``DatasetOptions/type``); every later line must agree, or it is an error naming `file:line`.
/// Blank lines are counted and ignored.
///
/// ```swift
/// let reader = try DatasetReader(url: url)
/// while let example = try reader.next() { ... }
/// print(reader.skipped.count, reader.quirks)
/// ```
public final class DatasetReader {
    /// The file being read.
    public let url: URL
    /// The options in effect.
    public let options: DatasetOptions
    /// The dataset type, once known (after the first valid line, or immediately when forced).
    public private(set) var type: DatasetType?
    /// The file's format (of the raw fields, before any HH conversion), once known.
    public private(set) var format: DatasetFormat?
    /// The line the type and format were detected from.
    public private(set) var detectedAtLine: Int?
    /// Invalid lines skipped so far (only with ``DatasetOptions/skipInvalid``).
    public private(set) var skipped = SkipReport()
    /// Unusual preference pairs seen so far (kept, never dropped).
    public private(set) var quirks: [DatasetQuirk] = []
    /// Whitespace-only lines seen so far.
    public var blankLines: Int { lines.blankLines }
    /// The file's text of the line ``next()`` last returned an example from (without its line break), for writers
    /// that pass unchanged lines through byte for byte.
    public var lastLineText: String? { lines.lastLineText }

    let fileName: String
    private let lines: JSONLReader

    /// Opens a dataset file.
    /// - Throws: ``DatasetError`` (kind `.io`) when the file cannot be opened.
    public init(url: URL, options: DatasetOptions = DatasetOptions()) throws {
        self.url = url
        self.options = options
        type = options.type
        fileName = url.lastPathComponent
        lines = try JSONLReader(url: url, limits: options.limits)
    }

    /// The next example, or nil at the end of the file.
    ///
    /// After a line error the reader stays usable: the next call continues with the following line.
    /// - Throws: ``DatasetError`` for an invalid line (unless skipping), or `.io` for unreadable/corrupt files.
    public func next() throws -> Example? {
        while true {
            do {
                guard let (number, members) = try lines.next() else { return nil }
                return try example(from: members, number: number)
            } catch let error as DatasetError where error.kind != .io {
                try handle(error)
            }
        }
    }

    /// Records `error` as a skipped line, or rethrows it when not skipping.
    private func handle(_ error: DatasetError) throws {
        guard options.skipInvalid else { throw error }
        skipped.count += 1
        if skipped.firstReasons.count < options.reportedSkipReasons { skipped.firstReasons.append(error) }
    }

    func fail(_ number: Int, _ kind: DatasetError.Kind, _ reason: String) -> DatasetError {
        DatasetError(file: fileName, line: number, kind: kind, reason: reason)
    }

    /// Validates one non-blank line's object.
    private func example(from original: [JSONValue.Member], number: Int) throws -> Example {
        let members = try options.adaptLine?(original, number, fileName) ?? original
        let lineType = try options.type ?? detectType(members, number: number)
        if let type, lineType != type, let detectedAtLine {
            throw fail(number, .mismatch, "\(lineType.rawValue) example in a file of \(type.rawValue) examples (detected from line \(detectedAtLine))")
        }
        var (example, lineFormat) = try build(members, type: lineType, number: number)
        if let format, lineFormat != format, let type, let detectedAtLine {
            throw fail(number, .mismatch, "\(lineFormat.rawValue) example in a file of \(format.rawValue) \(type.rawValue) examples (detected from line \(detectedAtLine))")
        }
        if let (prompt, chosen, rejected) = example.preference {
            let kinds = ImplicitPrompt.quirks(prompt: prompt, chosen: chosen, rejected: rejected, implicit: example.promptWasImplicit)
            quirks += kinds.map { DatasetQuirk(line: number, kind: $0) }
            if options.convertHHTranscripts { example = try convertHH(example, number: number) }
        }
        if type == nil || detectedAtLine == nil {
            type = lineType
            format = lineFormat
            detectedAtLine = number
        }
        return example
    }

    /// Recognises the dataset type from a line's field names.
    private func detectType(_ members: [JSONValue.Member], number: Int) throws -> DatasetType {
        let keys = Set(members.map(\.key))
        if keys.contains("chosen") || keys.contains("rejected") {
            return keys.contains("prompt") ? .preference : .implicitPromptPreference
        }
        if keys.contains("label") { return .unpairedPreference }
        if keys.contains("completion") { return .promptCompletion }
        if keys.contains("text") || keys.contains("messages") { return .languageModeling }
        if keys.contains("prompt") { return .promptOnly }
        let found = members.isEmpty ? "no fields" : "fields " + members.map { "\"\($0.key)\"" }.joined(separator: ", ")
        throw fail(number, .unknownType,
                   "cannot tell the dataset type from \(found); expected \"text\", \"messages\", \"prompt\"+\"completion\", "
                   + "\"prompt\"+\"chosen\"+\"rejected\", \"chosen\"+\"rejected\" or \"prompt\"+\"completion\"+\"label\"")
    }

    /// Converts a standard HH pair to conversational messages.
    private func convertHH(_ example: Example, number: Int) throws -> Example {
        guard case let .preference(.standard(prompt), .standard(chosen), .standard(rejected)) = example.body else { return example }
        do {
            let pair = try HHTranscript.conversationalPair(prompt: prompt, chosen: chosen, rejected: rejected)
            var converted = example
            converted.body = .preference(prompt: .conversational(pair.prompt), chosen: .conversational(pair.chosen),
                                         rejected: .conversational(pair.rejected))
            return converted
        } catch let error as HHTranscript.ParseError {
            throw fail(number, .invalidField, "cannot convert HH transcript: \(error.reason)")
        }
    }
}
