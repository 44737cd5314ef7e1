import Foundation

extension JSONValue {
    /// A record built from Foundation values — the `[String: Any]` of metrics, sample records and effective
    /// configurations (Swift's String, Bool, integers, Float, Double, NSNumber, NSNull, arrays and dictionaries,
    /// as YAML recipes and `JSONEncoder` round trips produce them) — with object keys sorted, as Charter's metric
    /// and configuration files have always been written.
    ///
    /// Numbers that have no JSON form (NaN, ±infinity) become `null`, so a record with one stays valid JSON.
    /// - Throws: ``JSONConversionError`` naming the type of a value that has no JSON form.
    public init(foundation value: Any) throws {
        switch value {
        case let json as JSONValue: self = json
        case is NSNull: self = .null
        case let text as String: self = .string(text)
        case let flag as Bool where Swift.type(of: value) == Bool.self: self = .bool(flag)
        case let integer as Int where Swift.type(of: value) == Int.self: self = .number(JSONNumber(integer))
        case let double as Double where Swift.type(of: value) == Double.self: self = .numeric(double)
        case let float as Float where Swift.type(of: value) == Float.self: self = .float(float)  // 0.05, not 0.05000000074505806
        case let integer as Int32 where Swift.type(of: value) == Int32.self: self = .number(JSONNumber(Int(integer)))
        case let integer as Int64 where Swift.type(of: value) == Int64.self: self = .number(JSONNumber(Int(integer)))
        case let integer as UInt64 where Swift.type(of: value) == UInt64.self: self = .number(JSONNumber(String(integer)))
        case let number as NSNumber: self = Self.bridged(number)
        case let list as [Any]: self = .array(try list.map { try JSONValue(foundation: $0) })
        case let object as [String: Any]:
            // Each value as stored (not `object[key] as Any`, an Optional whose type hides a Float's).
            self = .object(try object.sorted { $0.key < $1.key }.map { Member($0.key, try JSONValue(foundation: $0.value)) })
        default: throw JSONConversionError(typeName: "\(Swift.type(of: value))")
        }
    }

    /// An `NSNumber` (from `JSONSerialization` or bridging) by the type it holds: booleans, integers or doubles.
    static func bridged(_ number: NSNumber) -> JSONValue {
        switch String(cString: number.objCType) {
        case "c", "B": return .bool(number.boolValue)
        case "f", "d": return .numeric(number.doubleValue)
        case "Q", "L", "I", "S", "C": return .number(JSONNumber(String(number.uint64Value)))
        default: return .number(JSONNumber(Int(number.int64Value)))
        }
    }
}

extension JSONValue {
    /// The value as Foundation values (`[String: Any]`, `[Any]`, `String`, `Int` for integer literals that fit,
    /// `Double` for other numbers, `Bool`, `NSNull`): the inverse of ``init(foundation:)`` for code that works on
    /// `Any` records (recipe values, effective configurations).
    public var foundationValue: Any {
        switch self {
        case let .object(members):
            return Dictionary(members.map { ($0.key, $0.value.foundationValue) }, uniquingKeysWith: { _, last in last })
        case let .array(elements): return elements.map(\.foundationValue)
        case let .string(text): return text
        case let .number(number): return number.integerValue.map { $0 as Any } ?? number.doubleValue ?? 0
        case let .bool(flag): return flag
        case .null: return NSNull()
        }
    }
}

/// A Foundation value with no JSON form (a date, a custom type) met while converting a record.
public struct JSONConversionError: Error, CustomStringConvertible {
    /// The Swift type of the value.
    public let typeName: String
    public var description: String { "a value of type \(typeName) cannot be written as JSON" }
}
