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
        switch self {
        case let .object(members):
            output += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { output += style.isSpaced ? ", " : "," }
                Self.writeString(member.key, to: &output, style: style)
                output += style.isSpaced ? ": " : ":"
                member.value.write(to: &output, style: style)
            }
            output += "}"
        case let .array(elements):
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += style.isSpaced ? ", " : "," }
                element.write(to: &output, style: style)
            }
            output += "]"
        case let .string(text): Self.writeString(text, to: &output, style: style)
        case let .number(number): output += number.text
        case let .bool(value): output += value ? "true" : "false"
        case .null: output += "null"
        }
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
                output.unicodeScalars.append(contentsOf: scalars[runStart..<index])
                output += escape
            }
            index = scalars.index(after: index)
            if escape != nil { runStart = index }
        }
        output.unicodeScalars.append(contentsOf: scalars[runStart..<index])
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
