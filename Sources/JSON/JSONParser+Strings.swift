/// String literals: escapes, surrogate pairs, UTF-8 validation; and the duplicate-key check.
extension JSONParser {
    /// Parses a string literal starting at its opening quote.
    mutating func parseString() throws -> String {
        position += 1
        let start = position
        var isASCII = true
        // Fast path: no escapes, so the bytes between the quotes are the string.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let text = try makeString(UnsafeBufferPointer(rebasing: bytes[start..<position]), isASCII: isASCII, start: start)
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            if byte >= 0x80 { isASCII = false }
            position += 1
        }
        var decoded = Array(bytes[start..<position])
        while true {
            guard let byte = peek else { throw failure("unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return try decoded.withUnsafeBufferPointer { try makeString($0, isASCII: false, start: start) }
            case UInt8(ascii: "\\"):
                position += 1
                guard let escape = peek else { throw failure("unterminated escape") }
                position += 1
                let scalar: Unicode.Scalar
                switch escape {
                case UInt8(ascii: "\""): scalar = "\""
                case UInt8(ascii: "\\"): scalar = "\\"
                case UInt8(ascii: "/"): scalar = "/"
                case UInt8(ascii: "b"): scalar = "\u{08}"
                case UInt8(ascii: "f"): scalar = "\u{0C}"
                case UInt8(ascii: "n"): scalar = "\n"
                case UInt8(ascii: "r"): scalar = "\r"
                case UInt8(ascii: "t"): scalar = "\t"
                case UInt8(ascii: "u"): scalar = try parseUnicodeEscape()
                default:
                    throw failure("invalid escape '\\\(Character(Unicode.Scalar(escape)))'", at: position - 2)
                }
                UTF8.encode(scalar) { decoded.append($0) }
            case 0..<0x20:
                throw failure("unescaped control character in string")
            default:
                decoded.append(byte)
                position += 1
            }
        }
    }

    private func makeString(_ content: UnsafeBufferPointer<UInt8>, isASCII: Bool, start: Int) throws -> String {
        if isASCII { return String(decoding: content, as: UTF8.self) }
        guard let text = String(validating: content, as: UTF8.self) else {
            throw failure("string is not valid UTF-8", at: start)
        }
        return text
    }

    /// Parses the hex digits after `\u`, combining a surrogate pair.
    private mutating func parseUnicodeEscape() throws -> Unicode.Scalar {
        let high = try parseHex4()
        if (0xD800..<0xDC00).contains(high) {
            guard peek == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                throw failure("unpaired surrogate \\u\(String(high, radix: 16))")
            }
            position += 2
            let low = try parseHex4()
            guard (0xDC00..<0xE000).contains(low), let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            else { throw failure("invalid surrogate pair") }
            return scalar
        }
        guard let scalar = Unicode.Scalar(high) else { throw failure("unpaired surrogate \\u\(String(high, radix: 16))") }
        return scalar
    }

    private mutating func parseHex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek, let digit = Character(Unicode.Scalar(byte)).hexDigitValue, byte < 0x80 else {
                throw failure("invalid \\u escape (4 hex digits expected)")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }
}

/// The keys seen so far in one object, compared by UTF-8 bytes.
///
/// A `Set<String>` finds candidates fast (the standard library's hashing), but `String` equality is canonical
/// equivalence, coarser than byte equality; so a clash is confirmed by comparing bytes, and `"é"` vs `"e\u{301}"`
/// (both in real vocabularies) are two keys, not a duplicate.
struct KeySet {
    private static let scanLimit = 16
    private var set: Set<String>?

    /// Adds `key`, returning false when `members` (the object so far) already has a byte-identical key.
    mutating func insert(_ key: String, among members: [JSONValue.Member]) -> Bool {
        if set == nil {
            if members.count < Self.scanLimit { return !Self.contains(key, in: members) }
            set = Set(members.map(\.key))
        }
        if set?.insert(key).inserted ?? true { return true }
        return !Self.contains(key, in: members)
    }

    private static func contains(_ key: String, in members: [JSONValue.Member]) -> Bool {
        members.contains { $0.key == key && $0.key.utf8.elementsEqual(key.utf8) }
    }
}
