import JSON

/// How safetensors headers and index files read JSON values: untrusted input, so nesting is bounded tightly and
/// integers are read exactly from their literal text (no detour through `Double`).
extension JSONValue {
    /// Nesting bound for headers and index files (real ones nest three levels).
    static let headerMaximumDepth = 64

    /// The value as a non-negative integer, or nil when it is not an integer literal or does not fit in `Int`.
    var nonNegativeInteger: Int? {
        guard case let .number(number) = self, !number.text.hasPrefix("-") else { return nil }
        return number.integerValue
    }

    /// A short name of the value's JSON type, for error messages (numbers show their text: `number -1`).
    var headerTypeName: String {
        switch self {
        case .object: return "object"
        case .array: return "array"
        case .string: return "string"
        case let .number(number): return "number \(number.text)"
        case .bool: return "boolean"
        case .null: return "null"
        }
    }
}
