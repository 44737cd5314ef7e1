import Foundation

extension Renderer {
    func evaluate(_ expression: Expression) throws -> TemplateValue {
        switch expression {
        case let .string(text): return .string(text)
        case let .integer(value): return .integer(value)
        case let .float(value): return .double(value)
        case let .boolean(value): return .boolean(value)
        case .none: return .none
        case let .name(name): return lookup(name)
        case let .list(items): return .list(try items.map { try evaluate($0) })
        case let .tuple(items): return .tuple(try items.map { try evaluate($0) })
        case let .dictionary(pairs):
            var dictionary = TemplateDictionary()
            for pair in pairs {
                guard case let .string(key) = try evaluate(pair.key) else {
                    throw TemplateError(.type, "dictionary keys in templates must be strings")
                }
                dictionary[key] = try evaluate(pair.value)
            }
            return .dictionary(dictionary)
        case let .attribute(base, name):
            return try attribute(name, of: try defined(evaluate(base)))
        case let .index(base, key):
            return try item(try evaluate(key), of: try defined(evaluate(base)))
        case let .slice(base, start, stop, step):
            return try slice(try defined(evaluate(base)), start: start.map { try evaluate($0) },
                             stop: stop.map { try evaluate($0) }, step: step.map { try evaluate($0) })
        case let .call(callee, arguments):
            let (positional, keywords) = try evaluateArguments(arguments)
            return try call(try evaluate(callee), positional, keywords)
        case let .filter(base, name, arguments):
            return try applyFilter(name, to: try evaluate(base), arguments)
        case let .test(base, name, arguments, negated):
            let result = try applyTest(name, to: try evaluate(base), try arguments.positional.map { try evaluate($0) })
            return .boolean(result != negated)
        case let .not(operand): return .boolean(!(try evaluate(operand).isTruthy))
        case let .negate(operand):
            switch try defined(evaluate(operand)) {
            case let .integer(value): return .integer(-value)
            case let .double(value): return .double(-value)
            case let .boolean(value): return .integer(value ? -1 : 0)
            case let value: throw TemplateError(.type, "bad operand type for unary -: '\(value.typeName)'")
            }
        case let .plus(operand):
            let value = try defined(evaluate(operand))
            guard value.number != nil else { throw TemplateError(.type, "bad operand type for unary +: '\(value.typeName)'") }
            return value
        case let .and(left, right):
            let value = try evaluate(left)
            return value.isTruthy ? try evaluate(right) : value
        case let .or(left, right):
            let value = try evaluate(left)
            return value.isTruthy ? value : try evaluate(right)
        case let .conditional(condition, then, otherwise):
            if try evaluate(condition).isTruthy { return try evaluate(then) }
            return try otherwise.map { try evaluate($0) } ?? .undefined(reason: "the conditional expression had no else")
        case let .binary(op, left, right):
            return try binary(op, try evaluate(left), try evaluate(right))
        }
    }

    /// Positional and keyword argument values, with `*items` and `**options` spread out.
    func evaluateArguments(_ arguments: Arguments) throws -> ([TemplateValue], [(String, TemplateValue)]) {
        var positional = try arguments.positional.map { try evaluate($0) }
        var keywords = try arguments.keywords.map { ($0.name, try evaluate($0.value)) }
        if let spread = arguments.spread { positional += try iterate(try defined(evaluate(spread))) }
        if let spread = arguments.keywordSpread {
            guard case let .dictionary(options) = try defined(evaluate(spread)) else {
                throw TemplateError(.type, "argument after ** must be a mapping")
            }
            keywords += options.pairs.map { ($0.key, $0.value) }
        }
        return (positional, keywords)
    }

    /// The value itself, or jinja2's `UndefinedError` when it is undefined.
    func defined(_ value: TemplateValue) throws -> TemplateValue {
        if case let .undefined(reason) = value { throw TemplateError(.undefined, reason) }
        return value
    }

    func call(_ callee: TemplateValue, _ positional: [TemplateValue],
              _ keywords: [(String, TemplateValue)]) throws -> TemplateValue {
        switch callee {
        case let .function(function): return try function.call(positional, keywords)
        case let .undefined(reason): throw TemplateError(.undefined, reason)
        default: throw TemplateError(.type, "'\(callee.typeName)' object is not callable")
        }
    }

    /// `value.name`: jinja2 tries the Python attribute (a method) first, then the key.
    func attribute(_ name: String, of value: TemplateValue) throws -> TemplateValue {
        if let method = try method(name, of: value) { return .function(method) }
        switch value {
        case let .dictionary(dictionary):
            return dictionary[name] ?? .undefined(reason: "'dict object' has no attribute '\(name)'")
        case let .namespace(namespace):
            return namespace.attributes[name] ?? .undefined(reason: "'Namespace' has no attribute '\(name)'")
        case .none:
            return .undefined(reason: "'None' has no attribute '\(name)'")
        default:
            return .undefined(reason: "'\(value.typeName) object' has no attribute '\(name)'")
        }
    }

    /// `value[key]`: jinja2 tries the key or index first, then the attribute.
    func item(_ key: TemplateValue, of value: TemplateValue) throws -> TemplateValue {
        switch (value, key) {
        case let (.dictionary(dictionary), .string(name)):
            if let found = dictionary[name] { return found }
            return try attribute(name, of: value)
        case let (.namespace, .string(name)):
            return try attribute(name, of: value)
        case let (.list(items), _), let (.tuple(items), _):
            guard let index = key.integerValue else {
                if case let .string(name) = key { return try attribute(name, of: value) }
                throw TemplateError(.type, "list indices must be integers or slices, not \(key.typeName)")
            }
            let position = index < 0 ? items.count + index : index
            guard items.indices.contains(position) else {
                return .undefined(reason: "'\(value.typeName) object' has no element \(index)")
            }
            return items[position]
        case let (.string(text), _):
            guard let index = key.integerValue else {
                if case let .string(name) = key { return try attribute(name, of: value) }
                throw TemplateError(.type, "string indices must be integers, not '\(key.typeName)'")
            }
            let scalars = Array(text.unicodeScalars)
            let position = index < 0 ? scalars.count + index : index
            guard scalars.indices.contains(position) else {
                return .undefined(reason: "'str object' has no element \(index)")
            }
            return .string(String(scalars[position]))
        case (.dictionary, _):
            return .undefined(reason: "'dict object' has no attribute '\(key.text)'")
        default:
            if case let .string(name) = key { return try attribute(name, of: value) }
            return .undefined(reason: "'\(value.typeName) object' has no element \(key.repr)")
        }
    }

    /// Python's `value[start:stop:step]` on a list, tuple or string.
    func slice(_ value: TemplateValue, start: TemplateValue?, stop: TemplateValue?,
               step: TemplateValue?) throws -> TemplateValue {
        func bound(_ value: TemplateValue?) throws -> Int? {
            switch value {
            case nil, .none?, .undefined?: return nil
            case let value?:
                guard let integer = value.integerValue else {
                    throw TemplateError(.type, "slice indices must be integers or None")
                }
                return integer
            }
        }
        let stride = try bound(step) ?? 1
        guard stride != 0 else { throw TemplateError(.type, "slice step cannot be zero") }
        func indices(count: Int) throws -> [Int] {
            func clamp(_ index: Int?, _ fallback: Int) -> Int {
                guard var index else { return fallback }
                if index < 0 { index += count }
                return stride > 0 ? min(max(index, 0), count) : min(max(index, -1), count - 1)
            }
            let first = clamp(try bound(start), stride > 0 ? 0 : count - 1)
            let last = clamp(try bound(stop), stride > 0 ? count : -1)
            var result: [Int] = []
            var index = first
            while stride > 0 ? index < last : index > last {
                result.append(index)
                index += stride
            }
            return result
        }
        switch value {
        case let .list(items): return .list(try indices(count: items.count).map { items[$0] })
        case let .tuple(items): return .tuple(try indices(count: items.count).map { items[$0] })
        case let .string(text):
            let scalars = Array(text.unicodeScalars)
            var result = String.UnicodeScalarView()
            for index in try indices(count: scalars.count) { result.append(scalars[index]) }
            return .string(String(result))
        default:
            throw TemplateError(.type, "'\(value.typeName)' object is not subscriptable")
        }
    }

    func binary(_ op: BinaryOperator, _ left: TemplateValue, _ right: TemplateValue) throws -> TemplateValue {
        switch op {
        case .concatenate: return .string(left.text + right.text)
        case .equal: return .boolean(left.equals(right))
        case .notEqual: return .boolean(!left.equals(right))
        case .contains: return .boolean(try contains(right, left))
        case .notContains: return .boolean(!(try contains(right, left)))
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            let order = try compare(try defined(left), try defined(right), op)
            switch op {
            case .less: return .boolean(order < 0)
            case .lessOrEqual: return .boolean(order <= 0)
            case .greater: return .boolean(order > 0)
            default: return .boolean(order >= 0)
            }
        default:
            return try arithmetic(op, try defined(left), try defined(right))
        }
    }

    /// Refuses repetitions (`'x' * n`) beyond 10 million elements, as a sandbox must.
    static func checkSize(_ size: Int, _ count: Int) throws {
        let (total, overflow) = size.multipliedReportingOverflow(by: count)
        guard !overflow, total <= 10_000_000 else { throw TemplateError(.security, "the repeated value would be too large") }
    }

    /// Python's `needle in container`.
    func contains(_ container: TemplateValue, _ needle: TemplateValue) throws -> Bool {
        switch container {
        case .undefined: return false
        case let .string(text):
            guard case let .string(part) = needle else {
                throw TemplateError(.type, "'in <string>' requires string as left operand, not \(needle.typeName)")
            }
            return part.isEmpty || Renderer.find(part, in: text) != nil
        case let .list(items), let .tuple(items): return items.contains { $0.equals(needle) }
        case let .dictionary(dictionary):
            guard case let .string(key) = needle else { return false }
            return dictionary[key] != nil
        default:
            throw TemplateError(.type, "argument of type '\(container.typeName)' is not iterable")
        }
    }

    /// Byte offset of the first occurrence of `part` in `text` (Python compares code points, not graphemes).
    static func find(_ part: String, in text: String, from start: Int = 0) -> Int? {
        let bytes = Array(text.utf8), pattern = Array(part.utf8)
        guard pattern.count <= bytes.count else { return nil }
        var index = start
        while index + pattern.count <= bytes.count {
            if bytes[index..<(index + pattern.count)].elementsEqual(pattern) { return index }
            index += 1
        }
        return nil
    }

    /// -1, 0 or 1, as Python orders numbers, strings (by code point) and sequences.
    func compare(_ left: TemplateValue, _ right: TemplateValue, _ op: BinaryOperator) throws -> Int {
        switch (left, right) {
        case let (.string(a), .string(b)):
            let (x, y) = (Array(a.unicodeScalars.map(\.value)), Array(b.unicodeScalars.map(\.value)))
            return x.lexicographicallyPrecedes(y) ? -1 : x == y ? 0 : 1
        case let (.list(a), .list(b)), let (.tuple(a), .tuple(b)):
            for (x, y) in zip(a, b) where !x.equals(y) { return try compare(x, y, op) }
            return a.count < b.count ? -1 : a.count == b.count ? 0 : 1
        default:
            guard let a = left.number, let b = right.number else {
                throw TemplateError(.type, "'\(op.rawValue)' not supported between instances of "
                                    + "'\(left.typeName)' and '\(right.typeName)'")
            }
            return a < b ? -1 : a == b ? 0 : 1
        }
    }

    func arithmetic(_ op: BinaryOperator, _ left: TemplateValue, _ right: TemplateValue) throws -> TemplateValue {
        switch (op, left, right) {
        case let (.add, .string(a), .string(b)): return .string(a + b)
        case let (.add, .list(a), .list(b)): return .list(a + b)
        case let (.add, .tuple(a), .tuple(b)): return .tuple(a + b)
        case let (.modulo, .string(format), .tuple(arguments)):
            return .string(try Renderer.percentFormat(format, arguments))
        case let (.modulo, .string(format), _):
            return .string(try Renderer.percentFormat(format, [right]))
        case let (.multiply, .string(text), _) where right.integerValue != nil:
            let count = max(0, right.integerValue!)
            try Renderer.checkSize(text.utf8.count, count)
            return .string(String(repeating: text, count: count))
        case let (.multiply, .list(items), _) where right.integerValue != nil:
            let count = max(0, right.integerValue!)
            try Renderer.checkSize(items.count, count)
            return .list(Array(repeating: items, count: count).flatMap { $0 })
        default: break
        }
        if case .add = op, case .string = left {
            throw TemplateError(.type, "can only concatenate str (not \"\(right.typeName)\") to str")
        }
        if case .add = op, case .list = left {
            throw TemplateError(.type, "can only concatenate list (not \"\(right.typeName)\") to list")
        }
        guard let a = left.number, let b = right.number else {
            throw TemplateError(.type, "unsupported operand type(s) for \(op.rawValue): "
                                + "'\(left.typeName)' and '\(right.typeName)'")
        }
        if let x = left.integerValue, let y = right.integerValue {
            // Python's integers do not overflow; beyond Int's range this is an error rather than a wrong number.
            func checked(_ result: (partialValue: Int, overflow: Bool)) throws -> TemplateValue {
                guard !result.overflow else { throw TemplateError(.type, "integer result too large") }
                return .integer(result.partialValue)
            }
            switch op {
            case .add: return try checked(x.addingReportingOverflow(y))
            case .subtract: return try checked(x.subtractingReportingOverflow(y))
            case .multiply: return try checked(x.multipliedReportingOverflow(by: y))
            case .floorDivide, .modulo:
                guard y != 0 else { throw TemplateError(.type, "integer division or modulo by zero") }
                var quotient = x / y
                if (x % y != 0) && ((x < 0) != (y < 0)) { quotient -= 1 }  // Python floors toward -infinity
                return op == .floorDivide ? .integer(quotient) : .integer(x - quotient * y)
            case .power where y >= 0:
                // Exponentiation by squaring; the base is only squared while bits of the exponent remain.
                var (result, base, exponent) = (1, x, y)
                while exponent > 0 {
                    if exponent & 1 == 1 { result = try checked(result.multipliedReportingOverflow(by: base)).integerValue! }
                    exponent >>= 1
                    if exponent > 0 { base = try checked(base.multipliedReportingOverflow(by: base)).integerValue! }
                }
                return .integer(result)
            default: break
            }
        }
        switch op {
        case .add: return .double(a + b)
        case .subtract: return .double(a - b)
        case .multiply: return .double(a * b)
        case .divide:
            guard b != 0 else { throw TemplateError(.type, "division by zero") }
            return .double(a / b)
        case .floorDivide:
            guard b != 0 else { throw TemplateError(.type, "float floor division by zero") }
            return .double((a / b).rounded(.down))
        case .modulo:
            guard b != 0 else { throw TemplateError(.type, "float modulo") }
            return .double(a - (a / b).rounded(.down) * b)
        case .power: return .double(Foundation.pow(a, b))
        default: throw TemplateError(.type, "unsupported operator \(op.rawValue)")
        }
    }
}
