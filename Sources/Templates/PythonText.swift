/// Python's `str` methods on code points (Swift's `String` compares graphemes; Python compares code points), as
/// templates call them; the native chat formats use the same functions.
public enum PythonText {
    /// Python's `str.isspace()` for one code point.
    public static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// `strip`, `lstrip`, `rstrip`: removes `characters` (whitespace when nil) from the chosen ends.
    public static func strip(_ text: String, _ characters: String? = nil, leading: Bool = true,
                      trailing: Bool = true) -> String {
        let set = characters.map { Set($0.unicodeScalars) }
        func removable(_ scalar: Unicode.Scalar) -> Bool { set?.contains(scalar) ?? isWhitespace(scalar) }
        var scalars = Substring(text).unicodeScalars
        while leading, let first = scalars.first, removable(first) { scalars.removeFirst() }
        while trailing, let last = scalars.last, removable(last) { scalars.removeLast() }
        return String(scalars)
    }

    /// `text.split(separator, maxsplit)`; without a separator, splits on whitespace runs and drops empty parts.
    public static func split(_ text: String, _ separator: String?, maxSplits: Int = -1) -> [String] {
        guard let separator else {
            var parts: [String] = []
            var current = String.UnicodeScalarView()
            var scalars = Substring(text).unicodeScalars
            while let scalar = scalars.first {
                scalars.removeFirst()
                if isWhitespace(scalar) {
                    if !current.isEmpty {
                        if maxSplits >= 0 && parts.count == maxSplits {
                            current.append(scalar)
                            current.append(contentsOf: scalars)
                            parts.append(strip(String(current), trailing: false))
                            return parts.map { strip($0) }
                        }
                        parts.append(String(current))
                        current = String.UnicodeScalarView()
                    }
                } else {
                    current.append(scalar)
                }
            }
            if !current.isEmpty { parts.append(String(current)) }
            return parts
        }
        let bytes = Array(text.utf8), pattern = Array(separator.utf8)
        var parts: [String] = []
        var start = 0, index = 0
        while index + pattern.count <= bytes.count, maxSplits < 0 || parts.count < maxSplits {
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

    /// `text.rsplit(separator, maxsplit)` with an explicit separator.
    public static func rsplit(_ text: String, _ separator: String, maxSplits: Int) -> [String] {
        guard maxSplits >= 0 else { return split(text, separator) }
        let bytes = Array(text.utf8), pattern = Array(separator.utf8)
        var parts: [String] = []
        var end = bytes.count, index = bytes.count - pattern.count
        while index >= 0, parts.count < maxSplits {
            if bytes[index..<(index + pattern.count)].elementsEqual(pattern) {
                parts.insert(String(decoding: bytes[(index + pattern.count)..<end], as: UTF8.self), at: 0)
                end = index
                index -= pattern.count
            } else {
                index -= 1
            }
        }
        parts.insert(String(decoding: bytes[..<end], as: UTF8.self), at: 0)
        return parts
    }

    public static func replace(_ text: String, _ old: String, _ new: String, count: Int = -1) -> String {
        if old.isEmpty {
            var result = new
            for (index, scalar) in text.unicodeScalars.enumerated() {
                result.unicodeScalars.append(scalar)
                if count < 0 || index + 1 < count { result += new }
            }
            return result
        }
        let parts = split(text, old, maxSplits: count)
        return parts.joined(separator: new)
    }

    public static func startsWith(_ text: String, _ prefix: String) -> Bool { text.utf8.starts(with: prefix.utf8) }
    public static func endsWith(_ text: String, _ suffix: String) -> Bool {
        text.utf8.reversed().starts(with: suffix.utf8.reversed())
    }

    /// Python's `str.capitalize()`: the first character upper-cased, the rest lower-cased.
    public static func capitalize(_ text: String) -> String {
        guard let first = text.unicodeScalars.first else { return "" }
        return String(first).uppercased() + String(text.unicodeScalars.dropFirst()).lowercased()
    }

    /// Python's `str.title()`: a letter after a non-letter is upper-cased, other letters lower-cased.
    public static func title(_ text: String) -> String {
        var result = ""
        var previousIsCased = false
        for scalar in text.unicodeScalars {
            let isLetter = scalar.properties.isAlphabetic
            result += previousIsCased ? String(scalar).lowercased() : String(scalar).uppercased()
            previousIsCased = isLetter
        }
        return result
    }

    /// jinja2's `title` filter: words start after whitespace, `-`, `(`, `{`, `[` or `<`.
    public static func jinjaTitle(_ text: String) -> String {
        var result = ""
        var atWordStart = true
        for scalar in text.unicodeScalars {
            let separator = isWhitespace(scalar) || "-({[<".unicodeScalars.contains(scalar)
            if separator {
                result.unicodeScalars.append(scalar)
                atWordStart = true
            } else {
                result += atWordStart ? String(scalar).uppercased() : String(scalar).lowercased()
                atWordStart = false
            }
        }
        return result
    }

    /// Python's `str.splitlines()`.
    public static func splitLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var previousWasReturn = false
        for scalar in text.unicodeScalars {
            if scalar == "\n" && previousWasReturn {
                previousWasReturn = false
                continue
            }
            previousWasReturn = scalar == "\r"
            if "\n\r\u{0B}\u{0C}\u{1C}\u{1D}\u{1E}\u{85}\u{2028}\u{2029}".unicodeScalars.contains(scalar) {
                lines.append(String(current))
                current = String.UnicodeScalarView()
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }
}
