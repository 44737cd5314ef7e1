import Foundation
import Settings

/// A constitution, recipe or input file that cannot be used: the file, each problem's field path
/// (`principles[3].critique_request`) and what is wrong.
public struct ConstitutionError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// One problem at one field.
    public struct Problem: Equatable, Sendable, CustomStringConvertible {
        /// Dotted path with list indices, e.g. `principles[2].weight`; empty for the whole file.
        public var path: String
        public var message: String
        public init(_ path: String, _ message: String) {
            self.path = path
            self.message = message
        }
        public var description: String { path.isEmpty ? message : "\(path): \(message)" }
    }

    public var file: String
    public var problems: [Problem]

    public init(file: String, problems: [Problem]) {
        self.file = file
        self.problems = problems
    }

    public init(file: String, path: String, _ message: String) {
        self.init(file: file, problems: [Problem(path, message)])
    }

    /// YAML over the pre-check's bounds (nesting, alias expansion), at its line.
    public init(file: String, yaml error: YAMLLimitError) {
        self.init(file: file, problems: [Problem("line \(error.line)", error.message)])
    }

    /// A Codable decoding failure as a field path and message (e.g. `urls: missing (required)`).
    public init(file: String, decoding error: DecodingError) {
        self.init(file: file, problems: [Constitution.problem(error)])
    }

    public var description: String {
        if problems.count == 1 { return "\(file): \(problems[0])" }
        return "\(file): \(problems.count) problems:\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }

    public var errorDescription: String? { description }
}

/// Failures of the Constitutional layer's runs that a user can act on.
public struct ConstitutionalError: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}
