/// Parses JSON text (RFC 8259, strictly) into a ``JSONValue``: the one JSON reader behind datasets,
/// `tokenizer.json`, safetensors headers and the constitutional pipeline's JSONL inputs.
///
/// Input is untrusted, so every failure is a ``JSONSyntaxError`` naming the byte offset (and line/column), never a
/// crash: nesting is bounded (`maximumDepth` arrays/objects inside one another), duplicate object keys are
/// rejected (one of the two values would otherwise vanish), strings must be valid UTF-8 with paired surrogates.
///
/// ```swift
/// let value = try JSONParser.parse(#"{"id": 12345678901234567890, "ok": true}"#)
/// value["id"]?.integerValue  // nil: too large for Int, but value["id"] still holds the exact text
/// ```
public struct JSONParser {
    /// The nesting bound used when none is given: deep enough for any real file, shallow enough for the stack.
    public static let defaultMaximumDepth = 512

    let bytes: UnsafeBufferPointer<UInt8>
    let maximumDepth: Int
    var position = 0
    var depth = 0

    private init(bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    /// Parses `text`, which must hold exactly one JSON value (surrounding whitespace allowed).
    /// - Parameter maximumDepth: How many arrays/objects may nest inside one another.
    /// - Throws: ``JSONSyntaxError``.
    public static func parse(_ text: String, maximumDepth: Int = defaultMaximumDepth) throws -> JSONValue {
        var text = text
        return try text.withUTF8 { try parse(buffer: $0, maximumDepth: maximumDepth) }
    }

    /// Parses UTF-8 bytes (`Data`, `[UInt8]`, …) holding exactly one JSON value.
    /// - Throws: ``JSONSyntaxError``.
    public static func parse<Bytes: Collection>(_ bytes: Bytes, maximumDepth: Int = defaultMaximumDepth) throws -> JSONValue
    where Bytes.Element == UInt8 {
        if let value = try bytes.withContiguousStorageIfAvailable({ try parse(buffer: $0, maximumDepth: maximumDepth) }) {
            return value
        }
        return try Array(bytes).withUnsafeBufferPointer { try parse(buffer: $0, maximumDepth: maximumDepth) }
    }

    /// Parses raw UTF-8 bytes (a memory-mapped file's region) holding exactly one JSON value.
    /// - Throws: ``JSONSyntaxError``.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maximumDepth: Int = defaultMaximumDepth) throws -> JSONValue {
        try parse(buffer: bytes.bindingUInt8(), maximumDepth: maximumDepth)
    }

    /// Parses the one JSON value at the start of `bytes` (after whitespace) and returns it with the offset just past
    /// it, leaving what follows to the caller (like Python's `JSONDecoder.raw_decode`).
    /// - Throws: ``JSONSyntaxError``.
    public static func parsePrefix(_ bytes: UnsafeRawBufferPointer, maximumDepth: Int = defaultMaximumDepth) throws
        -> (value: JSONValue, end: Int)
    {
        var parser = JSONParser(bytes: bytes.bindingUInt8(), maximumDepth: maximumDepth)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        return (value, parser.position)
    }

    private static func parse(buffer: UnsafeBufferPointer<UInt8>, maximumDepth: Int) throws -> JSONValue {
        var parser = JSONParser(bytes: buffer, maximumDepth: maximumDepth)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.position == buffer.count else { throw parser.failure("unexpected text after the JSON value") }
        return value
    }

    func failure(_ reason: String, at offset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(offset: offset ?? position, reason: reason, in: bytes)
    }

    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws -> JSONValue {
        guard let byte = peek else { throw failure("unexpected end of JSON") }
        switch byte {
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default:
            let shown = byte < 0x80 ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
            throw failure("unexpected \(shown)")
        }
    }

    private mutating func parseLiteral(_ word: StaticString) throws {
        let start = position
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for byte in expected {
            guard peek == byte else { throw failure("invalid literal (expected \(word))", at: start) }
            position += 1
        }
    }

    /// Counts one more level of nesting, failing at the opening bracket past the bound.
    private mutating func enter() throws {
        guard depth < maximumDepth else { throw failure("nesting deeper than \(maximumDepth) levels") }
        depth += 1
    }

    private mutating func parseObject() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        position += 1
        var members: [JSONValue.Member] = []
        var keys = KeySet()
        skipWhitespace()
        if peek == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw failure(peek == nil ? "unterminated object" : "expected a quoted key") }
            let keyStart = position
            let key = try parseString()
            guard keys.insert(key, among: members) else { throw failure("duplicate key \"\(key)\"", at: keyStart) }
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { throw failure("expected ':' after key \"\(key)\"") }
            position += 1
            skipWhitespace()
            members.append(JSONValue.Member(key, try parseValue()))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return .object(members)
            default: throw failure(peek == nil ? "unterminated object" : "expected ',' or '}' in object")
            }
        }
    }

    private mutating func parseArray() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") { position += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return .array(elements)
            default: throw failure(peek == nil ? "unterminated list" : "expected ',' or ']' in list")
            }
        }
    }

    private mutating func parseNumber() throws -> JSONNumber {
        let start = position
        if peek == UInt8(ascii: "-") { position += 1 }
        guard let first = peek, Self.isDigit(first) else { throw failure("invalid number") }
        position += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if peek == UInt8(ascii: ".") {
            position += 1
            guard skipDigits() > 0 else { throw failure("invalid number (digits expected after '.')") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            position += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
            guard skipDigits() > 0 else { throw failure("invalid number (digits expected in exponent)") }
        }
        return JSONNumber(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self))
    }

    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = position
        while let byte = peek, Self.isDigit(byte) { position += 1 }
        return position - start
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}

extension UnsafeRawBufferPointer {
    /// The bytes as `UInt8`s (raw memory is always valid to read as bytes).
    func bindingUInt8() -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: baseAddress?.assumingMemoryBound(to: UInt8.self), count: count)
    }
}
