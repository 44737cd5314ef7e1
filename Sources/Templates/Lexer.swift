/// A token of a Jinja template.
struct Token: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        /// Template text outside tags, after whitespace control.
        case text(String)
        /// `{{` and `}}`.
        case variableBegin, variableEnd
        /// `{%` and `%}`.
        case blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        /// Punctuation and operators: `(`, `.`, `==`, `//`, `|`, …
        case symbol(String)
        case end
    }

    var kind: Kind
    var position: Position
}

/// Splits a template into tokens the way jinja2's lexer does with transformers' settings (`trim_blocks=True`,
/// `lstrip_blocks=True`): whitespace before a block or comment tag alone on its line is dropped, as is the first
/// newline after one; `{%-`/`-%}` (and `{{-`, `{#-`, …) strip all whitespace on that side; `{%+` keeps it.
struct Lexer {
    private let bytes: [UInt8]
    /// Byte offsets where lines start, for positions.
    private let lineStarts: [Int]
    private var index = 0
    private var tokens: [Token] = []
    /// Whether the last tag ended at the start of a line (the template's start counts), for `lstrip_blocks`.
    private var lineStarting = true

    init(_ source: String) {
        // jinja2 reads "\r\n" and "\r" as "\n" and drops one trailing newline (keep_trailing_newline=False).
        var bytes: [UInt8] = []
        bytes.reserveCapacity(source.utf8.count)
        var previousWasReturn = false
        for byte in source.utf8 {
            if byte == UInt8(ascii: "\n") && previousWasReturn {
                previousWasReturn = false
                continue
            }
            previousWasReturn = byte == UInt8(ascii: "\r")
            bytes.append(previousWasReturn ? UInt8(ascii: "\n") : byte)
        }
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        self.bytes = bytes
        lineStarts = [0] + bytes.indices.filter { bytes[$0] == UInt8(ascii: "\n") }.map { $0 + 1 }
    }

    /// All tokens, ending with `.end`.
    static func tokenize(_ source: String) throws -> [Token] {
        var lexer = Lexer(source)
        try lexer.run()
        return lexer.tokens
    }

    private mutating func run() throws {
        while index < bytes.count {
            guard let tagStart = nextTagStart(from: index) else {
                emitText(bytes[index...])
                break
            }
            var text = bytes[index..<tagStart]
            let opener = bytes[tagStart + 1]  // `{`, `%` or `#`
            let marker: UInt8? = tagStart + 2 < bytes.count ? bytes[tagStart + 2] : nil
            if marker == UInt8(ascii: "-") {
                while let last = text.last, Lexer.isWhitespace(last) { text = text.dropLast() }
            } else if opener != UInt8(ascii: "{") && marker != UInt8(ascii: "+") {
                text = Lexer.lstripped(text, lineStarting: lineStarting)
            }
            emitText(text)
            index = tagStart + 2
            if marker == UInt8(ascii: "-") || marker == UInt8(ascii: "+") { index += 1 }
            switch opener {
            case UInt8(ascii: "#"): try skipComment(openedAt: tagStart)
            case UInt8(ascii: "%"):
                tokens.append(Token(kind: .blockBegin, position: position(of: tagStart)))
                try tokenizeTag(closing: UInt8(ascii: "%"), openedAt: tagStart)
                if tokens.count >= 3, case .name("raw") = tokens[tokens.count - 2].kind,
                   case .blockBegin = tokens[tokens.count - 3].kind {
                    tokens.removeLast(3)
                    try skipRaw(openedAt: tagStart)
                }
            default:
                tokens.append(Token(kind: .variableBegin, position: position(of: tagStart)))
                try tokenizeTag(closing: UInt8(ascii: "}"), openedAt: tagStart)
            }
        }
        tokens.append(Token(kind: .end, position: position(of: bytes.count)))
    }

    /// `lstrip_blocks`: the spaces and tabs between the last line start and a block tag, when nothing else is there.
    private static func lstripped(_ text: ArraySlice<UInt8>, lineStarting: Bool) -> ArraySlice<UInt8> {
        let lineStart = text.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? text.startIndex
        guard lineStart > text.startIndex || lineStarting else { return text }
        let rest = text[lineStart...]
        guard rest.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) else { return text }
        return text[..<lineStart]
    }

    private func nextTagStart(from start: Int) -> Int? {
        var position = start
        while position + 1 < bytes.count {
            if bytes[position] == UInt8(ascii: "{") {
                let next = bytes[position + 1]
                if next == UInt8(ascii: "{") || next == UInt8(ascii: "%") || next == UInt8(ascii: "#") { return position }
            }
            position += 1
        }
        return nil
    }

    private mutating func emitText(_ text: ArraySlice<UInt8>) {
        guard !text.isEmpty else { return }
        tokens.append(Token(kind: .text(String(decoding: text, as: UTF8.self)), position: position(of: text.startIndex)))
    }

    private mutating func skipComment(openedAt start: Int) throws {
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "#") && bytes[index + 1] == UInt8(ascii: "}") {
                let stripsAfter = index > start + 2 && bytes[index - 1] == UInt8(ascii: "-")
                index += 2
                finishTag(stripsAfter: stripsAfter, keepsNewline: index >= 3 && bytes[index - 3] == UInt8(ascii: "+"))
                return
            }
            index += 1
        }
        throw TemplateError(.syntax, "missing end of comment tag", at: position(of: start))
    }

    /// `{% raw %}…{% endraw %}`: the text in between is output as written.
    private mutating func skipRaw(openedAt start: Int) throws {
        var search = index
        while let tagStart = nextTagStart(from: search) {
            var probe = tagStart + 2
            let stripsBefore = probe < bytes.count && bytes[probe] == UInt8(ascii: "-")
            if probe < bytes.count, bytes[probe] == UInt8(ascii: "-") || bytes[probe] == UInt8(ascii: "+") { probe += 1 }
            while probe < bytes.count, Lexer.isWhitespace(bytes[probe]) { probe += 1 }
            let word = Array("endraw".utf8)
            guard bytes[tagStart + 1] == UInt8(ascii: "%"), probe + word.count <= bytes.count,
                  bytes[probe..<(probe + word.count)].elementsEqual(word) else {
                search = tagStart + 1
                continue
            }
            var text = bytes[index..<tagStart]
            if stripsBefore { while let last = text.last, Lexer.isWhitespace(last) { text = text.dropLast() } }
            emitText(text)
            index = probe + word.count
            while index < bytes.count, Lexer.isWhitespace(bytes[index]) { index += 1 }
            guard let length = closer(UInt8(ascii: "%")) else { break }
            let stripsAfter = bytes[index] == UInt8(ascii: "-")
            index += length
            finishTag(stripsAfter: stripsAfter, keepsNewline: false)
            return
        }
        throw TemplateError(.syntax, "missing '{% endraw %}' for this raw block", at: position(of: start))
    }

    /// After `%}` or `#}`: `-` strips all following whitespace; otherwise `trim_blocks` drops one newline.
    private mutating func finishTag(stripsAfter: Bool, keepsNewline: Bool) {
        let before = index
        if stripsAfter {
            while index < bytes.count, Lexer.isWhitespace(bytes[index]) { index += 1 }
        } else if !keepsNewline, index < bytes.count, bytes[index] == UInt8(ascii: "\n") {
            index += 1
        }
        lineStarting = index > before ? bytes[index - 1] == UInt8(ascii: "\n") : false
    }

    /// The tokens inside `{{ … }}` or `{% … %}`, up to and including the closing delimiter.
    private mutating func tokenizeTag(closing: UInt8, openedAt start: Int) throws {
        var brackets: [UInt8] = []
        while true {
            while index < bytes.count, Lexer.isWhitespace(bytes[index]) { index += 1 }
            guard index < bytes.count else {
                throw TemplateError(.syntax, closing == UInt8(ascii: "}") ? "unexpected end of template, expected '}}'"
                                    : "unexpected end of template, expected '%}'", at: position(of: start))
            }
            let byte = bytes[index]
            if brackets.isEmpty, let length = closer(closing) {
                let stripsAfter = byte == UInt8(ascii: "-")
                let keepsNewline = byte == UInt8(ascii: "+")
                tokens.append(Token(kind: closing == UInt8(ascii: "}") ? .variableEnd : .blockEnd,
                                    position: position(of: index)))
                index += length
                if closing == UInt8(ascii: "%") {
                    finishTag(stripsAfter: stripsAfter, keepsNewline: keepsNewline)
                } else {
                    if stripsAfter { while index < bytes.count, Lexer.isWhitespace(bytes[index]) { index += 1 } }
                    lineStarting = false
                }
                return
            }
            let tokenStart = index
            if Lexer.isNameStart(byte) {
                while index < bytes.count, Lexer.isNameStart(bytes[index]) || Lexer.isDigit(bytes[index]) { index += 1 }
                append(.name(String(decoding: bytes[tokenStart..<index], as: UTF8.self)), at: tokenStart)
            } else if Lexer.isDigit(byte) {
                try lexNumber()
            } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                try lexString(quote: byte)
            } else {
                let symbol = lexSymbol()
                guard !symbol.isEmpty else {
                    throw TemplateError(.syntax, "unexpected character '\(String(decoding: [byte], as: UTF8.self))'",
                                        at: position(of: index))
                }
                switch symbol {
                case "(", "[", "{": brackets.append(symbol.utf8.first!)
                case ")", "]", "}":
                    let expected: UInt8 = symbol == ")" ? UInt8(ascii: "(") : symbol == "]" ? UInt8(ascii: "[")
                        : UInt8(ascii: "{")
                    guard brackets.last == expected else {
                        throw TemplateError(.syntax, "unexpected '\(symbol)'", at: position(of: tokenStart))
                    }
                    brackets.removeLast()
                default: break
                }
                append(.symbol(symbol), at: tokenStart)
            }
        }
    }

    /// The length of the closing delimiter at `index` (`%}`, `-%}`, `+%}`, `}}`, `-}}`), if there is one.
    private func closer(_ closing: UInt8) -> Int? {
        func matches(_ offset: Int) -> Bool {
            index + offset + 1 < bytes.count && bytes[index + offset] == closing
                && bytes[index + offset + 1] == UInt8(ascii: "}")
        }
        if matches(0) { return 2 }
        let byte = bytes[index]
        if byte == UInt8(ascii: "-") || (byte == UInt8(ascii: "+") && closing == UInt8(ascii: "%")), matches(1) {
            return 3
        }
        return nil
    }

    private mutating func append(_ kind: Token.Kind, at offset: Int) {
        tokens.append(Token(kind: kind, position: position(of: offset)))
    }

    private mutating func lexNumber() throws {
        let start = index
        func digits() { while index < bytes.count, Lexer.isDigit(bytes[index]) || bytes[index] == UInt8(ascii: "_") { index += 1 } }
        digits()
        var isFloat = false
        if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "."), Lexer.isDigit(bytes[index + 1]) {
            isFloat = true
            index += 1
            digits()
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            var probe = index + 1
            if probe < bytes.count, bytes[probe] == UInt8(ascii: "+") || bytes[probe] == UInt8(ascii: "-") { probe += 1 }
            if probe < bytes.count, Lexer.isDigit(bytes[probe]) {
                isFloat = true
                index = probe
                digits()
            }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self).replacingOccurrences(of: "_", with: "")
        if isFloat, let value = Double(text) {
            append(.float(value), at: start)
        } else if let value = Int(text) {
            append(.integer(value), at: start)
        } else {
            throw TemplateError(.syntax, "invalid number '\(text)'", at: position(of: start))
        }
    }

    /// A quoted string, unescaped as jinja2 does (Python's `unicode-escape`: `\n`, `\t`, `\\`, `\'`, `\xNN`,
    /// `\uNNNN`, …; an unknown escape keeps its backslash).
    private mutating func lexString(quote: UInt8) throws {
        let start = index
        index += 1
        var raw: [UInt8] = []
        while index < bytes.count, bytes[index] != quote {
            if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count {
                raw.append(bytes[index])
                index += 1
            }
            raw.append(bytes[index])
            index += 1
        }
        guard index < bytes.count else {
            throw TemplateError(.syntax, "unterminated string", at: position(of: start))
        }
        index += 1
        append(.string(Lexer.unescape(raw)), at: start)
    }

    static func unescape(_ raw: [UInt8]) -> String {
        let scalars = Array(String(decoding: raw, as: UTF8.self).unicodeScalars)
        var result = String.UnicodeScalarView()
        var position = 0
        func hex(_ count: Int) -> Unicode.Scalar? {
            guard position + count < scalars.count else { return nil }
            let digits = String(String.UnicodeScalarView(scalars[(position + 1)...(position + count)]))
            guard let value = UInt32(digits, radix: 16), let scalar = Unicode.Scalar(value) else { return nil }
            return scalar
        }
        while position < scalars.count {
            let scalar = scalars[position]
            guard scalar == "\\", position + 1 < scalars.count else {
                result.append(scalar)
                position += 1
                continue
            }
            position += 1
            let escape = scalars[position]
            switch escape {
            case "n": result.append("\n")
            case "t": result.append("\t")
            case "r": result.append("\r")
            case "\\": result.append("\\")
            case "'": result.append("'")
            case "\"": result.append("\"")
            case "a": result.append("\u{07}")
            case "b": result.append("\u{08}")
            case "f": result.append("\u{0C}")
            case "v": result.append("\u{0B}")
            case "\n": break
            case "x", "u", "U":
                let count = escape == "x" ? 2 : escape == "u" ? 4 : 8
                if let value = hex(count) {
                    result.append(value)
                    position += count
                } else {
                    result.append("\\")
                    result.append(escape)
                }
            case "0"..."7":
                var value: UInt32 = 0
                var used = 0
                while used < 3, position + used < scalars.count, ("0"..."7").contains(scalars[position + used]) {
                    value = value * 8 + (scalars[position + used].value - 48)
                    used += 1
                }
                result.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                position += used - 1
            default:
                result.append("\\")
                result.append(escape)
            }
            position += 1
        }
        return String(result)
    }

    private mutating func lexSymbol() -> String {
        let twoCharacter = ["//", "**", "==", "!=", "<=", ">="]
        if index + 1 < bytes.count {
            let pair = String(decoding: bytes[index...(index + 1)], as: UTF8.self)
            if twoCharacter.contains(pair) {
                index += 2
                return pair
            }
        }
        let single = "+-*/%~<>=()[]{},.:|"
        let character = String(decoding: [bytes[index]], as: UTF8.self)
        guard single.contains(character) else { return "" }
        index += 1
        return character
    }

    private func position(of offset: Int) -> Position {
        var low = 0, high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        let lineStart = lineStarts[low]
        let column = String(decoding: bytes[lineStart..<min(max(offset, lineStart), bytes.count)], as: UTF8.self).count + 1
        return Position(line: low + 1, column: column)
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }
    static func isNameStart(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "_")
    }
    static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
}
