import Foundation

/// Trains a GPT-2-style byte-level BPE tokenizer from texts.
///
/// Texts are split with the GPT-2 regex, spelled in the byte-level alphabet, and counted. Starting
/// from the 256 byte symbols, the most frequent adjacent pair is merged until the vocabulary reaches
/// `vocabularySize`. Ties are broken by the smaller (left, right) token bytes, so the same texts
/// always give the same tokenizer. The result loads in HF `tokenizers` (`Tokenizer.from_file`).
public struct BPETrainer {
    /// Target size: special tokens + 256 byte symbols + merges.
    public var vocabularySize: Int
    /// Added as special tokens with the first ids, in this order.
    public var specialTokens: [String]
    /// A pair seen fewer times than this is never merged.
    public var minimumPairFrequency: Int

    /// - Parameters:
    ///   - vocabularySize: at least `specialTokens.count + 256`.
    ///   - specialTokens: e.g. `["<|endoftext|>"]`.
    ///   - minimumPairFrequency: pairs rarer than this stop training early (default 2).
    public init(vocabularySize: Int, specialTokens: [String] = [], minimumPairFrequency: Int = 2) {
        self.vocabularySize = vocabularySize
        self.specialTokens = specialTokens
        self.minimumPairFrequency = minimumPairFrequency
    }

    /// The learned vocabulary and merges.
    struct Result {
        /// Token strings by id (special tokens, 256 bytes, then merge results).
        var tokens: [String]
        /// Merges in rank order, as token ids.
        var merges: [(left: Int, right: Int)]
    }

    /// Trains and returns a ready tokenizer.
    /// - Throws: `TokenizerError.invalidTrainingConfiguration` for an impossible configuration.
    public func train(on texts: [String]) throws -> Tokenizer {
        try Tokenizer(data: try trainTokenizerJSON(on: texts), source: "trained tokenizer")
    }

    /// Trains and returns `tokenizer.json` bytes (HF format, merges in the `[left, right]` form).
    /// - Throws: `TokenizerError.invalidTrainingConfiguration` for an impossible configuration.
    public func trainTokenizerJSON(on texts: [String]) throws -> Data {
        Data(BPETrainer.tokenizerJSON(try learn(from: texts), specialTokenCount: specialTokens.count).serialized().utf8)
    }

    func learn(from texts: [String]) throws -> Result {
        let minimum = specialTokens.count + 256
        guard vocabularySize >= minimum else {
            throw TokenizerError.invalidTrainingConfiguration(
                reason: "vocabularySize \(vocabularySize) is below \(minimum) (special tokens + 256 byte symbols)")
        }
        guard Set(specialTokens.map(TokenKey.init)).count == specialTokens.count, !specialTokens.contains("") else {
            throw TokenizerError.invalidTrainingConfiguration(reason: "special tokens must be distinct and non-empty")
        }
        var tokens = specialTokens + ByteLevelAlphabet.strings
        var tokenIds: [TokenKey: Int] = [:]
        for (id, token) in tokens.enumerated() { tokenIds[TokenKey(token)] = id }
        let byteBase = Int32(specialTokens.count)

        // Distinct pre-tokens with their counts, as symbol arrays.
        var wordIndex: [TokenKey: Int] = [:]
        var words: [[Int32]] = []
        var counts: [Int] = []
        for text in texts {
            let piece = PreToken(text: text, isAtInputStart: true)
            for word in piece.slices(KnownPatternMatcher.gpt2.matches(in: text)) {
                let key = TokenKey(word.text)
                if let index = wordIndex[key] {
                    counts[index] += 1
                } else {
                    wordIndex[key] = words.count
                    words.append(word.text.utf8.map { byteBase + Int32($0) })
                    counts.append(1)
                }
            }
        }

        var pairCounts = PairStatistics(tokens: tokens)
        for (index, word) in words.enumerated() { pairCounts.add(word, weight: counts[index], wordIndex: index) }

        var merges: [(left: Int, right: Int)] = []
        while tokens.count < vocabularySize, let best = pairCounts.popBest(minimumCount: minimumPairFrequency) {
            let merged = tokens[Int(best.left)] + tokens[Int(best.right)]
            let newId: Int32
            if let existing = tokenIds[TokenKey(merged)] {
                newId = Int32(existing)
            } else {
                newId = Int32(tokens.count)
                tokens.append(merged)
                tokenIds[TokenKey(merged)] = Int(newId)
                pairCounts.tokens.append(merged)
            }
            merges.append((Int(best.left), Int(best.right)))
            for index in pairCounts.wordsContaining(best) {
                let before = words[index]
                let after = BPETrainer.merge(before, best.left, best.right, into: newId)
                guard after.count != before.count else { continue }
                pairCounts.remove(before, weight: counts[index])
                pairCounts.add(after, weight: counts[index], wordIndex: index)
                words[index] = after
            }
            pairCounts.forget(best)
        }
        return Result(tokens: tokens, merges: merges)
    }

    /// Replaces each non-overlapping (left, right), scanning left to right.
    static func merge(_ word: [Int32], _ left: Int32, _ right: Int32, into merged: Int32) -> [Int32] {
        var result: [Int32] = []
        result.reserveCapacity(word.count)
        var index = 0
        while index < word.count {
            if index + 1 < word.count, word[index] == left, word[index + 1] == right {
                result.append(merged)
                index += 2
            } else {
                result.append(word[index])
                index += 1
            }
        }
        return result
    }
}
