import Foundation

extension Normalizer {
    /// Texts shorter than this (UTF-8 bytes) are normalized in one call.
    static let normalizationChunkLength = 4096

    /// Applies a Unicode normalization form a few kilobytes at a time.
    ///
    /// Foundation's normalization on Linux takes time quadratic in the length of the string (NFD of 256 K "é":
    /// 1.35 s, of 512 K: 5.5 s, debug build). Normalization acts on each stretch between two
    /// `isNormalizationBoundary` scalars independently, so cutting there and joining the results is exact.
    static func normalizeInChunks(_ text: String, _ form: (String) -> String) -> String {
        guard text.utf8.count > normalizationChunkLength else { return form(text) }
        var output = ""
        output.reserveCapacity(text.utf8.count + text.utf8.count / 4)
        let scalars = text.unicodeScalars
        var chunkStart = scalars.startIndex
        var chunkLength = 0
        for index in scalars.indices {
            if chunkLength >= normalizationChunkLength, isNormalizationBoundary(scalars[index]) {
                output += form(String(scalars[chunkStart..<index]))
                chunkStart = index
                chunkLength = 0
            }
            chunkLength += UTF8.width(scalars[index])
        }
        output += form(String(scalars[chunkStart...]))
        return output
    }

    /// Starters that follow another character in some canonical composition (NFC_Quick_Check = Maybe): a cut before
    /// one could keep it from composing with what precedes. Hangul jamo and Tibetan are excluded as whole blocks.
    static let backwardCombiningStarters: Set<UInt32> = [
        0x09BE, 0x09D7, 0x0B3E, 0x0B56, 0x0B57, 0x0BBE, 0x0BD7, 0x0CC2, 0x0CD5, 0x0CD6, 0x0D3E, 0x0D57, 0x0DCF, 0x0DDF,
        0x102E, 0x1B35, 0x11127, 0x1133E, 0x11357, 0x114B0, 0x114BA, 0x114BD, 0x115AF, 0x11930,
    ]

    /// True when every normalization form of a text cut just before `scalar` is the concatenation of the forms of the
    /// two parts: the scalar is a starter (combining class 0), its (compatibility) decomposition starts with a
    /// starter, so canonical reordering cannot cross the cut, and that starter never composes with a preceding one.
    static func isNormalizationBoundary(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 { return true }
        guard scalar.properties.canonicalCombiningClass == .notReordered else { return false }
        switch value {
        case 0x0F00...0x0FFF,  // Tibetan: U+0F73, U+0F75, U+0F81 decompose to non-starters; U+0FB5, U+0FB7 compose backward
            0x1100...0x11FF,  // Hangul conjoining jamo: vowels and trailing consonants compose with what precedes
            0x3130...0x318F,  // Hangul compatibility jamo: NFKD gives conjoining jamo
            0xFFA0...0xFFDF:  // halfwidth Hangul: NFKD gives conjoining jamo; U+FF9E/U+FF9F below
            return false
        case 0xFF9E, 0xFF9F:  // halfwidth voiced sound marks: NFKD gives the non-starters U+3099/U+309A
            return false
        default:
            return !backwardCombiningStarters.contains(value)
        }
    }
}
