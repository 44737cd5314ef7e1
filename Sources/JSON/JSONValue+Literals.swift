/// Building values in code: literals (`["id": "a", "attempts": 2]`, keys in the order written) and objects from
/// Swift dictionaries with their keys sorted, as Charter's logs and configs are written.
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(JSONNumber(value)) }
    public init(floatLiteral value: Double) { self = .numeric(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(elements.map { Member($0, $1) }) }
    public init(nilLiteral: ()) { self = .null }

    /// An object with `members`' keys in ascending (byte) order, as Python's `sort_keys=True` writes them.
    public init(sortingKeys members: [String: JSONValue]) {
        self = .object(members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { Member($0.key, $0.value) })
    }

    /// A number from a `Float` in its shortest round-tripping form (`-2.3025851`, not the `Double` widening's
    /// `-2.302585124969482`); NaN and ±infinity become `null`, as in ``numeric(_:)``.
    public static func float(_ value: Float) -> JSONValue { value.isFinite ? .number(JSONNumber("\(value)")) : .null }

    /// A number from an `Int`.
    public static func integer(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }

    /// The value with every object's keys sorted (byte order), at every depth.
    public var sortingKeys: JSONValue {
        switch self {
        case let .object(members):
            return .object(members.map { Member($0.key, $0.value.sortingKeys) }
                .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) })
        case let .array(elements): return .array(elements.map(\.sortingKeys))
        default: return self
        }
    }
}
