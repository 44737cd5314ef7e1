/// The Python methods templates call on strings, dictionaries and lists (`content.strip()`, `message.get('x')`,
/// `tool.items()`). Methods that mutate are refused, as in jinja2's `ImmutableSandboxedEnvironment`.
extension Renderer {
    func method(_ name: String, of value: TemplateValue) throws -> TemplateValue.Function? {
        switch value {
        case let .string(text): return stringMethod(name, text)
        case let .dictionary(dictionary): return try dictionaryMethod(name, dictionary)
        case let .list(items), let .tuple(items):
            if ["append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse"].contains(name),
               case .list = value {
                throw TemplateError(.security, "access to attribute '\(name)' of 'list' object is unsafe.")
            }
            switch name {
            case "index":
                return function(name) { arguments, _ in
                    let needle = try Renderer.argument(arguments, 0, name)
                    guard let found = items.firstIndex(where: { $0.equals(needle) }) else {
                        throw TemplateError(.type, "\(needle.repr) is not in list")
                    }
                    return .integer(found)
                }
            case "count":
                return function(name) { arguments, _ in
                    let needle = try Renderer.argument(arguments, 0, name)
                    return .integer(items.filter { $0.equals(needle) }.count)
                }
            default: return nil
            }
        default:
            return nil
        }
    }

    private func function(_ name: String,
                          _ body: @escaping ([TemplateValue], [(String, TemplateValue)]) throws -> TemplateValue)
        -> TemplateValue.Function {
        TemplateValue.Function(name: name, call: body)
    }

    static func argument(_ arguments: [TemplateValue], _ index: Int, _ name: String) throws -> TemplateValue {
        guard index < arguments.count else { throw TemplateError(.type, "\(name)() is missing an argument") }
        return arguments[index]
    }

    static func stringArgument(_ arguments: [TemplateValue], _ index: Int, _ name: String) throws -> String? {
        guard index < arguments.count else { return nil }
        switch arguments[index] {
        case .none: return nil
        case let .string(text): return text
        case let other: throw TemplateError(.type, "\(name)() argument must be str or None, not \(other.typeName)")
        }
    }

    private func stringMethod(_ name: String, _ text: String) -> TemplateValue.Function? {
        switch name {
        case "strip", "lstrip", "rstrip":
            return function(name) { arguments, _ in
                let characters = try Renderer.stringArgument(arguments, 0, name)
                return .string(PythonText.strip(text, characters, leading: name != "rstrip", trailing: name != "lstrip"))
            }
        case "split", "rsplit":
            return function(name) { arguments, keywords in
                let separator = try Renderer.stringArgument(arguments, 0, name)
                    ?? keywords.first { $0.0 == "sep" }.flatMap { $0.1.text }
                let maxSplits = (arguments.count > 1 ? arguments[1] : keywords.first { $0.0 == "maxsplit" }?.1)?
                    .integerValue ?? -1
                if separator == "" { throw TemplateError(.type, "empty separator") }
                let parts = name == "rsplit" && separator != nil
                    ? PythonText.rsplit(text, separator!, maxSplits: maxSplits)
                    : PythonText.split(text, separator, maxSplits: maxSplits)
                return .list(parts.map { .string($0) })
            }
        case "splitlines":
            return function(name) { _, _ in .list(PythonText.splitLines(text).map { .string($0) }) }
        case "startswith", "endswith":
            return function(name) { arguments, _ in
                let candidates: [TemplateValue]
                switch try Renderer.argument(arguments, 0, name) {
                case let .tuple(items), let .list(items): candidates = items
                case let single: candidates = [single]
                }
                return .boolean(try candidates.contains { candidate in
                    guard case let .string(affix) = candidate else {
                        throw TemplateError(.type, "\(name) first arg must be str or a tuple of str")
                    }
                    return name == "startswith" ? PythonText.startsWith(text, affix) : PythonText.endsWith(text, affix)
                })
            }
        case "upper": return function(name) { _, _ in .string(text.uppercased()) }
        case "lower": return function(name) { _, _ in .string(text.lowercased()) }
        case "title": return function(name) { _, _ in .string(PythonText.title(text)) }
        case "capitalize": return function(name) { _, _ in .string(PythonText.capitalize(text)) }
        case "replace":
            return function(name) { arguments, _ in
                guard let old = try Renderer.stringArgument(arguments, 0, name),
                      let new = try Renderer.stringArgument(arguments, 1, name) else {
                    throw TemplateError(.type, "replace() takes the old and new strings")
                }
                return .string(PythonText.replace(text, old, new, count: arguments.count > 2 ? arguments[2].integerValue ?? -1 : -1))
            }
        case "find", "rfind", "index", "rindex", "count":
            return function(name) { arguments, _ in
                guard let part = try Renderer.stringArgument(arguments, 0, name) else {
                    throw TemplateError(.type, "\(name)() takes a string")
                }
                let scalars = Array(text.unicodeScalars), needle = Array(part.unicodeScalars)
                var hits: [Int] = []
                var index = 0
                while index + needle.count <= scalars.count {
                    if scalars[index..<(index + needle.count)].elementsEqual(needle) {
                        hits.append(index)
                        if name == "count" { index += max(needle.count, 1); continue }
                    }
                    index += 1
                }
                switch name {
                case "count": return .integer(hits.count)
                case "find": return .integer(hits.first ?? -1)
                case "rfind": return .integer(hits.last ?? -1)
                default:
                    guard let hit = name == "index" ? hits.first : hits.last else {
                        throw TemplateError(.type, "substring not found")
                    }
                    return .integer(hit)
                }
            }
        case "join":
            return function(name) { arguments, _ in
                let items = try self.iterate(try Renderer.argument(arguments, 0, name))
                return .string(try items.map { item -> String in
                    guard case let .string(part) = item else {
                        throw TemplateError(.type, "sequence item: expected str instance, \(item.typeName) found")
                    }
                    return part
                }.joined(separator: text))
            }
        case "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower":
            return function(name) { _, _ in
                let scalars = text.unicodeScalars
                guard !scalars.isEmpty else { return .boolean(false) }
                switch name {
                case "isdigit": return .boolean(scalars.allSatisfy { $0.properties.numericType != nil })
                case "isalpha": return .boolean(scalars.allSatisfy { $0.properties.isAlphabetic })
                case "isalnum":
                    return .boolean(scalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
                case "isspace": return .boolean(scalars.allSatisfy(PythonText.isWhitespace))
                case "isupper": return .boolean(text.uppercased() == text && text.lowercased() != text)
                default: return .boolean(text.lowercased() == text && text.uppercased() != text)
                }
            }
        default: return nil
        }
    }

    private func dictionaryMethod(_ name: String, _ dictionary: TemplateDictionary) throws -> TemplateValue.Function? {
        switch name {
        case "items":
            return function(name) { _, _ in .list(dictionary.pairs.map { .tuple([.string($0.key), $0.value]) }) }
        case "keys": return function(name) { _, _ in .list(dictionary.keys.map { .string($0) }) }
        case "values": return function(name) { _, _ in .list(dictionary.pairs.map(\.value)) }
        case "get":
            return function(name) { arguments, _ in
                let key = try Renderer.argument(arguments, 0, name)
                let fallback = arguments.count > 1 ? arguments[1] : .none
                guard case let .string(text) = key else { return fallback }
                return dictionary[text] ?? fallback
            }
        case "pop", "popitem", "update", "clear", "setdefault":
            throw TemplateError(.security, "access to attribute '\(name)' of 'dict' object is unsafe.")
        default: return nil
        }
    }
}
