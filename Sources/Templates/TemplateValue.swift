import JSON

/// A value inside a template, with Python's semantics as jinja2 gives them: truthiness, `==`, `str()`, `repr()`.
public enum TemplateValue {
    /// jinja2's default `Undefined`: falsy, renders as "", iterates as empty; using it in arithmetic or reading
    /// an attribute of it is an error whose message is `reason` (e.g. `'x' is undefined`).
    case undefined(reason: String)
    case none
    case boolean(Bool)
    case integer(Int)
    case double(Double)
    case string(String)
    case list([TemplateValue])
    case tuple([TemplateValue])
    case dictionary(TemplateDictionary)
    /// `namespace(…)`: the one mutable object, shared by reference so loops can update it.
    case namespace(Namespace)
    /// Macros, globals (`range`, `raise_exception`) and bound methods (`'a b'.split`).
    case function(Function)

    /// A mutable attribute bag created by `namespace()`.
    public final class Namespace {
        var attributes: TemplateDictionary
        init(_ attributes: TemplateDictionary) { self.attributes = attributes }
    }

    /// Something callable with positional and keyword arguments.
    public struct Function {
        let name: String
        let call: ([TemplateValue], [(String, TemplateValue)]) throws -> TemplateValue
    }

    /// Converts a JSON value (messages, tools, extra context) to a template value.
    public init(_ json: JSONValue) {
        switch json {
        case .null: self = .none
        case let .bool(value): self = .boolean(value)
        case let .number(number):
            if let integer = number.integerValue { self = .integer(integer) } else { self = .double(number.doubleValue ?? 0) }
        case let .string(text): self = .string(text)
        case let .array(items): self = .list(items.map(TemplateValue.init))
        case let .object(members):
            var dictionary = TemplateDictionary()
            for member in members { dictionary[member.key] = TemplateValue(member.value) }
            self = .dictionary(dictionary)
        }
    }

    static func undefinedName(_ name: String) -> TemplateValue { .undefined(reason: "'\(name)' is undefined") }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// Python's `bool(value)`.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case let .boolean(value): return value
        case let .integer(value): return value != 0
        case let .double(value): return value != 0
        case let .string(text): return !text.isEmpty
        case let .list(items), let .tuple(items): return !items.isEmpty
        case let .dictionary(dictionary): return !dictionary.isEmpty
        case .namespace, .function: return true
        }
    }

    /// Python's type name, for error messages like jinja2's (`'dict object' has no attribute 'x'`).
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .boolean: return "bool"
        case .integer: return "int"
        case .double: return "float"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dictionary: return "dict"
        case .namespace: return "Namespace"
        case .function: return "function"
        }
    }

    /// The value as a number when it is a bool, int or float (Python's bool is an int).
    var number: Double? {
        switch self {
        case let .boolean(value): return value ? 1 : 0
        case let .integer(value): return Double(value)
        case let .double(value): return value
        default: return nil
        }
    }

    var integerValue: Int? {
        switch self {
        case let .boolean(value): return value ? 1 : 0
        case let .integer(value): return value
        default: return nil
        }
    }

    /// Python's `==`.
    func equals(_ other: TemplateValue) -> Bool {
        switch (self, other) {
        case (.undefined, .undefined), (.none, .none): return true
        case let (.string(left), .string(right)): return left.unicodeScalars.elementsEqual(right.unicodeScalars)
        case let (.list(left), .list(right)), let (.tuple(left), .tuple(right)):
            return left.count == right.count && zip(left, right).allSatisfy { $0.equals($1) }
        case let (.dictionary(left), .dictionary(right)):
            return left.count == right.count
                && left.keys.allSatisfy { key in right[key].map { left[key]!.equals($0) } ?? false }
        case let (.namespace(left), .namespace(right)): return left === right
        default:
            if let left = number, let right = other.number { return left == right }
            return false
        }
    }

    /// Python's `str(value)`; undefined is "".
    var text: String {
        switch self {
        case .undefined: return ""
        case let .string(text): return text
        default: return repr
        }
    }

    /// Python's `repr(value)`: `'text'`, `None`, `True`, `[1, 'a']`, `{'k': 1.5}`.
    var repr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case let .boolean(value): return value ? "True" : "False"
        case let .integer(value): return String(value)
        case let .double(value): return TemplateValue.pythonFloat(value)
        case let .string(text): return TemplateValue.pythonRepr(text)
        case let .list(items): return "[" + items.map(\.repr).joined(separator: ", ") + "]"
        case let .tuple(items):
            return items.count == 1 ? "(" + items[0].repr + ",)" : "(" + items.map(\.repr).joined(separator: ", ") + ")"
        case let .dictionary(dictionary):
            return "{" + dictionary.pairs.map { TemplateValue.pythonRepr($0.key) + ": " + $0.value.repr }
                .joined(separator: ", ") + "}"
        case let .namespace(namespace): return "<Namespace " + TemplateValue.dictionary(namespace.attributes).repr + ">"
        case let .function(function): return "<function \(function.name)>"
        }
    }

    /// Python's `repr(float)`: the shortest digits that round-trip, positional for exponents -4 ..< 16.
    static func pythonFloat(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description also gives the shortest round-tripping digits; only the layout differs.
        let description = "\(value.magnitude)"
        var mantissa = description, exponent = 0
        if let e = description.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = String(description[..<e])
            exponent = Int(description[description.index(after: e)...]) ?? 0
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        var digits = String(parts[0]) + (parts.count > 1 ? String(parts[1]) : "")
        exponent += parts[0].count - 1
        let leadingZeros = digits.prefix { $0 == "0" }.count
        digits.removeFirst(leadingZeros)
        exponent -= leadingZeros
        while digits.count > 1 && digits.hasSuffix("0") { digits.removeLast() }
        let sign = value < 0 ? "-" : ""
        if exponent >= 16 || exponent < -4 {
            let fraction = digits.count > 1 ? "." + digits.dropFirst() : ""
            let exponentText = (exponent < 0 ? "-" : "+") + (abs(exponent) < 10 ? "0" : "") + String(abs(exponent))
            return sign + digits.prefix(1) + fraction + "e" + exponentText
        }
        if exponent < 0 { return sign + "0." + String(repeating: "0", count: -exponent - 1) + digits }
        if digits.count <= exponent + 1 {
            return sign + digits + String(repeating: "0", count: exponent + 1 - digits.count) + ".0"
        }
        return sign + digits.prefix(exponent + 1) + "." + digits.dropFirst(exponent + 1)
    }

    /// Python's `repr(str)`: single quotes unless the text has one and no double quote; escapes as Python writes them.
    static func pythonRepr(_ text: String) -> String {
        let quote: Unicode.Scalar = text.unicodeScalars.contains("'") && !text.unicodeScalars.contains("\"") ? "\"" : "'"
        var result = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case quote: result += "\\" + String(quote)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) {
                    result += "\\x" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + String(quote)
    }

    /// The value as JSON, for `tojson` (Python's `json.dumps`); undefined, namespaces and functions are errors.
    func json() throws -> JSONValue {
        switch self {
        case .none: return .null
        case let .boolean(value): return .bool(value)
        case let .integer(value): return .number(JSONNumber(value))
        case let .double(value):
            if value.isNaN { return .number(JSONNumber("NaN")) }
            if value.isInfinite { return .number(JSONNumber(value < 0 ? "-Infinity" : "Infinity")) }
            return .number(JSONNumber(TemplateValue.pythonFloat(value)))
        case let .string(text): return .string(text)
        case let .list(items), let .tuple(items): return .array(try items.map { try $0.json() })
        case let .dictionary(dictionary):
            return .object(try dictionary.pairs.map { JSONValue.Member($0.key, try $0.value.json()) })
        default:
            throw TemplateError(.type, "Object of type \(typeName) is not JSON serializable")
        }
    }
}

/// A Python `dict` with string keys, in insertion order.
public struct TemplateDictionary {
    /// The keys in insertion order.
    public private(set) var keys: [String] = []
    private var values: [String: TemplateValue] = [:]

    public init() {}

    var count: Int { keys.count }
    var isEmpty: Bool { keys.isEmpty }
    var pairs: [(key: String, value: TemplateValue)] { keys.map { ($0, values[$0]!) } }

    /// The value for `key`; setting nil removes the key.
    public subscript(key: String) -> TemplateValue? {
        get { values[key] }
        set {
            if values[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil, values[key] != nil { keys.removeAll { $0 == key } }
            values[key] = newValue
        }
    }
}
