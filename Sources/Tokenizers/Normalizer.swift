import Foundation

/// Rewrites input text before pre-tokenization (HF `normalizer`).
indirect enum Normalizer {
    case nfc, nfd, nfkc, nfkd
    case lowercase
    /// Prepends a string to non-empty text (Llama-2/Mistral prepend `▁`).
    case prepend(String)
    /// Replaces a literal or regex with `content`.
    case replace(pattern: SplitPattern, content: String)
    /// Strips leading and/or trailing whitespace.
    case strip(left: Bool, right: Bool)
    case sequence([Normalizer])

    static let supportedTypes = ["Sequence", "NFC", "NFD", "NFKC", "NFKD", "Lowercase", "Prepend", "Replace", "Strip"]

    /// Builds a normalizer from its `tokenizer.json` object.
    /// - Throws: `TokenizerError` naming the offending JSON path.
    init(node: JSONNode) throws {
        switch try node.typeTag(supported: Normalizer.supportedTypes) {
        case "NFC": self = .nfc
        case "NFD": self = .nfd
        case "NFKC": self = .nfkc
        case "NFKD": self = .nfkd
        case "Lowercase": self = .lowercase
        case "Prepend": self = .prepend(try node["prepend"].string())
        case "Replace":
            // Regex replacements always use the general engine: the known matchers only split.
            self = .replace(
                pattern: try SplitPattern(node: node["pattern"], allowKnownMatchers: false),
                content: try node["content"].string())
        case "Strip":
            self = .strip(left: try node["strip_left"].bool(default: true), right: try node["strip_right"].bool(default: true))
        default:  // "Sequence"
            self = .sequence(try node["normalizers"].array().map { try Normalizer(node: $0) })
        }
    }

    /// Returns the normalized text.
    func callAsFunction(_ text: String) -> String {
        switch self {
        case .nfc: return Normalizer.normalizeInChunks(text) { $0.precomposedStringWithCanonicalMapping }
        case .nfd: return Normalizer.normalizeInChunks(text) { $0.decomposedStringWithCanonicalMapping }
        case .nfkc: return Normalizer.normalizeInChunks(text) { $0.precomposedStringWithCompatibilityMapping }
        case .nfkd: return Normalizer.normalizeInChunks(text) { $0.decomposedStringWithCompatibilityMapping }
        case .lowercase:
            // Character by character, like Rust's `char::to_lowercase` (no final-sigma context).
            var out = ""
            out.reserveCapacity(text.utf8.count)
            for scalar in text.unicodeScalars { out += scalar.properties.lowercaseMapping }
            return out
        case let .prepend(prefix): return text.isEmpty ? text : prefix + text
        case let .replace(pattern, content):
            return Normalizer.replace(pattern, with: content, in: text)
        case let .strip(left, right):
            var scalars = Substring(text).unicodeScalars[...]
            if left { while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() } }
            if right { while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() } }
            return String(scalars)
        case let .sequence(steps):
            return steps.reduce(text) { $1($0) }
        }
    }

    /// Replaces every match of `pattern` with `content` (no template expansion), comparing bytes.
    static func replace(_ pattern: SplitPattern, with content: String, in text: String) -> String {
        if case let .literal(needle) = pattern { return text.bytesReplacing(needle, with: content) }
        let matches = pattern.matches(in: text)
        guard !matches.isEmpty else { return text }
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var previous = 0
        for match in matches {
            out.append(contentsOf: bytes[previous..<match.lowerBound])
            out.append(contentsOf: content.utf8)
            previous = match.upperBound
        }
        out.append(contentsOf: bytes[previous...])
        return String(decoding: out, as: UTF8.self)
    }
}
