import Foundation

/// A dataset line (or file) that cannot be read as a TRL-format example.
///
/// The description is `file:line: what is wrong`, e.g.
/// `data.jsonl:17: field "chosen" must be a string or a list of messages, found number`, so an editor can jump
/// to the line. `file` is the file name (last path component), as users see it in their dataset folder.
public struct DatasetError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// Broad category, for programmatic handling.
    public enum Kind: String, Sendable {
        /// The line is not valid JSON, or not a JSON object.
        case invalidJSON
        /// A required field is absent.
        case missingField
        /// A field has the wrong JSON type or an invalid value.
        case invalidField
        /// The line's type or format differs from the rest of the file.
        case mismatch
        /// No dataset type can be recognised from the line's fields.
        case unknownType
        /// The file could not be read or written (or is corrupt gzip).
        case io
    }

    /// The file name.
    public let file: String
    /// 1-based line number; 0 when the error concerns the whole file.
    public let line: Int
    /// Category.
    public let kind: Kind
    /// What is wrong, without the `file:line:` prefix.
    public let reason: String

    /// Creates an error.
    public init(file: String, line: Int, kind: Kind, reason: String) {
        self.file = file
        self.line = line
        self.kind = kind
        self.reason = reason
    }

    public var description: String {
        line > 0 ? "\(file):\(line): \(reason)" : "\(file): \(reason)"
    }

    public var errorDescription: String? { description }
}

/// Lines skipped under ``DatasetOptions/skipInvalid``: how many, and why (the first few).
public struct SkipReport: Sendable, Equatable {
    /// Number of skipped lines.
    public internal(set) var count = 0
    /// The errors of the first ``DatasetOptions/reportedSkipReasons`` skipped lines.
    public internal(set) var firstReasons: [DatasetError] = []

    /// Creates an empty report.
    public init() {}
}

/// Something unusual but not invalid about a preference pair, reported rather than silently "fixed" or dropped.
public struct DatasetQuirk: Sendable, Hashable, CustomStringConvertible {
    /// The kinds of irregularity found in real preference data (e.g. Anthropic HH-RLHF).
    public enum Kind: String, Sendable, CaseIterable {
        /// Chosen and rejected differ before their final assistant turn, so the responses span several turns.
        case divergesBeforeFinalTurn = "chosen and rejected diverge before the final assistant turn"
        /// The chosen response is empty (or whitespace).
        case emptyChosen = "empty chosen response"
        /// The rejected response is empty (or whitespace).
        case emptyRejected = "empty rejected response"
        /// Chosen and rejected are identical (the pair carries no preference signal).
        case identicalResponses = "chosen and rejected are identical"
        /// The implicit prompt is empty (nothing in common).
        case emptyPrompt = "no common prompt"
        /// An HH transcript prompt whose turns do not alternate Human/Assistant (e.g. two Assistant turns in a row).
        case nonAlternatingTurns = "prompt turns do not alternate between Human and Assistant"
    }

    /// 1-based line.
    public let line: Int
    /// What is unusual.
    public let kind: Kind

    public var description: String { "line \(line): \(kind.rawValue)" }
}
