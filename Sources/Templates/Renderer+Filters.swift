import Foundation
import JSON

/// jinja2's built-in filters, as chat templates use them, with transformers' `tojson`
/// (`json.dumps(value, ensure_ascii=False, indent=…)`, no HTML escaping).
extension Renderer {
    func applyFilter(_ name: String, to value: TemplateValue, _ arguments: Arguments) throws -> TemplateValue {
        let (positional, keywords) = try evaluateArguments(arguments)
        return try filter(name, value, positional, keywords)
    }

    /// The argument at `index`, or the keyword `name`, or nil.
    private func option(_ positional: [TemplateValue], _ keywords: [(String, TemplateValue)], _ index: Int,
                        _ name: String) -> TemplateValue? {
        if index < positional.count { return positional[index] }
        return keywords.first { $0.0 == name }?.1
    }

    func filter(_ name: String, _ value: TemplateValue, _ positional: [TemplateValue],
                _ keywords: [(String, TemplateValue)]) throws -> TemplateValue {
        func option(_ index: Int, _ key: String) -> TemplateValue? { self.option(positional, keywords, index, key) }
        func text(_ value: TemplateValue) throws -> String {
            if case .undefined = value { return "" }
            return value.text
        }
        switch name {
        case "default", "d":
            let fallback = option(0, "default_value") ?? .string("")
            let boolean = option(1, "boolean")?.isTruthy ?? false
            return value.isUndefined || (boolean && !value.isTruthy) ? fallback : value
        case "length", "count":
            switch value {
            case .undefined: return .integer(0)
            case let .string(text): return .integer(text.unicodeScalars.count)
            case let .list(items), let .tuple(items): return .integer(items.count)
            case let .dictionary(dictionary): return .integer(dictionary.count)
            default: throw TemplateError(.type, "object of type '\(value.typeName)' has no len()")
            }
        case "string": return .string(try text(value))
        case "trim":
            return .string(PythonText.strip(try text(value), option(0, "chars").flatMap { $0.isUndefined ? nil : $0.text }))
        case "upper": return .string(try text(value).uppercased())
        case "lower": return .string(try text(value).lowercased())
        case "capitalize": return .string(PythonText.capitalize(try text(value)))
        case "title": return .string(PythonText.jinjaTitle(try text(value)))
        case "replace":
            guard let old = option(0, "old"), let new = option(1, "new") else {
                throw TemplateError(.type, "replace needs the old and new strings")
            }
            return .string(PythonText.replace(try text(value), old.text, new.text,
                                              count: option(2, "count")?.integerValue ?? -1))
        case "safe", "escape", "e", "forceescape":
            guard name != "safe" else { return value }
            var escaped = ""
            for character in try text(value).unicodeScalars {
                switch character {
                case "&": escaped += "&amp;"
                case "<": escaped += "&lt;"
                case ">": escaped += "&gt;"
                case "\"": escaped += "&#34;"
                case "'": escaped += "&#39;"
                default: escaped.unicodeScalars.append(character)
                }
            }
            return .string(escaped)
        case "tojson":
            let indent = option(0, "indent").flatMap(\.integerValue)
            var json = try value.json()
            if option(3, "sort_keys")?.isTruthy ?? false { json = Renderer.sortedKeys(json) }
            var separators = (item: indent == nil ? ", " : ",", key: ": ")
            if let given = option(2, "separators"), !(given.isUndefined), given.isTruthy {
                let parts = try iterate(given)
                guard parts.count == 2 else { throw TemplateError(.type, "separators must be an (item, key) pair") }
                separators = (parts[0].text, parts[1].text)
            }
            var output = ""
            Renderer.writeJSON(json, indent: indent, separators: separators, depth: 0, to: &output)
            return .string(output)
        case "join":
            let separator = option(0, "d")?.text ?? ""
            var items = try iterate(value)
            if let attribute = option(1, "attribute") { items = try items.map { try self.path(attribute, of: $0) } }
            return .string(items.map(\.text).joined(separator: separator))
        case "first", "last":
            let items = try iterate(value)
            return (name == "first" ? items.first : items.last) ?? .undefined(reason: "No \(name) item, sequence was empty.")
        case "list": return .list(try iterate(value))
        case "reverse":
            if case let .string(text) = value { return .string(String(String.UnicodeScalarView(text.unicodeScalars.reversed()))) }
            return .list(try iterate(value).reversed())
        case "items":
            guard case let .dictionary(dictionary) = value else {
                if value.isUndefined { return .list([]) }
                throw TemplateError(.type, "Can only get item pairs from a mapping.")
            }
            return .list(dictionary.pairs.map { .tuple([.string($0.key), $0.value]) })
        case "dictsort":
            guard case let .dictionary(dictionary) = value else { throw TemplateError(.type, "dictsort expects a mapping") }
            let byValue = option(1, "by")?.text == "value"
            let caseSensitive = option(0, "case_sensitive")?.isTruthy ?? false
            var pairs = dictionary.pairs.map { TemplateValue.tuple([.string($0.key), $0.value]) }
            try sortValues(&pairs, key: { pair in
                guard case let .tuple(parts) = pair else { return pair }
                let key = parts[byValue ? 1 : 0]
                if !caseSensitive, case let .string(text) = key { return .string(text.lowercased()) }
                return key
            })
            if option(2, "reverse")?.isTruthy ?? false { pairs.reverse() }
            return .list(pairs)
        case "sort":
            var items = try iterate(value)
            let caseSensitive = option(1, "case_sensitive")?.isTruthy ?? false
            let attribute = option(2, "attribute")
            try sortValues(&items, key: { item in
                let key = try attribute.map { try self.path($0, of: item) } ?? item
                if !caseSensitive, case let .string(text) = key { return .string(text.lowercased()) }
                return key
            })
            if option(0, "reverse")?.isTruthy ?? false { items.reverse() }
            return .list(items)
        case "unique":
            var seen: [TemplateValue] = []
            for item in try iterate(value) where !seen.contains(where: { $0.equals(item) }) { seen.append(item) }
            return .list(seen)
        case "map":
            let items = try iterate(value)
            if let attribute = keywords.first(where: { $0.0 == "attribute" })?.1 {
                let fallback = keywords.first { $0.0 == "default" }?.1
                return .list(try items.map { item in
                    let found = try self.path(attribute, of: item)
                    return found.isUndefined ? fallback ?? found : found
                })
            }
            guard let filterName = positional.first?.text else { throw TemplateError(.type, "map needs a filter name") }
            return .list(try items.map { try self.filter(filterName, $0, Array(positional.dropFirst()), keywords) })
        case "select", "reject", "selectattr", "rejectattr":
            let byAttribute = name.hasSuffix("attr")
            let keep = name.hasPrefix("select")
            var arguments = positional
            let attribute = byAttribute ? (arguments.isEmpty ? nil : arguments.removeFirst()) : nil
            let testName = arguments.isEmpty ? nil : arguments.removeFirst().text
            return .list(try iterate(value).filter { item in
                let subject = try attribute.map { try self.path($0, of: item) } ?? item
                let passes = try testName.map { try self.applyTest($0, to: subject, arguments) } ?? subject.isTruthy
                return passes == keep
            })
        case "abs":
            switch value {
            case let .integer(number): return .integer(abs(number))
            case let .double(number): return .double(abs(number))
            default: throw TemplateError(.type, "bad operand type for abs(): '\(value.typeName)'")
            }
        case "int":
            let fallback = option(0, "default") ?? .integer(0)
            switch value {
            case let .integer(number): return .integer(number)
            case let .boolean(flag): return .integer(flag ? 1 : 0)
            case let .double(number): return Int(exactly: number.rounded(.towardZero)).map { .integer($0) } ?? fallback
            case let .string(text):
                let trimmed = PythonText.strip(text).replacingOccurrences(of: "_", with: "")
                if let number = Int(trimmed) { return .integer(number) }
                if let number = Double(trimmed), let integer = Int(exactly: number.rounded(.towardZero)) {
                    return .integer(integer)
                }
                return fallback
            default: return fallback
            }
        case "float":
            let fallback = option(0, "default") ?? .double(0)
            switch value {
            case let .string(text): return Double(PythonText.strip(text)).map { .double($0) } ?? fallback
            default: return value.number.map { .double($0) } ?? fallback
            }
        case "round":
            guard let number = value.number else { throw TemplateError(.type, "round needs a number") }
            let precision = option(0, "precision")?.integerValue ?? 0
            let method = option(1, "method")?.text ?? "common"
            let scale = Foundation.pow(10.0, Double(precision))
            let rule: FloatingPointRoundingRule = method == "ceil" ? .up : method == "floor" ? .down
                : .toNearestOrEven  // Python's round() rounds halves to even
            return .double((number * scale).rounded(rule) / scale)
        case "indent":
            let width = option(0, "width")
            let indentation = width.flatMap { $0.integerValue.map { String(repeating: " ", count: $0) } }
                ?? width?.text ?? "    "
            let first = option(1, "first")?.isTruthy ?? false
            let blank = option(2, "blank")?.isTruthy ?? false
            var lines = PythonText.split(try text(value), "\n")
            for index in lines.indices where (index > 0 || first) && (blank || !PythonText.strip(lines[index]).isEmpty) {
                lines[index] = indentation + lines[index]
            }
            return .string(lines.joined(separator: "\n"))
        case "sum":
            var total = option(1, "start") ?? .integer(0)
            let attribute = option(0, "attribute")
            for item in try iterate(value) {
                total = try arithmetic(.add, total, try attribute.map { try self.path($0, of: item) } ?? item)
            }
            return total
        case "max", "min":
            let items = try iterate(value)
            guard var best = items.first else { return .undefined(reason: "No aggregated item, sequence was empty.") }
            for item in items.dropFirst() {
                let order = try compare(item, best, .less)
                if name == "max" ? order > 0 : order < 0 { best = item }
            }
            return best
        case "attr":
            return try attribute(option(0, "name")?.text ?? "", of: value)
        case "batch":
            guard let size = option(0, "linecount")?.integerValue, size > 0 else {
                throw TemplateError(.type, "batch needs a positive size")
            }
            let items = try iterate(value)
            let fill = option(1, "fill_with")
            var batches: [TemplateValue] = []
            var start = 0
            while start < items.count {
                var batch = Array(items[start..<min(start + size, items.count)])
                if let fill, batch.count < size { batch += Array(repeating: fill, count: size - batch.count) }
                batches.append(.list(batch))
                start += size
            }
            return .list(batches)
        case "wordcount":
            return .integer(PythonText.split(try text(value), nil).count)
        case "format":
            return .string(try Renderer.percentFormat(try text(value), positional))
        default:
            throw TemplateError(.syntax, "no filter named '\(name)'")
        }
    }

    /// `attribute` of `item`, where the attribute may be dotted (`function.name`) or an index.
    func path(_ attribute: TemplateValue, of item: TemplateValue) throws -> TemplateValue {
        if let index = attribute.integerValue { return try self.item(.integer(index), of: item) }
        var current = item
        for part in PythonText.split(attribute.text, ".") {
            if current.isUndefined { return current }
            current = try self.item(Int(part).map { .integer($0) } ?? .string(part), of: current)
        }
        return current
    }

    /// A stable sort by `key` with Python's ordering.
    private func sortValues(_ items: inout [TemplateValue], key: (TemplateValue) throws -> TemplateValue) throws {
        let keyed = try items.enumerated().map { (offset: $0.offset, key: try key($0.element), value: $0.element) }
        var failure: Error?
        let sorted = keyed.sorted { left, right in
            do {
                let order = try compare(left.key, right.key, .less)
                return order != 0 ? order < 0 : left.offset < right.offset
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
        items = sorted.map(\.value)
    }

    /// Python's `json.dumps(value, ensure_ascii=False, indent=indent, separators=separators)`.
    static func writeJSON(_ json: JSONValue, indent: Int?, separators: (item: String, key: String), depth: Int,
                          to output: inout String) {
        func container<Item>(_ items: [Item], _ open: String, _ close: String, _ write: (Item) -> Void) {
            output += open
            guard !items.isEmpty else { return output += close }
            let inner = indent.map { "\n" + String(repeating: " ", count: $0 * (depth + 1)) } ?? ""
            for (index, item) in items.enumerated() {
                if index > 0 { output += separators.item }
                output += inner
                write(item)
            }
            if let indent { output += "\n" + String(repeating: " ", count: indent * depth) }
            output += close
        }
        switch json {
        case let .object(members):
            container(members, "{", "}") { member in
                output += JSONValue.quoted(member.key, style: .python) + separators.key
                writeJSON(member.value, indent: indent, separators: separators, depth: depth + 1, to: &output)
            }
        case let .array(items):
            container(items, "[", "]") { writeJSON($0, indent: indent, separators: separators, depth: depth + 1, to: &output) }
        default:
            output += json.serialized(.python)
        }
    }

    static func sortedKeys(_ json: JSONValue) -> JSONValue {
        switch json {
        case let .object(members):
            return .object(members.sorted { Array($0.key.unicodeScalars.map(\.value)).lexicographicallyPrecedes(
                Array($1.key.unicodeScalars.map(\.value))) }.map { JSONValue.Member($0.key, sortedKeys($0.value)) })
        case let .array(items): return .array(items.map(sortedKeys))
        default: return json
        }
    }

    /// Python's `format % arguments` for `%s`, `%d`, `%r` and `%%` (jinja2's `format` filter).
    static func percentFormat(_ format: String, _ arguments: [TemplateValue]) throws -> String {
        var remaining = arguments[...]
        return try expandingPercentDirectives(format) { directive in
            if directive == "%" { return "%" }
            guard let argument = remaining.popFirst() else {
                throw TemplateError(.type, "not enough arguments for format string")
            }
            switch directive {
            case "s": return argument.text
            case "r": return argument.repr
            case "d", "i":
                guard let number = argument.number else { throw TemplateError(.type, "%d format: a number is required") }
                guard let integer = Int(exactly: number.rounded(.towardZero)) else {
                    throw TemplateError(.type, "%d format: the number is too large")
                }
                return String(integer)
            default: throw TemplateError(.type, "unsupported format character '\(directive)'")
            }
        }
    }

    /// `format` with every `%x` replaced by `replacement(x)` and every other character kept (a trailing lone `%` too):
    /// the scanner under Python's `%` formatting and `strftime`.
    static func expandingPercentDirectives(_ format: String, _ replacement: (Unicode.Scalar) throws -> String) rethrows -> String {
        var result = ""
        var scalars = Substring(format).unicodeScalars[...]
        while let scalar = scalars.first {
            scalars.removeFirst()
            guard scalar == "%", let directive = scalars.first else {
                result.unicodeScalars.append(scalar)
                continue
            }
            scalars.removeFirst()
            result += try replacement(directive)
        }
        return result
    }
}
