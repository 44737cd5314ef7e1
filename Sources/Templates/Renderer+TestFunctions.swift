/// jinja2's built-in tests (`x is defined`, `n is divisibleby 3`, `s is string`), with Python's type rules
/// (a bool is a number; undefined is iterable).
extension Renderer {
    func applyTest(_ name: String, to value: TemplateValue, _ arguments: [TemplateValue]) throws -> Bool {
        func argument() throws -> TemplateValue { try Renderer.argument(arguments, 0, name) }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": if case .none = value { return true }; return false
        case "boolean": if case .boolean = value { return true }; return false
        case "true": if case .boolean(true) = value { return true }; return false
        case "false": if case .boolean(false) = value { return true }; return false
        case "integer": if case .integer = value { return true }; return false
        case "float": if case .double = value { return true }; return false
        case "number": return value.number != nil
        case "string": if case .string = value { return true }; return false
        case "mapping": if case .dictionary = value { return true }; return false
        case "callable": if case .function = value { return true }; return false
        case "iterable", "sequence":
            switch value {
            case .undefined, .string, .list, .tuple, .dictionary: return true
            default: return false
            }
        case "even", "odd":
            guard let number = value.integerValue else { throw TemplateError(.type, "\(name) needs an integer") }
            return (number % 2 == 0) == (name == "even")
        case "divisibleby":
            guard let number = value.integerValue, let divisor = try argument().integerValue, divisor != 0 else {
                throw TemplateError(.type, "divisibleby needs integers")
            }
            return number % divisor == 0
        case "eq", "equalto", "==": return value.equals(try argument())
        case "ne", "!=": return !value.equals(try argument())
        case "lt", "lessthan", "<": return try compare(value, try argument(), .less) < 0
        case "le", "<=": return try compare(value, try argument(), .lessOrEqual) <= 0
        case "gt", "greaterthan", ">": return try compare(value, try argument(), .greater) > 0
        case "ge", ">=": return try compare(value, try argument(), .greaterOrEqual) >= 0
        case "in": return try contains(try argument(), value)
        case "lower": return value.text.lowercased() == value.text
        case "upper": return value.text.uppercased() == value.text
        case "sameas":
            let other = try argument()
            switch (value, other) {
            case (.none, .none): return true
            case let (.boolean(a), .boolean(b)): return a == b
            case let (.namespace(a), .namespace(b)): return a === b
            default: return false
            }
        case "escaped": return false
        default: throw TemplateError(.syntax, "no test named '\(name)'")
        }
    }
}
