/// Unicode character classes the pre-tokenizer patterns test, as bit flags.
///
/// The classes follow the Oniguruma definitions HF tokenizers compiles its regexes with:
/// `\p{L}` is general category L*, `\p{N}` is N*, `\s` is White_Space (U+0009…U+000D, U+0020,
/// U+0085, Zs, Zl, Zp), and `\w` is letter, mark, decimal number or connector punctuation.
struct ScalarClass: OptionSet {
    let rawValue: UInt8

    static let letter = ScalarClass(rawValue: 1)
    static let number = ScalarClass(rawValue: 2)
    static let whitespace = ScalarClass(rawValue: 4)
    /// Carriage return or line feed (the `[\r\n]` of the Llama-3 pattern); also `.whitespace`.
    static let newline = ScalarClass(rawValue: 8)
    static let mark = ScalarClass(rawValue: 16)
    static let decimalDigit = ScalarClass(rawValue: 32)
    static let connector = ScalarClass(rawValue: 64)
    /// Punctuation as HF's `is_punc`: ASCII punctuation or Unicode P*.
    static let punctuation = ScalarClass(rawValue: 128)

    /// `[^\s\p{L}\p{N}]`: neither whitespace, letter nor number.
    var isOther: Bool { isDisjoint(with: [.letter, .number, .whitespace]) }
    /// `\w` as the Rust `regex` crate defines it (HF's Whitespace pre-tokenizer and added-token
    /// word boundaries): Alphabetic, Mark, Decimal_Number, Connector_Punctuation or Join_Control.
    static func isRustWord(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 128 { return !asciiTable[Int(value)].isDisjoint(with: [.letter, .decimalDigit, .connector]) }
        if value == 0x200C || value == 0x200D { return true }
        return scalar.properties.isAlphabetic || !of(scalar).isDisjoint(with: [.mark, .decimalDigit, .connector])
    }

    private static let asciiTable: [ScalarClass] = (0..<128).map { code in
        let scalar = Unicode.Scalar(UInt8(code))
        switch scalar {
        case "a"..."z", "A"..."Z": return .letter
        case "0"..."9": return [.number, .decimalDigit]
        case "\n", "\r": return [.whitespace, .newline]
        case "\t", "\u{0B}", "\u{0C}", " ": return .whitespace
        case "_": return [.connector, .punctuation]
        default:
            let isPunct = (0x21...0x2F).contains(code) || (0x3A...0x40).contains(code)
                || (0x5B...0x60).contains(code) || (0x7B...0x7E).contains(code)
            return isPunct ? .punctuation : []
        }
    }

    /// Classifies one scalar.
    @inline(__always)
    static func of(_ scalar: Unicode.Scalar) -> ScalarClass {
        let value = scalar.value
        if value < 128 { return asciiTable[Int(value)] }
        return classifyNonASCII(scalar)
    }

    static func classifyNonASCII(_ scalar: Unicode.Scalar) -> ScalarClass {
        let properties = scalar.properties
        var result: ScalarClass = properties.isWhitespace ? .whitespace : []
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            result.insert(.letter)
        case .decimalNumber:
            result.formUnion([.number, .decimalDigit])
        case .letterNumber, .otherNumber:
            result.insert(.number)
        case .nonspacingMark, .spacingMark, .enclosingMark:
            result.insert(.mark)
        case .connectorPunctuation:
            result.formUnion([.connector, .punctuation])
        case .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation:
            result.insert(.punctuation)
        default:
            break
        }
        return result
    }
}
