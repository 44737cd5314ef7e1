/// Splits normalized text into the pieces the model encodes one at a time (HF `pre_tokenizer`).
indirect enum PreTokenizer {
    /// GPT-2 byte-level: optional leading space, optional GPT-2 regex split, then the byte alphabet.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    /// Regex or literal split with a delimiter behaviour.
    case split(pattern: SplitPattern, behavior: SplitBehavior, invert: Bool)
    /// SentencePiece spaces: `" "` → `replacement`, an optional prepended replacement, optional split.
    case metaspace(replacement: String, prependScheme: PrependScheme, split: Bool)
    /// Digits isolated one by one, or as contiguous runs.
    case digits(individual: Bool)
    /// `\w+|[^\w\s]+` runs; whitespace dropped.
    case whitespace
    /// Splits on whitespace, dropping it.
    case whitespaceSplit
    /// Splits around punctuation characters.
    case punctuation(SplitBehavior)
    /// BERT: whitespace split, then punctuation isolated.
    case bert
    case sequence([PreTokenizer])

    /// When Metaspace prepends its replacement character.
    enum PrependScheme: String, CaseIterable {
        case always, first, never
    }

    static let supportedTypes = [
        "ByteLevel", "Split", "Metaspace", "Digits", "Whitespace", "WhitespaceSplit", "Punctuation",
        "BertPreTokenizer", "Sequence",
    ]

    /// Builds a pre-tokenizer from its `tokenizer.json` object.
    /// - Throws: `TokenizerError` naming the offending JSON path.
    init(node: JSONNode) throws {
        switch try node.typeTag(supported: PreTokenizer.supportedTypes) {
        case "ByteLevel":
            self = .byteLevel(
                addPrefixSpace: try node["add_prefix_space"].bool(default: true),
                useRegex: try node["use_regex"].bool(default: true))
        case "Split":
            self = .split(
                pattern: try SplitPattern(node: node["pattern"]),
                behavior: try SplitBehavior(node: node["behavior"]),
                invert: try node["invert"].bool(default: false))
        case "Metaspace":
            let replacementNode = node["replacement"]
            let replacement = try replacementNode.string()
            guard replacement.unicodeScalars.count == 1 else {
                throw TokenizerError.invalidValue(path: replacementNode.path, reason: "must be a single character")
            }
            let scheme: PrependScheme
            if let name = try node["prepend_scheme"].optionalString() {
                guard let parsed = PrependScheme(rawValue: name) else {
                    throw TokenizerError.unsupported(
                        path: node["prepend_scheme"].path, value: name, supported: PrependScheme.allCases.map(\.rawValue))
                }
                scheme = parsed
            } else {
                scheme = try node["add_prefix_space"].bool(default: true) ? .always : .never
            }
            self = .metaspace(replacement: replacement, prependScheme: scheme, split: try node["split"].bool(default: true))
        case "Digits":
            self = .digits(individual: try node["individual_digits"].bool(default: false))
        case "Whitespace":
            self = .whitespace
        case "WhitespaceSplit":
            self = .whitespaceSplit
        case "Punctuation":
            let behaviorNode = node["behavior"]
            self = .punctuation(behaviorNode.isNull ? .isolated : try SplitBehavior(node: behaviorNode))
        case "BertPreTokenizer":
            self = .bert
        default:  // "Sequence"
            self = .sequence(try node["pretokenizers"].array().map { try PreTokenizer(node: $0) })
        }
    }

    /// Applies this pre-tokenizer to every piece.
    func callAsFunction(_ pieces: [PreToken]) -> [PreToken] {
        if case let .sequence(steps) = self {
            return steps.reduce(pieces) { $1($0) }
        }
        var output: [PreToken] = []
        output.reserveCapacity(pieces.count)
        for piece in pieces {
            output.append(contentsOf: split(piece))
        }
        return output
    }

    private func split(_ original: PreToken) -> [PreToken] {
        var piece = original
        if piece.isByteLevel {
            // A step after ByteLevel sees the mapped text, as in HF.
            piece = piece.materialized()
        }
        let text = piece.text
        let length = text.utf8.count
        switch self {
        case let .byteLevel(addPrefixSpace, useRegex):
            if addPrefixSpace, !text.utf8.starts(with: [0x20]) { piece.text = " " + text }
            piece.isByteLevel = true
            guard useRegex else { return [piece] }
            let ranges = KnownPatternMatcher.gpt2.matches(in: piece.text)
            return piece.slices(ranges)
        case let .split(pattern, behavior, invert):
            let matches = pattern.matches(in: text)
            return piece.slices(behavior.pieces(matches: matches, length: length, invert: invert))
        case let .metaspace(replacement, scheme, split):
            piece.text = text.bytesReplacing(" ", with: replacement)
            let prepend: Bool
            switch scheme {
            case .always: prepend = true
            case .first: prepend = piece.isAtInputStart
            case .never: prepend = false
            }
            if prepend, !piece.text.bytesHavePrefix(replacement) { piece.text = replacement + piece.text }
            guard split else { return [piece] }
            let matches = SplitPattern.literalMatches(of: replacement, in: piece.text)
            return piece.slices(SplitBehavior.mergedWithNext.pieces(matches: matches, length: piece.text.utf8.count, invert: false))
        case let .digits(individual):
            let matches = PreToken.scalarMatches(in: text) { ScalarClass.of($0).contains(.number) }
            let behavior: SplitBehavior = individual ? .isolated : .contiguous
            return piece.slices(behavior.pieces(matches: matches, length: length, invert: false))
        case .whitespace:
            return piece.slices(PreTokenizer.wordRuns(in: text))
        case .whitespaceSplit:
            let matches = PreToken.scalarMatches(in: text) { $0.properties.isWhitespace }
            return piece.slices(SplitBehavior.removed.pieces(matches: matches, length: length, invert: false))
        case let .punctuation(behavior):
            let matches = PreToken.scalarMatches(in: text) { ScalarClass.of($0).contains(.punctuation) }
            return piece.slices(behavior.pieces(matches: matches, length: length, invert: false))
        case .bert:
            return PreTokenizer.punctuation(.isolated)(PreTokenizer.whitespaceSplit([piece]))
        case .sequence:
            return self([piece])
        }
    }

    /// Matches of `\w+|[^\w\s]+` as UTF-8 ranges.
    static func wordRuns(in text: String) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var offset = 0
        var runStart = 0
        var runKind = 0  // 0 none, 1 word, 2 other non-space
        for scalar in text.unicodeScalars {
            let kind = ScalarClass.isRustWord(scalar) ? 1 : (scalar.properties.isWhitespace ? 0 : 2)
            if kind != runKind {
                if runKind != 0 { ranges.append(runStart..<offset) }
                runStart = offset
                runKind = kind
            }
            offset += UTF8.width(scalar)
        }
        if runKind != 0 { ranges.append(runStart..<offset) }
        return ranges
    }
}
