/// Writing JSON text: the one serializer and string escaper (see ``JSONStyle`` for the escaping rules).
extension JSONValue {
    /// The value as JSON text on one line: keys in stored order, numbers as their literal text.
    public func serialized(_ style: JSONStyle = .compact) -> String {
        var output = ""
        write(to: &output, style: style)
        return output
    }

    /// `text` as a JSON string literal, quotes included.
    public static func quoted(_ text: String, style: JSONStyle = .compact) -> String {
        var output = ""
        writeString(text, to: &output, style: style)
        return output
    }

    /// Appends the value's JSON text to `output`.
    public func write(to output: inout String, style: JSONStyle = .compact) {
        write(to: &output, style: style, depth: 0)
    }

    private func write(to output: inout String, style: JSONStyle, depth: Int) {
        switch self {
        case let .object(members):
            Self.writeContainer(members, open: "{", close: "}", to: &output, style: style, depth: depth) { member, output in
                Self.writeString(member.key, to: &output, style: style)
                output += style.isSpaced ? ": " : ":"
                member.value.write(to: &output, style: style, depth: depth + 1)
            }
        case let .array(elements):
            Self.writeContainer(elements, open: "[", close: "]", to: &output, style: style, depth: depth) { element, output in
                element.write(to: &output, style: style, depth: depth + 1)
            }
        case let .string(text): Self.writeString(text, to: &output, style: style)
        case let .number(number): output += number.text
        case let .bool(value): output += value ? "true" : "false"
        case .null: output += "null"
        }
    }

    /// Writes `items` between `open` and `close`: on one line, or one per line indented when the style says so
    /// (an empty container stays `{}`/`[]`, as in Python).
    private static func writeContainer<Item>(
        _ items: [Item], open: String, close: String, to output: inout String, style: JSONStyle, depth: Int,
        item writeItem: (Item, inout String) -> Void
    ) {
        output += open
        guard !items.isEmpty else { return output += close }
        if let indentation = style.indentation {
            let inner = "\n" + String(repeating: " ", count: indentation * (depth + 1))
            for (index, item) in items.enumerated() {
                output += index > 0 ? "," + inner : inner
                writeItem(item, &output)
            }
            output += "\n" + String(repeating: " ", count: indentation * depth)
        } else {
            for (index, item) in items.enumerated() {
                if index > 0 { output += style.isSpaced ? ", " : "," }
                writeItem(item, &output)
            }
        }
        output += close
    }

    private static func writeString(_ text: String, to output: inout String, style: JSONStyle) {
        output += "\""
        // Copy runs that need no escaping in one append (most text), escaping scalar by scalar otherwise.
        let scalars = text.unicodeScalars
        var runStart = scalars.startIndex
        var index = runStart
        while index != scalars.endIndex {
            let scalar = scalars[index]
            let escape = escaped(scalar, style: style)
            if let escape {
                output += Substring(scalars[runStart..<index])
                output += escape
            }
            index = scalars.index(after: index)
            if escape != nil { runStart = index }
        }
        // Appending a Substring of the scalar view (exact scalar boundaries, no Character rounding), not through
        // `output.unicodeScalars` (whose append copies the whole output each time: a 3 MB tokenizer.json took 15 s).
        output += Substring(scalars[runStart..<index])
        output += "\""
    }

    /// The escape sequence for `scalar`, or nil when it is written as itself.
    private static func escaped(_ scalar: Unicode.Scalar, style: JSONStyle) -> String? {
        switch scalar {
        case "\"": return "\\\""
        case "\\": return "\\\\"
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\u{08}": return "\\b"
        case "\u{0C}": return "\\f"
        case _ where scalar.value < 0x20, "\u{2028}" where style.escapesLineSeparators,
             "\u{2029}" where style.escapesLineSeparators:
            let hex = String(scalar.value, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: return nil
        }
    }
}
