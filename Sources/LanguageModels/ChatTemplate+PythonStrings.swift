import Foundation
import JSON

/// The Python string semantics the families' Jinja templates rely on (`trim`, `split`, `strip('\n')`, `tojson`),
/// reproduced exactly: Swift's `String` compares by grapheme and canonical equivalence, Python by code point.
extension ChatTemplate {
    /// Jinja's `trim` filter and Python's `str.strip()`: removes Python whitespace (`str.isspace`) from both ends.
    static func jinjaTrim(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isPythonWhitespace($0) }) else { return "" }
        guard let last = scalars.lastIndex(where: { !isPythonWhitespace($0) }) else { return "" }
        return String(scalars[first...last])
    }

    /// Python's `text.split(separator)`, byte for byte (Swift's `String` comparisons are grapheme-aware).
    static func pythonSplit(_ text: String, _ separator: String) -> [String] {
        let bytes = Array(text.utf8), pattern = Array(separator.utf8)
        var parts: [String] = []
        var start = 0, index = 0
        while index + pattern.count <= bytes.count {
            if bytes[index..<(index + pattern.count)].elementsEqual(pattern) {
                parts.append(String(decoding: bytes[start..<index], as: UTF8.self))
                index += pattern.count
                start = index
            } else {
                index += 1
            }
        }
        parts.append(String(decoding: bytes[start...], as: UTF8.self))
        return parts
    }

    /// Python's `strip`/`lstrip`/`rstrip` with an explicit character (one Unicode scalar).
    static func strip(_ text: String, _ character: Unicode.Scalar, leading: Bool = true,
                      trailing: Bool = true) -> String {
        var scalars = Substring(text).unicodeScalars
        while leading, scalars.first == character { scalars.removeFirst() }
        while trailing, scalars.last == character { scalars.removeLast() }
        return String(scalars)
    }

    static func utf8(_ text: String, startsWith prefix: String) -> Bool { text.utf8.starts(with: prefix.utf8) }
    static func utf8(_ text: String, endsWith suffix: String) -> Bool {
        text.utf8.reversed().starts(with: suffix.utf8.reversed())
    }

    /// Jinja's `tojson` filter on a string, i.e. Python's `json.dumps(text, ensure_ascii=False)`: quotes,
    /// backslashes and control characters escaped (`\b`, `\u0001`), everything else — U+2028 included — as is.
    static func pythonJSONString(_ text: String) -> String { JSONValue.quoted(text, style: .python) }

    private static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }
}
