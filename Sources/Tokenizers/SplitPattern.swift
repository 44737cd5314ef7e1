import Foundation

/// What a `Split` pre-tokenizer (or a `Replace` normalizer/decoder) searches for.
///
/// Regexes HF checkpoints ship (GPT-2, Llama-3, Qwen2) run on hand-written matchers; any other
/// regex runs on `NSRegularExpression` (ICU) after `\s`/`\w` are rewritten to Oniguruma's
/// definitions (see `icuCompatible`).
enum SplitPattern {
    case literal(String)
    case known(KnownPatternMatcher)
    case regex(NSRegularExpression)

    /// Reads `{"String": "…"}` or `{"Regex": "…"}`.
    /// - Throws: `TokenizerError` naming `node.path` when the object is neither or the regex does not compile.
    init(node: JSONNode, allowKnownMatchers: Bool = true) throws {
        if let literal = try node["String"].optionalString() {
            self = .literal(literal)
            return
        }
        guard let source = try node["Regex"].optionalString() else {
            if node.value == nil { throw TokenizerError.missingField(path: node.path) }
            throw TokenizerError.invalidValue(path: node.path, reason: "expected {\"String\": …} or {\"Regex\": …}")
        }
        try self.init(regexSource: source, path: "\(node.path).Regex", allowKnownMatchers: allowKnownMatchers)
    }

    /// Compiles a regex source, preferring a hand-written matcher when the pattern is a known one.
    init(regexSource source: String, path: String, allowKnownMatchers: Bool = true) throws {
        if allowKnownMatchers, let known = KnownPatternMatcher(source: source) {
            self = .known(known)
            return
        }
        do {
            self = .regex(try NSRegularExpression(pattern: SplitPattern.icuCompatible(source), options: []))
        } catch {
            throw TokenizerError.invalidValue(path: path, reason: "the regex \(source) does not compile (\(error))")
        }
    }

    /// Non-overlapping matches, left to right, as UTF-8 byte ranges.
    func matches(in text: String) -> [Range<Int>] {
        switch self {
        case let .known(matcher):
            return matcher.matches(in: text)
        case let .literal(needle):
            return SplitPattern.literalMatches(of: needle, in: text)
        case let .regex(expression):
            let utf16Range = NSRange(location: 0, length: text.utf16.count)
            let utf8 = text.utf8
            // Convert through UTF-16 offsets: `Range(_:in:)` rejects ranges that end inside a
            // grapheme cluster (a letter before its combining mark), which regex matches often do.
            func utf8Offset(_ utf16Offset: Int) -> Int {
                utf8.distance(from: utf8.startIndex, to: String.Index(utf16Offset: utf16Offset, in: text))
            }
            return expression.matches(in: text, options: [], range: utf16Range).map { match in
                utf8Offset(match.range.location)..<utf8Offset(match.range.location + match.range.length)
            }
        }
    }

    static func literalMatches(of needle: String, in text: String) -> [Range<Int>] {
        let pattern = Array(needle.utf8)
        guard !pattern.isEmpty else { return [] }
        var ranges: [Range<Int>] = []
        text.utf8.withContiguousStorageIfAvailable { haystack in
            var index = 0
            while index + pattern.count <= haystack.count {
                if haystack[index] == pattern[0], haystack[index..<(index + pattern.count)].elementsEqual(pattern) {
                    ranges.append(index..<(index + pattern.count))
                    index += pattern.count
                } else {
                    index += 1
                }
            }
        } ?? {
            ranges = literalMatches(of: needle, in: String(decoding: Array(text.utf8), as: UTF8.self))
        }()
        return ranges
    }

    /// Rewrites an Oniguruma pattern so ICU's `\s`, `\S`, `\w` and `\W` mean the same sets of
    /// characters: ICU's `\s` lacks U+000B and U+0085, and its `\w` adds U+200C/U+200D.
    static func icuCompatible(_ source: String) -> String {
        var out = ""
        var classDepth = 0
        var iterator = source.unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            if scalar == "\\" {
                guard let escaped = iterator.next() else { out += "\\"; break }
                switch (escaped, classDepth > 0) {
                case ("s", false): out += #"[\s\x{0B}\x{85}]"#
                case ("s", true): out += #"\s\x{0B}\x{85}"#
                case ("S", false): out += #"[^\s\x{0B}\x{85}]"#
                case ("w", false): out += #"[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}]"#
                case ("w", true): out += #"\p{Alphabetic}\p{M}\p{Nd}\p{Pc}"#
                case ("W", false): out += #"[^\p{Alphabetic}\p{M}\p{Nd}\p{Pc}]"#
                default:
                    out += "\\"
                    out.unicodeScalars.append(escaped)
                }
                continue
            }
            if scalar == "[" { classDepth += 1 }
            if scalar == "]", classDepth > 0 { classDepth -= 1 }
            out.unicodeScalars.append(scalar)
        }
        return out
    }
}
