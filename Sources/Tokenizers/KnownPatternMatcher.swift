/// Hand-written matchers for the pre-tokenizer regexes real checkpoints use.
///
/// Each matcher reproduces what Oniguruma returns for the pattern (leftmost match, alternatives
/// tried in order, greedy quantifiers with backtracking), including the `\s+(?!\S)` rule that
/// leaves the last space of a run to start the next word. Matching classified scalars directly
/// is several times faster than a general regex engine.
enum KnownPatternMatcher {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// Llama-3 (`maxDigits` 3) and Qwen2 (`maxDigits` 1):
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case llama3(maxDigits: Int)

    static let gpt2Source = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Source =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Source =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// Recognises a pattern string, or returns nil for patterns that need the general engine.
    init?(source: String) {
        if source.bytesEqual(KnownPatternMatcher.gpt2Source) {
            self = .gpt2
        } else if source.bytesEqual(KnownPatternMatcher.llama3Source) {
            self = .llama3(maxDigits: 3)
        } else if source.bytesEqual(KnownPatternMatcher.qwen2Source) {
            self = .llama3(maxDigits: 1)
        } else {
            return nil
        }
    }

    /// Returns the matches in `text` as UTF-8 byte ranges (these patterns match every character,
    /// so the ranges tile the text).
    func matches(in text: String) -> [Range<Int>] {
        var scalars: [Unicode.Scalar] = []
        var classes: [ScalarClass] = []
        var offsets: [Int] = []
        scalars.reserveCapacity(text.utf8.count)
        classes.reserveCapacity(text.utf8.count)
        offsets.reserveCapacity(text.utf8.count + 1)
        var offset = 0
        for scalar in text.unicodeScalars {
            scalars.append(scalar)
            classes.append(ScalarClass.of(scalar))
            offsets.append(offset)
            offset += UTF8.width(scalar)
        }
        offsets.append(offset)

        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(scalars.count / 3 + 1)
        var index = 0
        let count = scalars.count
        while index < count {
            let end: Int
            switch self {
            case .gpt2: end = KnownPatternMatcher.gpt2End(scalars, classes, index)
            case let .llama3(maxDigits): end = KnownPatternMatcher.llama3End(scalars, classes, index, maxDigits)
            }
            ranges.append(offsets[index]..<offsets[end])
            index = end
        }
        return ranges
    }

    // MARK: - Pattern bodies

    /// End of a run of scalars having `required` classes, starting at `start`.
    @inline(__always)
    private static func run(_ classes: [ScalarClass], from start: Int, while predicate: (ScalarClass) -> Bool) -> Int {
        var end = start
        while end < classes.count, predicate(classes[end]) { end += 1 }
        return end
    }

    /// `\s+(?!\S)|\s+` at a whitespace scalar: the whole run at the end of the text, otherwise
    /// the run minus its last scalar (which then prefixes the next word), but at least one scalar.
    @inline(__always)
    private static func whitespaceEnd(_ classes: [ScalarClass], _ start: Int) -> Int {
        let end = run(classes, from: start) { $0.contains(.whitespace) }
        if end == classes.count || end - start < 2 { return end }
        return end - 1
    }

    static func gpt2End(_ scalars: [Unicode.Scalar], _ classes: [ScalarClass], _ start: Int) -> Int {
        let count = scalars.count
        if scalars[start] == "'", start + 1 < count {
            switch scalars[start + 1] {
            case "s", "t", "m", "d": return start + 2
            case "r", "v":
                if start + 2 < count, scalars[start + 2] == "e" { return start + 3 }
            case "l":
                if start + 2 < count, scalars[start + 2] == "l" { return start + 3 }
            default: break
            }
        }
        // ` ?\p{L}+ | ?\p{N}+ | ?[^\s\p{L}\p{N}]+`: an optional ASCII space, then a run of one class.
        var body = start
        if scalars[start] == " ", start + 1 < count, !classes[start + 1].contains(.whitespace) { body = start + 1 }
        let bodyClass = classes[body]
        if bodyClass.contains(.letter) { return run(classes, from: body + 1) { $0.contains(.letter) } }
        if bodyClass.contains(.number) { return run(classes, from: body + 1) { $0.contains(.number) } }
        if bodyClass.isOther { return run(classes, from: body + 1) { $0.isOther } }
        return whitespaceEnd(classes, start)
    }

    /// Case-insensitive comparison with an ASCII letter, as Oniguruma's `(?i)` folds it.
    @inline(__always)
    private static func foldedEquals(_ scalar: Unicode.Scalar, _ lower: Unicode.Scalar) -> Bool {
        if scalar == lower { return true }
        if scalar.value == lower.value - 32 { return true }
        // U+017F LATIN SMALL LETTER LONG S case-folds to "s".
        return lower == "s" && scalar.value == 0x17F
    }

    static func llama3End(_ scalars: [Unicode.Scalar], _ classes: [ScalarClass], _ start: Int, _ maxDigits: Int) -> Int {
        let count = scalars.count
        if scalars[start] == "'", start + 1 < count {
            let first = scalars[start + 1]
            if foldedEquals(first, "s") || foldedEquals(first, "t") || foldedEquals(first, "m") || foldedEquals(first, "d") {
                return start + 2
            }
            if start + 2 < count {
                let second = scalars[start + 2]
                if (foldedEquals(first, "r") || foldedEquals(first, "v")) && foldedEquals(second, "e") { return start + 3 }
                if foldedEquals(first, "l") && foldedEquals(second, "l") { return start + 3 }
            }
        }
        let here = classes[start]
        // `[^\r\n\p{L}\p{N}]?\p{L}+`
        if here.contains(.letter) { return run(classes, from: start + 1) { $0.contains(.letter) } }
        if !here.contains(.newline), !here.contains(.number), start + 1 < count, classes[start + 1].contains(.letter) {
            return run(classes, from: start + 2) { $0.contains(.letter) }
        }
        // `\p{N}{1,maxDigits}`
        if here.contains(.number) {
            var end = start + 1
            while end < count, end - start < maxDigits, classes[end].contains(.number) { end += 1 }
            return end
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        var body = start
        if scalars[start] == " ", start + 1 < count, classes[start + 1].isOther { body = start + 1 }
        if classes[body].isOther {
            let end = run(classes, from: body + 1) { $0.isOther }
            return run(classes, from: end) { $0.contains(.newline) }
        }
        // `\s*[\r\n]+`: through the last line break of the whitespace run.
        let runEnd = run(classes, from: start) { $0.contains(.whitespace) }
        var lastNewline = runEnd - 1
        while lastNewline >= start, !classes[lastNewline].contains(.newline) { lastNewline -= 1 }
        if lastNewline >= start { return lastNewline + 1 }
        // `\s+(?!\S)|\s+`
        return whitespaceEnd(classes, start)
    }
}
