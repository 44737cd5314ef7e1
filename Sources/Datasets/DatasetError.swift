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
        /// The file holds no valid example.
        case noExamples
        /// The line is longer than the reader's limit (`InputLimits.maximumLineBytes`); the reader goes on after it.
        case lineTooLong
        /// The file could not be read or written (or is corrupt gzip, or gzip expanding beyond `InputLimits`).
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
