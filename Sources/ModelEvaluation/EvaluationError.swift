import Foundation

/// An evaluation failure a user can act on: an unreadable or malformed input file (named with its line and field),
/// a model list that cannot be compared, a rubric that does not load.
public struct EvaluationError: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }

    /// "file:line: field …" for a bad input line.
    static func line(_ url: URL, _ line: Int, _ reason: String) -> EvaluationError {
        EvaluationError("\(url.path):\(line): \(reason)")
    }
}
