/// Literal substring search over UTF-8 bytes.
///
/// Foundation's `range(of:)` goes through `NSString` (UTF-16) on Linux and dominated dataset loading time;
/// the markers searched for here are short ASCII strings, for which a byte scan is exact and much faster.
enum TextSearch {
    /// The first occurrence of `needle` in `text` at or after `text.startIndex`.
    static func firstRange(of needle: String, in text: Substring) -> Range<String.Index>? {
        search(needle, in: text, backwards: false)
    }

    /// The last occurrence of `needle` in `text`.
    static func lastRange(of needle: String, in text: Substring) -> Range<String.Index>? {
        search(needle, in: text, backwards: true)
    }

    /// Whether `text` contains `needle`.
    static func contains(_ needle: String, in text: String) -> Bool {
        firstRange(of: needle, in: text[...]) != nil
    }

    private static func search(_ needle: String, in text: Substring, backwards: Bool) -> Range<String.Index>? {
        let pattern = Array(needle.utf8)
        guard let first = pattern.first else { return nil }
        let offset: Int? = text.utf8.withContiguousStorageIfAvailable { bytes in
            scan(pattern, first: first, in: bytes, backwards: backwards)
        } ?? Array(text.utf8).withUnsafeBufferPointer { scan(pattern, first: first, in: $0, backwards: backwards) }
        guard let offset else { return nil }
        let utf8 = text.utf8
        let lower = utf8.index(utf8.startIndex, offsetBy: offset)
        return lower..<utf8.index(lower, offsetBy: pattern.count)
    }

    private static func scan(_ pattern: [UInt8], first: UInt8, in bytes: UnsafeBufferPointer<UInt8>, backwards: Bool) -> Int? {
        guard bytes.count >= pattern.count else { return nil }
        let last = bytes.count - pattern.count
        func matches(at start: Int) -> Bool {
            guard bytes[start] == first else { return false }
            for index in 1..<pattern.count where bytes[start + index] != pattern[index] { return false }
            return true
        }
        if backwards {
            for start in stride(from: last, through: 0, by: -1) where matches(at: start) { return start }
        } else {
            for start in 0...last where matches(at: start) { return start }
        }
        return nil
    }
}
