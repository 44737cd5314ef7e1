/// An error raised while parsing or rendering a Jinja template.
///
/// Each description names the template line and column where the problem is, as Jinja's own errors do.
public struct TemplateError: Error, Equatable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Equatable, Sendable {
        /// The template text is not valid Jinja (unclosed tag, unexpected token, unknown statement).
        case syntax
        /// The template called `raise_exception(message)`; `message` is exactly the template's text.
        case raised
        /// A name, attribute or key the template needed is undefined (jinja2's `UndefinedError`).
        case undefined
        /// An operation on values of the wrong type, e.g. `'a' + 1` (Python's `TypeError`, `ValueError`).
        case type
        /// Something the sandbox forbids, e.g. `list.append` (jinja2's `SecurityError`).
        case security
    }

    public let kind: Kind
    /// The message, without the location.
    public let message: String
    /// 1-based line and column in the template source; 0 when unknown.
    public internal(set) var line: Int
    public internal(set) var column: Int

    init(_ kind: Kind, _ message: String, line: Int = 0, column: Int = 0) {
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
    }

    init(_ kind: Kind, _ message: String, at position: Position) {
        self.init(kind, message, line: position.line, column: position.column)
    }

    public var description: String {
        let location = line > 0 ? " (template line \(line), column \(column))" : ""
        switch kind {
        case .raised: return "The chat template raised: \(message)\(location)"
        case .syntax: return "Template syntax error: \(message)\(location)"
        default: return "Template error: \(message)\(location)"
        }
    }

    /// The error located at `position` unless it already has a location.
    func located(at position: Position) -> TemplateError {
        guard line == 0 else { return self }
        var copy = self
        copy.line = position.line
        copy.column = position.column
        return copy
    }
}

/// A 1-based line and column in the template source.
struct Position: Equatable, Sendable {
    var line: Int
    var column: Int
}
