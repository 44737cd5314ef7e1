/// Finds added tokens in text and cuts the text around them, as HF's `AddedVocabulary` does:
/// first the tokens with `normalized: false` are matched in the raw text, then each remaining
/// piece is normalized and the `normalized: true` tokens are matched in it.
struct AddedVocabulary {
    /// A run of ordinary text, or an added token's id.
    enum Segment {
        case text(String, isAtInputStart: Bool)
        case token(Int)
    }

    let tokens: [AddedToken]
    let tokensById: [Int: AddedToken]
    let idsByContent: [TokenKey: Int]
    private let rawMatcher: Matcher
    private let normalizedMatcher: Matcher

    init(tokens: [AddedToken], normalizer: Normalizer?) {
        self.tokens = tokens
        var byId: [Int: AddedToken] = [:]
        var byContent: [TokenKey: Int] = [:]
        for token in tokens {
            byId[token.id] = token
            byContent[TokenKey(token.content)] = token.id
        }
        tokensById = byId
        idsByContent = byContent
        rawMatcher = Matcher(tokens.filter { !$0.normalized }.map { ($0.content, $0) })
        normalizedMatcher = Matcher(tokens.filter(\.normalized).map { (normalizer?($0.content) ?? $0.content, $0) })
    }

    /// Splits `text` into ordinary (normalized) text and added tokens.
    func segments(of text: String, normalizer: Normalizer?) -> [Segment] {
        var result: [Segment] = []
        for rawSegment in rawMatcher.split(text, isAtInputStart: true) {
            guard case let .text(raw, isAtInputStart) = rawSegment else {
                result.append(rawSegment)
                continue
            }
            let normalized = normalizer?(raw) ?? raw
            if normalized.isEmpty { continue }
            result.append(contentsOf: normalizedMatcher.split(normalized, isAtInputStart: isAtInputStart))
        }
        return result
    }

    /// Leftmost-longest, non-overlapping matcher over UTF-8 bytes (HF uses Aho-Corasick with
    /// `MatchKind::LeftmostLongest`).
    private struct Matcher {
        /// Candidates by first byte, longest first.
        private var buckets: [[(bytes: [UInt8], token: AddedToken)]] = Array(repeating: [], count: 256)
        private var isEmpty = true

        init(_ patterns: [(String, AddedToken)]) {
            for (content, token) in patterns where !content.isEmpty {
                let bytes = Array(content.utf8)
                buckets[Int(bytes[0])].append((bytes, token))
                isEmpty = false
            }
            for index in buckets.indices { buckets[index].sort { $0.bytes.count > $1.bytes.count } }
        }

        func split(_ text: String, isAtInputStart: Bool) -> [Segment] {
            if isEmpty || text.isEmpty {
                return text.isEmpty ? [] : [.text(text, isAtInputStart: isAtInputStart)]
            }
            let bytes = Array(text.utf8)
            var segments: [Segment] = []
            var consumed = 0  // end of the last emitted segment
            var position = 0
            func emitText(_ end: Int) {
                guard end > consumed else { return }
                segments.append(.text(String(decoding: bytes[consumed..<end], as: UTF8.self),
                                      isAtInputStart: isAtInputStart && consumed == 0))
            }
            while position < bytes.count {
                let bucket = buckets[Int(bytes[position])]
                guard !bucket.isEmpty,
                    let candidate = bucket.first(where: { position + $0.bytes.count <= bytes.count
                        && bytes[position..<(position + $0.bytes.count)].elementsEqual($0.bytes) })
                else {
                    position += 1
                    continue
                }
                var start = position
                var stop = position + candidate.bytes.count
                position = stop
                let token = candidate.token
                if token.singleWord {
                    let wordBefore = start > 0 && Matcher.lastScalarIsWord(bytes[..<start])
                    let wordAfter = stop < bytes.count && Matcher.firstScalarIsWord(bytes[stop...])
                    if wordBefore || wordAfter { continue }
                }
                if token.leftStrip {
                    start = max(Matcher.whitespaceStart(bytes, before: start), consumed)
                }
                if token.rightStrip {
                    stop = Matcher.whitespaceEnd(bytes, after: stop)
                    position = stop
                }
                emitText(start)
                segments.append(.token(token.id))
                consumed = stop
            }
            emitText(bytes.count)
            return segments
        }

        static func isWord(_ scalar: Unicode.Scalar) -> Bool { ScalarClass.isRustWord(scalar) }

        static func lastScalarIsWord(_ bytes: ArraySlice<UInt8>) -> Bool {
            String(decoding: bytes.suffix(4), as: UTF8.self).unicodeScalars.last.map(isWord) ?? false
        }

        static func firstScalarIsWord(_ bytes: ArraySlice<UInt8>) -> Bool {
            String(decoding: bytes.prefix(4), as: UTF8.self).unicodeScalars.first.map(isWord) ?? false
        }

        /// Start of the whitespace run ending at `end` (`bytes` is valid UTF-8; only the run is read).
        static func whitespaceStart(_ bytes: [UInt8], before end: Int) -> Int {
            var start = end
            while start > 0 {
                var scalarStart = start - 1
                while scalarStart > 0, bytes[scalarStart] & 0xC0 == 0x80 { scalarStart -= 1 }
                guard let scalar = String(decoding: bytes[scalarStart..<start], as: UTF8.self).unicodeScalars.first,
                    scalar.properties.isWhitespace
                else { break }
                start = scalarStart
            }
            return start
        }

        /// End of the whitespace run starting at `start` (only the run is read).
        static func whitespaceEnd(_ bytes: [UInt8], after start: Int) -> Int {
            var end = start
            var iterator = bytes[start...].makeIterator()
            var decoder = UTF8()
            while case let .scalarValue(scalar) = decoder.decode(&iterator), scalar.properties.isWhitespace {
                end += UTF8.width(scalar)
            }
            return end
        }
    }
}
