/// A JSON value that keeps what Charter's files need and Foundation's `JSONSerialization` blurs: object keys in
/// file order (written files keep their column and vocabulary order), booleans distinct from numbers
/// (`"label": true` vs `1`), and numbers as their literal text (ids and offsets survive a round trip exactly).
///
/// Strings and keys compare by their UTF-8 bytes, as JSON text does, not by Unicode canonical equivalence:
/// `"é"` and `"e\u0301"` are different vocabulary entries.
public enum JSONValue: Hashable, Sendable {
    case object([Member])
    case array([JSONValue])
    case string(String)
    /// A number as written, e.g. `0.75` or `12345678901234567890`.
    case number(JSONNumber)
    case bool(Bool)
    case null

    /// One key/value pair of an object.
    public struct Member: Hashable, Sendable {
        /// The key.
        public var key: String
        /// The value.
        public var value: JSONValue

        /// Memberwise initialiser.
        public init(_ key: String, _ value: JSONValue) {
            self.key = key
            self.value = value
        }

        public static func == (lhs: Member, rhs: Member) -> Bool {
            lhs.key.utf8.elementsEqual(rhs.key.utf8) && lhs.value == rhs.value
        }

        public func hash(into hasher: inout Hasher) {
            JSONValue.hashBytes(of: key, into: &hasher)
            hasher.combine(value)
        }
    }

    /// The value of the first member named `key` (compared byte for byte) when this is an object.
    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.key == key && $0.key.utf8.elementsEqual(key.utf8) }?.value
    }

    /// The keys of an object, in order (empty for other values).
    public var keys: [String] {
        guard case let .object(members) = self else { return [] }
        return members.map(\.key)
    }

    /// The string, when this is a string.
    public var stringValue: String? {
        if case let .string(text) = self { return text }
        return nil
    }

    /// The number as a `Double`, when this is a number.
    public var doubleValue: Double? {
        if case let .number(number) = self { return number.doubleValue }
        return nil
    }

    /// The number as an exact `Int`, when this is an integer literal that fits (see ``JSONNumber/integerValue``).
    public var integerValue: Int? {
        if case let .number(number) = self { return number.integerValue }
        return nil
    }

    /// The elements, when this is an array.
    public var arrayValue: [JSONValue]? {
        if case let .array(elements) = self { return elements }
        return nil
    }

    /// The strings, when this is an array of strings only.
    public var stringArrayValue: [String]? {
        guard let elements = arrayValue else { return nil }
        let strings = elements.compactMap(\.stringValue)
        return strings.count == elements.count ? strings : nil
    }

    /// The boolean, when this is a boolean.
    public var boolValue: Bool? {
        if case let .bool(value) = self { return value }
        return nil
    }

    /// A number value from a `Double` (see ``JSONNumber/init(_:)-(Double)``); NaN and ±infinity, which JSON cannot
    /// write, become `null` (strict readers such as `jq` and browsers would reject Python's `NaN`).
    public static func numeric(_ value: Double) -> JSONValue { value.isFinite ? .number(JSONNumber(value)) : .null }

    /// How error messages name this value's type: "string", "number", "boolean", "null", "object", "list".
    public var typeName: String {
        switch self {
        case .object: return "object"
        case .array: return "list"
        case .string: return "string"
        case .number: return "number"
        case .bool: return "boolean"
        case .null: return "null"
        }
    }

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case let (.object(a), .object(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.string(a), .string(b)): return a.utf8.elementsEqual(b.utf8)
        case let (.number(a), .number(b)): return a == b
        case let (.bool(a), .bool(b)): return a == b
        case (.null, .null): return true
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case let .object(members): hasher.combine(0); hasher.combine(members)
        case let .array(elements): hasher.combine(1); hasher.combine(elements)
        case let .string(text): hasher.combine(2); Self.hashBytes(of: text, into: &hasher)
        case let .number(number): hasher.combine(3); hasher.combine(number)
        case let .bool(value): hasher.combine(4); hasher.combine(value)
        case .null: hasher.combine(5)
        }
    }

    /// Hashes a string's UTF-8 bytes (consistent with the byte-wise `==` above).
    static func hashBytes(of text: String, into hasher: inout Hasher) {
        hasher.combine(text.utf8.count)
        if text.utf8.withContiguousStorageIfAvailable({ hasher.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
            for byte in text.utf8 { hasher.combine(byte) }
        }
    }
}
