import Foundation
import JSON

extension JSONValue {
    /// A record built from Foundation values — the `[String: Any]` of metrics, sample records and effective
    /// configurations (Swift's String, Bool, integers, Float, Double, NSNumber, NSNull, arrays and dictionaries,
    /// as YAML recipes and `JSONEncoder` round trips produce them) — with object keys sorted, as Charter's metric
    /// and configuration files have always been written.
    ///
    /// Numbers that have no JSON form (NaN, ±infinity) become `null`, so a record with one stays valid JSON.
    /// - Throws: `TrainingError.data` naming the type of a value that has no JSON form.
    public init(foundation value: Any) throws {
        switch value {
        case let json as JSONValue: self = json
        case is NSNull: self = .null
        case let text as String: self = .string(text)
        case let flag as Bool where Swift.type(of: value) == Bool.self: self = .bool(flag)
        case let integer as Int where Swift.type(of: value) == Int.self: self = .number(JSONNumber(integer))
        case let double as Double where Swift.type(of: value) == Double.self: self = Self.number(double)
        case let float as Float where Swift.type(of: value) == Float.self: self = Self.number(Double(float))
        case let integer as Int32 where Swift.type(of: value) == Int32.self: self = .number(JSONNumber(Int(integer)))
        case let integer as Int64 where Swift.type(of: value) == Int64.self: self = .number(JSONNumber(Int(integer)))
        case let integer as UInt64 where Swift.type(of: value) == UInt64.self: self = .number(JSONNumber(String(integer)))
        case let number as NSNumber: self = Self.number(number)
        case let list as [Any]: self = .array(try list.map { try JSONValue(foundation: $0) })
        case let object as [String: Any]:
            self = .object(try object.keys.sorted().map { Member($0, try JSONValue(foundation: object[$0] as Any)) })
        default: throw TrainingError.data("a value of type \(Swift.type(of: value)) cannot be written as JSON")
        }
    }

    /// A finite number, or null.
    static func number(_ value: Double) -> JSONValue { value.isFinite ? .numeric(value) : .null }

    /// An `NSNumber` (from `JSONSerialization` or bridging) by the type it holds: booleans, integers or doubles.
    static func number(_ number: NSNumber) -> JSONValue {
        switch String(cString: number.objCType) {
        case "c", "B": return .bool(number.boolValue)
        case "f", "d": return Self.number(number.doubleValue)
        case "Q", "L", "I", "S", "C": return .number(JSONNumber(String(number.uint64Value)))
        default: return .number(JSONNumber(Int(number.int64Value)))
        }
    }

    /// The value as a `JSONEncoder` writes it with `formatting` (`.prettyPrinted`, `.sortedKeys`, …): the layout
    /// of Charter's pretty-printed files (training_config.json, metrics printed by the trainer commands).
    public func encoded(_ formatting: JSONEncoder.OutputFormatting) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = formatting
        return try encoder.encode(self)
    }
}
