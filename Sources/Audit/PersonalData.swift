/// Finds personal-data patterns in text with a byte scan (no regular-expression engine): e-mail addresses and
/// phone numbers.
///
/// - E-mail: `local@domain.tld` with local characters `A-Z a-z 0-9 . _ % + -`, a domain of `A-Z a-z 0-9 . -` and a
///   final label of at least two letters.
/// - Phone: 10–15 digits written with separators (space, `-`, `.`, parentheses) in at least two places, or starting
///   with `+` — so `555-123-4567`, `(555) 123-4567` and `+44 20 7946 0958` match, while a bare `1234567890`, a year
///   range or a decimal number do not.
enum PersonalData {
    /// What kind of pattern matched.
    enum Kind: String { case email, phone }

    /// The matches in `text`, in order.
    static func matches(in text: String) -> [(kind: Kind, text: String)] {
        let bytes = Array(text.utf8)
        var found: [(Kind, String)] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "@"), let range = email(around: index, in: bytes) {
                found.append((.email, String(decoding: bytes[range], as: UTF8.self)))
                index = range.upperBound
            } else if isDigit(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "("),
                index == 0 || !isWordByte(bytes[index - 1]), let range = phone(from: index, in: bytes)
            {
                found.append((.phone, String(decoding: bytes[range], as: UTF8.self)))
                index = range.upperBound
            } else {
                index += 1
            }
        }
        return found
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    private static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
    private static func isWordByte(_ byte: UInt8) -> Bool { isDigit(byte) || isLetter(byte) || byte == UInt8(ascii: "_") }

    private static func email(around at: Int, in bytes: [UInt8]) -> Range<Int>? {
        let local = Set("._%+-".utf8)
        var start = at
        while start > 0, isDigit(bytes[start - 1]) || isLetter(bytes[start - 1]) || local.contains(bytes[start - 1]) { start -= 1 }
        while start < at, bytes[start] == UInt8(ascii: ".") { start += 1 }
        guard start < at else { return nil }
        var end = at + 1
        while end < bytes.count, isDigit(bytes[end]) || isLetter(bytes[end]) || bytes[end] == UInt8(ascii: ".") || bytes[end] == UInt8(ascii: "-") { end += 1 }
        while end > at + 1, bytes[end - 1] == UInt8(ascii: ".") || bytes[end - 1] == UInt8(ascii: "-") { end -= 1 }
        // The domain needs a dot followed by a final label of two or more letters.
        guard let dot = bytes[(at + 1)..<end].lastIndex(of: UInt8(ascii: ".")), dot > at + 1, end - dot - 1 >= 2,
            bytes[(dot + 1)..<end].allSatisfy(isLetter)
        else { return nil }
        return start..<end
    }

    private static func phone(from start: Int, in bytes: [UInt8]) -> Range<Int>? {
        var end = start, digits = 0, spaces = 0
        let plus = bytes[start] == UInt8(ascii: "+")
        if plus { end += 1 }
        while end < bytes.count, end - start < 24 {
            let byte = bytes[end]
            if isDigit(byte) {
                digits += 1
                spaces = 0
            } else if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "(") || byte == UInt8(ascii: ")")
            {
                if byte == UInt8(ascii: " ") { spaces += 1 }
                if spaces > 1 { break }
            } else {
                break
            }
            end += 1
        }
        while end > start, !isDigit(bytes[end - 1]) { end -= 1 }
        // A phone number does not run straight on into a word or more digits (e.g. "12345678901abc").
        if end < bytes.count, isLetter(bytes[end]) || isDigit(bytes[end]) { return nil }
        // Runs of separators inside the match.
        var groups = 0, inSeparator = false
        for byte in bytes[start..<end] {
            let separator = !isDigit(byte) && byte != UInt8(ascii: "+")
            if separator && !inSeparator { groups += 1 }
            inSeparator = separator
        }
        let dots = bytes[start..<end].filter { $0 == UInt8(ascii: ".") }.count
        guard (10...15).contains(digits), plus || groups >= 2, dots == 0 || dots == groups else { return nil }
        return start..<end
    }
}
