import Foundation

/// Turns token strings back into text (HF `decoder`).
indirect enum TokenDecoder {
    /// Concatenates tokens and reads them through the GPT-2 byte alphabet.
    case byteLevel
    /// Replacement character → space; dropped in the first token unless the scheme is `never`.
    case metaspace(replacement: Unicode.Scalar, prependsSpace: Bool)
    /// Runs of `<0xNN>` tokens → the UTF-8 text they spell (U+FFFD per byte when invalid).
    case byteFallback
    /// Joins all tokens into one.
    case fuse
    /// Removes up to `start` leading and `stop` trailing `content` characters from each token.
    case strip(content: Unicode.Scalar, start: Int, stop: Int)
    /// Replaces a literal or regex in each token.
    case replace(pattern: SplitPattern, content: String)
    /// Classic BPE end-of-word suffix (`</w>`) → space.
    case bpe(suffix: String)
    case sequence([TokenDecoder])

    static let supportedTypes = ["ByteLevel", "Metaspace", "ByteFallback", "Fuse", "Strip", "Replace", "BPEDecoder", "Sequence"]

    /// Builds a decoder from its `tokenizer.json` object.
    /// - Throws: `TokenizerError` naming the offending JSON path.
    init(node: JSONNode) throws {
        func singleScalar(_ child: JSONNode) throws -> Unicode.Scalar {
            let text = try child.string()
            guard text.unicodeScalars.count == 1, let scalar = text.unicodeScalars.first else {
                throw TokenizerError.invalidValue(path: child.path, reason: "must be a single character")
            }
            return scalar
        }
        switch try node.typeTag(supported: TokenDecoder.supportedTypes) {
        case "ByteLevel":
            for flag in ["add_prefix_space", "trim_offsets", "use_regex"] { _ = try node[flag].bool(default: false) }
            self = .byteLevel
        case "Metaspace":
            let prepends: Bool
            if let scheme = try node["prepend_scheme"].optionalString() {
                prepends = scheme != "never"
            } else {
                prepends = try node["add_prefix_space"].bool(default: true)
            }
            _ = try node["split"].bool(default: true)
            self = .metaspace(replacement: try singleScalar(node["replacement"]), prependsSpace: prepends)
        case "ByteFallback": self = .byteFallback
        case "Fuse": self = .fuse
        case "Strip":
            self = .strip(
                content: try singleScalar(node["content"]), start: try node["start"].nonNegativeInt(),
                stop: try node["stop"].nonNegativeInt())
        case "Replace":
            self = .replace(pattern: try SplitPattern(node: node["pattern"], allowKnownMatchers: false),
                            content: try node["content"].string())
        case "BPEDecoder":
            self = .bpe(suffix: try node["suffix"].optionalString() ?? "</w>")
        default:  // "Sequence"
            self = .sequence(try node["decoders"].array().map { try TokenDecoder(node: $0) })
        }
    }

    /// Applies this decoder to the token strings (HF `decode_chain`).
    func callAsFunction(_ tokens: [String]) -> [String] {
        switch self {
        case .byteLevel:
            var bytes: [UInt8] = []
            for token in tokens {
                var mapped: [UInt8] = []
                var complete = true
                for scalar in token.unicodeScalars {
                    guard let byte = ByteLevelAlphabet.byte(for: scalar) else { complete = false; break }
                    mapped.append(byte)
                }
                // A token outside the alphabet (an added token such as "<|im_start|>") passes through as UTF-8.
                bytes.append(contentsOf: complete ? mapped : Array(token.utf8))
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case let .metaspace(replacement, prependsSpace):
            return tokens.enumerated().map { index, token in
                var out = String.UnicodeScalarView()
                for scalar in token.unicodeScalars {
                    if scalar == replacement {
                        if index == 0 && prependsSpace { continue }
                        out.append(" ")
                    } else {
                        out.append(scalar)
                    }
                }
                return String(out)
            }
        case .byteFallback:
            var output: [String] = []
            var pending: [UInt8] = []
            func flush() {
                guard !pending.isEmpty else { return }
                if let text = String(validatingUTF8Bytes: pending) {
                    output.append(text)
                } else {
                    output.append(contentsOf: Array(repeating: "\u{FFFD}", count: pending.count))
                }
                pending.removeAll()
            }
            for token in tokens {
                if let byte = TokenDecoder.fallbackByte(token) {
                    pending.append(byte)
                } else {
                    flush()
                    output.append(token)
                }
            }
            flush()
            return output
        case .fuse:
            return [tokens.joined()]
        case let .strip(content, start, stop):
            return tokens.map { token in
                var scalars = Array(token.unicodeScalars)
                var leading = 0
                while leading < start, leading < scalars.count, scalars[leading] == content { leading += 1 }
                scalars.removeFirst(leading)
                var trailing = 0
                while trailing < stop, let last = scalars.last, last == content {
                    scalars.removeLast()
                    trailing += 1
                }
                return String(String.UnicodeScalarView(scalars))
            }
        case let .replace(pattern, content):
            return tokens.map { Normalizer.replace(pattern, with: content, in: $0) }
        case let .bpe(suffix):
            return tokens.enumerated().map { index, token in
                token.bytesReplacing(suffix, with: index == tokens.count - 1 ? "" : " ")
            }
        case let .sequence(steps):
            return steps.reduce(tokens) { $1($0) }
        }
    }

    /// The byte a `<0xNN>` token stands for.
    static func fallbackByte(_ token: String) -> UInt8? {
        let bytes = Array(token.utf8)
        guard bytes.count == 6, bytes[0] == UInt8(ascii: "<"), bytes[1] == UInt8(ascii: "0"),
            bytes[2] == UInt8(ascii: "x"), bytes[5] == UInt8(ascii: ">")
        else { return nil }
        return UInt8(String(decoding: bytes[3..<5], as: UTF8.self), radix: 16)
    }
}

extension String {
    /// Strict UTF-8 decoding: nil when the bytes are not valid UTF-8.
    init?(validatingUTF8Bytes bytes: [UInt8]) {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var scalars = String.UnicodeScalarView()
        while true {
            switch decoder.decode(&iterator) {
            case let .scalarValue(scalar): scalars.append(scalar)
            case .emptyInput: self = String(scalars); return
            case .error: return nil
            }
        }
    }
}
