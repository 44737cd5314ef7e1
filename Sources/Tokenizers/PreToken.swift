/// A piece of text on its way from the normalizer to the model.
struct PreToken {
    /// The piece's text (raw bytes still to be byte-level mapped when `isByteLevel` is true).
    var text: String
    /// True when the piece starts at offset 0 of the encoded input; Metaspace's `first` scheme only
    /// prepends its replacement there.
    var isAtInputStart: Bool
    /// Set by the ByteLevel pre-tokenizer: the model reads `text` through the GPT-2 byte alphabet.
    /// Mapping lazily lets the BPE cache be keyed by raw text, which skips the mapping on cache hits.
    var isByteLevel: Bool = false

    /// The text the model sees (byte-level spelling when flagged).
    var modelText: String {
        isByteLevel ? ByteLevelAlphabet.encode(text) : text
    }

    /// The same piece with the byte-level mapping applied to its text.
    func materialized() -> PreToken {
        guard isByteLevel else { return self }
        return PreToken(text: ByteLevelAlphabet.encode(text), isAtInputStart: isAtInputStart)
    }

    /// Sub-pieces for the given UTF-8 byte ranges (empty ranges are dropped, as HF drops empty splits).
    func slices(_ ranges: [Range<Int>]) -> [PreToken] {
        let utf8 = text.utf8
        var pieces: [PreToken] = []
        pieces.reserveCapacity(ranges.count)
        for range in ranges where !range.isEmpty {
            let lower = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
            let upper = utf8.index(utf8.startIndex, offsetBy: range.upperBound)
            pieces.append(
                PreToken(text: String(text[lower..<upper]), isAtInputStart: isAtInputStart && range.lowerBound == 0,
                         isByteLevel: isByteLevel))
        }
        return pieces
    }

    /// One single-scalar range for every scalar satisfying `predicate` (HF's character patterns).
    static func scalarMatches(in text: String, where predicate: (Unicode.Scalar) -> Bool) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var offset = 0
        for scalar in text.unicodeScalars {
            let width = UTF8.width(scalar)
            if predicate(scalar) { ranges.append(offset..<(offset + width)) }
            offset += width
        }
        return ranges
    }
}

/// How a split treats the matched delimiters (HF's `SplitDelimiterBehavior`).
enum SplitBehavior: String, CaseIterable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    init(node: JSONNode) throws {
        let name = try node.string()
        guard let behavior = SplitBehavior(rawValue: name) else {
            throw TokenizerError.unsupported(path: node.path, value: name, supported: SplitBehavior.allCases.map(\.rawValue))
        }
        self = behavior
    }

    /// Turns delimiter matches inside a text of `length` bytes into the byte ranges of the pieces.
    /// - Parameter invert: when true the matches are the pieces to keep and the gaps the delimiters.
    func pieces(matches: [Range<Int>], length: Int, invert: Bool) -> [Range<Int>] {
        // Tile the text into (range, isDelimiter) segments.
        var segments: [(range: Range<Int>, isMatch: Bool)] = []
        segments.reserveCapacity(matches.count * 2 + 1)
        var previous = 0
        for match in matches {
            if match.lowerBound > previous { segments.append((previous..<match.lowerBound, invert)) }
            segments.append((match, !invert))
            previous = match.upperBound
        }
        if previous < length { segments.append((previous..<length, invert)) }

        switch self {
        case .removed:
            return segments.filter { !$0.isMatch }.map(\.range)
        case .isolated:
            return segments.map(\.range)
        case .mergedWithPrevious:
            var result: [Range<Int>] = []
            var previousWasMatch = false
            for segment in segments {
                if segment.isMatch, !previousWasMatch, let last = result.last {
                    result[result.count - 1] = last.lowerBound..<segment.range.upperBound
                } else {
                    result.append(segment.range)
                }
                previousWasMatch = segment.isMatch
            }
            return result
        case .mergedWithNext:
            var result: [Range<Int>] = []
            var nextWasMatch = false
            for segment in segments.reversed() {
                if segment.isMatch, !nextWasMatch, let last = result.last {
                    result[result.count - 1] = segment.range.lowerBound..<last.upperBound
                } else {
                    result.append(segment.range)
                }
                nextWasMatch = segment.isMatch
            }
            return result.reversed()
        case .contiguous:
            var result: [Range<Int>] = []
            var previousWasMatch = false
            for segment in segments {
                if segment.isMatch == previousWasMatch, let last = result.last {
                    result[result.count - 1] = last.lowerBound..<segment.range.upperBound
                } else {
                    result.append(segment.range)
                }
                previousWasMatch = segment.isMatch
            }
            return result
        }
    }
}
