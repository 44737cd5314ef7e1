import Foundation
import Runtime
import XCTest

@testable import Tokenizers

/// A pre-token with no spaces can be megabytes long (a JSONL line holding one huge "word", issue 24):
/// encoding it must stay O(n log n) and give the same ids as the plain merge loop.
final class LongWordTests: XCTestCase {
    /// A word of `length` bytes: `"ab"` repeated, or seeded random lower-case letters.
    static func word(_ length: Int, random seed: UInt64?) -> String {
        guard let seed = seed else { return String(repeating: "ab", count: length / 2) }
        var generator = SplitMix64(seed: seed)
        let letters = Array("abcdefghijklmnopqrstuvwxyz".utf8)
        return String(decoding: (0..<length).map { _ in letters[Int(generator.next() % 26)] }, as: UTF8.self)
    }

    /// The textbook loop, O(n²): merge the lowest-ranked adjacent pair (leftmost on ties) until none is left.
    static func referenceMerge(_ symbols: [Int32], merges: [UInt64: BPEModel.Merge]) -> [Int32] {
        var symbols = symbols
        while symbols.count > 1 {
            var best = -1
            var bestMerge = BPEModel.Merge(rank: Int32.max, result: -1)
            for index in 0..<(symbols.count - 1) {
                if let merge = merges[BPEModel.pairKey(symbols[index], symbols[index + 1])], merge.rank < bestMerge.rank {
                    best = index
                    bestMerge = merge
                }
            }
            if best < 0 { break }
            symbols[best] = bestMerge.result
            symbols.remove(at: best + 1)
        }
        return symbols
    }

    /// Reference ids of a byte-level tokenizer: its own pre-tokenizer, then `referenceMerge` per piece.
    static func referenceIds(_ tokenizer: Tokenizer, _ text: String) -> [Int] {
        let start = PreToken(text: text, isAtInputStart: true)
        var ids: [Int] = []
        for piece in tokenizer.preTokenizer?([start]) ?? [start] {
            let symbols = Array(piece.modelText.unicodeScalars).map { Int32(tokenizer.model.tokenId(String($0)) ?? -1) }
            XCTAssertFalse(symbols.contains(-1), "every byte-level character is in the vocabulary")
            ids += referenceMerge(symbols, merges: tokenizer.model.merges).map { Int($0) }
        }
        return ids
    }

    /// A byte-level tokenizer whose vocabulary is the 256 byte symbols plus the results of `pairs`, ranked in order.
    static func syntheticTokenizer(_ pairs: [(String, String)], addedTokens: [AddedToken] = []) -> Tokenizer {
        var vocabulary: [TokenKey: Int] = [:]
        for symbol in ByteLevelAlphabet.strings { vocabulary[TokenKey(symbol)] = vocabulary.count }
        var merges: [UInt64: BPEModel.Merge] = [:]
        for (rank, (left, right)) in pairs.enumerated() {
            let merged = TokenKey(left + right)
            if vocabulary[merged] == nil { vocabulary[merged] = vocabulary.count }
            guard let leftId = vocabulary[TokenKey(left)], let rightId = vocabulary[TokenKey(right)], let result = vocabulary[merged] else {
                preconditionFailure("merge \(left) \(right) uses a token that is not in the vocabulary")
            }
            merges[BPEModel.pairKey(Int32(leftId), Int32(rightId))] = BPEModel.Merge(rank: Int32(rank), result: Int32(result))
        }
        let model = BPEModel(vocabulary: vocabulary, merges: merges, unknownToken: nil, continuingSubwordPrefix: nil,
                             endOfWordSuffix: nil, fuseUnknown: false, byteFallback: false, ignoreMerges: false)
        return Tokenizer(normalizer: nil, preTokenizer: .byteLevel(addPrefixSpace: false, useRegex: true), model: model,
                         addedTokens: addedTokens, postProcessor: nil, decoder: .byteLevel, truncation: nil, padding: nil,
                         specialTokens: SpecialTokenNames())
    }

    /// Worst case for merging: `"ab"` repeated merges into tokens of 2, 4, …, 131072 letters (one merge per symbol).
    static let doubling: Tokenizer = {
        var pairs = [("a", "b")]
        var token = "ab"
        for _ in 0..<16 {
            pairs.append((token, token))
            token += token
        }
        return syntheticTokenizer(pairs)
    }()

    /// Random text: every letter pair (seeded order), then 3000 seeded merges of those pairs with letters and pairs.
    static let letters: Tokenizer = {
        let alphabet = "abcdefghijklmnopqrstuvwxyz".map(String.init)
        var generator = SplitMix64(seed: 11)
        var pairs = alphabet.flatMap { left in alphabet.map { (left, $0) } }
        pairs.seededShuffle(using: &generator)
        let bigrams = pairs.map { $0.0 + $0.1 }
        for _ in 0..<3000 {
            let left = Bool.random(using: &generator) ? bigrams.randomElement(using: &generator) : alphabet.randomElement(using: &generator)
            let right = bigrams.randomElement(using: &generator)
            if let left = left, let right = right { pairs.append((left, right)) }
        }
        return syntheticTokenizer(pairs)
    }()

    func testHeavyMergingMatchesReferenceMerge() throws {
        for (name, tokenizer, seeds) in [("doubling", LongWordTests.doubling, [UInt64?.none]), ("letters", LongWordTests.letters, [nil, 4, 9])] {
            for seed in seeds {
                for length in [2, 3, 47, 48, 49, 50, 64, 300, 1_000, 2_000] {
                    let text = LongWordTests.word(length, random: seed)
                    let ids = tokenizer.encode(text, addSpecialTokens: false)
                    XCTAssertEqual(ids, LongWordTests.referenceIds(tokenizer, text), "\(name), length \(length), seed \(String(describing: seed))")
                    if length >= 8 { XCTAssertLessThan(ids.count * 4, length * 3, "\(name) merges most letters") }
                }
            }
        }
    }

    /// The heap and the scan agree on sequences of arbitrary vocabulary symbols (SentencePiece fixture: no byte level).
    func testMergingArbitrarySymbolsMatchesReference() throws {
        let model = try Fixtures.tokenizer("sentencepiece").model
        let frequent = model.merges.values.sorted { $0.rank < $1.rank }.prefix(200).map(\.result)
        var generator = SplitMix64(seed: 21)
        for length in [10, 49, 200, 2_000] {
            var symbols = (0..<length).map { _ in frequent.randomElement(using: &generator) ?? 0 }
            let expected = LongWordTests.referenceMerge(symbols, merges: model.merges)
            model.applyMerges(&symbols)
            XCTAssertEqual(symbols, expected, "length \(length)")
        }
    }

    func testLongWordMatchesReferenceMerge() throws {
        let tokenizer = try Fixtures.tokenizer("gpt2")
        for seed: UInt64? in [nil, 1, 2] {
            for length in [2, 47, 48, 49, 50, 300, 2_000] {
                let text = LongWordTests.word(length, random: seed)
                XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: false), LongWordTests.referenceIds(tokenizer, text),
                               "length \(length), seed \(String(describing: seed))")
            }
        }
    }

    /// 200 KB without a space, within a generous bound (exactness is checked on 2 KB words above).
    func testTwoHundredKilobyteWordEncodesQuickly() throws {
        let gpt2 = try Fixtures.tokenizer("gpt2")
        for (name, tokenizer, seed) in [("gpt2", gpt2, UInt64?.none), ("doubling", LongWordTests.doubling, nil),
                                        ("letters", LongWordTests.letters, 3)] {
            let text = LongWordTests.word(200_000, random: seed)
            let started = Date()
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            let seconds = Date().timeIntervalSince(started)
            XCTAssertLessThan(seconds, 10, "\(name): 200 KB word (seed \(String(describing: seed))) took \(seconds) s")
            XCTAssertEqual(tokenizer.decode(ids), text, "\(name): the ids spell the word")
        }
        XCTAssertEqual(LongWordTests.doubling.encode(LongWordTests.word(200_000, random: nil)).count, 6,
                       "100 000 pairs = 65536 + 32768 + 1024 + 512 + 128 + 32: one token per set bit")
    }

    /// Stripping added tokens read only the whitespace next to them, not the text before or after (that was O(n) each).
    func testManyStrippingAddedTokensEncodeQuickly() throws {
        let marker = AddedToken(id: 1000, content: "<x>", isSpecial: true, leftStrip: true, rightStrip: true)
        let tokenizer = LongWordTests.syntheticTokenizer([], addedTokens: [marker])
        let text = String(repeating: "a \u{3000}<x>\u{2003} ", count: 40_000)
        let started = Date()
        let ids = tokenizer.encode(text, addSpecialTokens: false)
        let seconds = Date().timeIntervalSince(started)
        XCTAssertLessThan(seconds, 5, "40 000 stripping added tokens in 400 KB took \(seconds) s")
        let a = Int(UInt8(ascii: "a"))
        XCTAssertEqual(ids, Array(repeating: [a, 1000], count: 40_000).flatMap { $0 },
                       "the spaces around <x> (ASCII, U+3000, U+2003) are stripped")
    }

    /// Prints encode times for 1 MB words; set CHARTER_MEASURE_LONG_WORD=1 to run it.
    func testMeasureOneMegabyteWord() throws {
        guard ProcessInfo.processInfo.environment["CHARTER_MEASURE_LONG_WORD"] != nil else {
            throw XCTSkip("set CHARTER_MEASURE_LONG_WORD=1 to time 1 MB words")
        }
        let gpt2 = try Fixtures.tokenizer("gpt2")
        for (name, tokenizer, seed) in [("gpt2", gpt2, UInt64?.none), ("gpt2", gpt2, 5), ("doubling", LongWordTests.doubling, nil),
                                        ("letters", LongWordTests.letters, 5)] {
            let text = LongWordTests.word(1 << 20, random: seed)
            let started = Date()
            let ids = tokenizer.encode(text, addSpecialTokens: false)
            print("1 MB word, \(name) tokenizer, \(seed.map { "random letters (seed \($0))" } ?? "\"ab\" repeated"): "
                  + "\(ids.count) ids in \(String(format: "%.2f", Date().timeIntervalSince(started))) s")
        }
        // The plain O(n²) loop, for the ratio: 8 KB and 16 KB words.
        for (name, tokenizer, seed) in [("doubling", LongWordTests.doubling, UInt64?.none), ("letters", LongWordTests.letters, 5)] {
            for length in [1 << 13, 1 << 14] {
                let text = LongWordTests.word(length, random: seed)
                var started = Date()
                let reference = LongWordTests.referenceIds(tokenizer, text)
                let referenceSeconds = Date().timeIntervalSince(started)
                started = Date()
                XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: false), reference)
                print("\(length / 1024) KB word, \(name) tokenizer: reference loop \(String(format: "%.2f", referenceSeconds)) s, "
                      + "encode \(String(format: "%.3f", Date().timeIntervalSince(started))) s")
            }
        }
    }
}
