import Foundation
import JSON
import XCTest

@testable import Tokenizers

/// Split-level checks on random strings drawn from a hostile character pool (every Unicode
/// whitespace kind, combining marks, apostrophe contractions in both cases, ſ, digits of other
/// scripts, emoji modifiers), against HF `pre_tokenize_str`.
final class PreTokenizerSplitTests: XCTestCase {
    func fuzzTexts() throws -> [String] { try Fixtures.strings(Fixtures.node("fuzz")["texts"]) }

    func expectedSplits(_ key: JSONNode) throws -> [[String]] {
        let splits = try key.array().map { try Fixtures.strings($0) }
        XCTAssertEqual(splits.count, 300, "\(key.path): one split list per fuzz string")
        return splits
    }

    func assertSplits(_ got: [String], _ expected: [String], _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.map { Array($0.utf8) }, expected.map { Array($0.utf8) }, "\(label): \(got) vs \(expected)",
                       file: file, line: line)
    }

    func testKnownPatternsAndRegexFallbackOnRandomStrings() throws {
        let texts = try fuzzTexts()
        let sources = ["gpt2": KnownPatternMatcher.gpt2Source, "llama3": KnownPatternMatcher.llama3Source,
                       "qwen2": KnownPatternMatcher.qwen2Source]
        for (name, source) in sources {
            let expected = try expectedSplits(Fixtures.node("fuzz")[name])
            let engines = [("hand-written", try SplitPattern(regexSource: source, path: name)),
                           ("NSRegularExpression", try SplitPattern(regexSource: source, path: name, allowKnownMatchers: false))]
            for (text, pieces) in zip(texts, expected) {
                let piece = PreToken(text: text, isAtInputStart: true)
                for (engine, pattern) in engines {
                    assertSplits(piece.slices(pattern.matches(in: text)).map(\.text), pieces, "\(name) \(engine) \(text.debugDescription)")
                }
            }
        }
    }

    func testStandalonePreTokenizersOnRandomStrings() throws {
        let texts = try fuzzTexts()
        let configurations = [
            "Whitespace": #"{"type": "Whitespace"}"#,
            "WhitespaceSplit": #"{"type": "WhitespaceSplit"}"#,
            "BertPreTokenizer": #"{"type": "BertPreTokenizer"}"#,
            "Punctuation": #"{"type": "Punctuation", "behavior": "Isolated"}"#,
            "DigitsIndividual": #"{"type": "Digits", "individual_digits": true}"#,
            "DigitsContiguous": #"{"type": "Digits", "individual_digits": false}"#,
            "MetaspaceAlways": #"{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true}"#,
            "ByteLevelPrefix": #"{"type": "ByteLevel", "add_prefix_space": true, "use_regex": true}"#,
        ]
        let components = try Fixtures.node("fuzz")["components"]
        for (name, json) in configurations {
            let node = JSONNode(try JSONValue.parse(Data(json.utf8), source: name), path: "pre_tokenizer")
            let preTokenizer = try PreTokenizer(node: node)
            for (text, pieces) in zip(texts, try expectedSplits(components[name])) {
                let got = preTokenizer([PreToken(text: text, isAtInputStart: true)]).map { $0.materialized().text }
                assertSplits(got, pieces, "\(name) \(text.debugDescription)")
            }
        }
    }
}
