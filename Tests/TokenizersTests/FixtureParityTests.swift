import Foundation
import XCTest

@testable import Tokenizers

/// Ids and decodes must equal HF `tokenizers` for every fixture string and tokenizer.
final class FixtureParityTests: XCTestCase {
    func checkParity(_ name: String) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        let texts = try Fixtures.texts()
        let cases = try Fixtures.cases(name)
        XCTAssertEqual(texts.count, cases.count)
        var failures = 0
        for (text, expected) in zip(texts, cases) {
            let ids = tokenizer.encode(text)
            let plain = tokenizer.encode(text, addSpecialTokens: false)
            if ids != expected.ids || plain != expected.idsWithoutSpecialTokens { failures += 1 }
            XCTAssertEqual(ids, expected.ids, "\(name): encode(\(text.debugDescription))")
            XCTAssertEqual(plain, expected.idsWithoutSpecialTokens, "\(name): encode(\(text.debugDescription), addSpecialTokens: false)")
            assertBytesEqual(tokenizer.decode(expected.ids), expected.decoded, "\(name): decode of \(text.debugDescription)")
            assertBytesEqual(tokenizer.decode(expected.ids, skipSpecialTokens: true), expected.decodedSkippingSpecial,
                             "\(name): decode(skipSpecialTokens) of \(text.debugDescription)")
            if failures > 10 { return XCTFail("\(name): stopping after 10 mismatching strings") }
        }
    }

    func testGPT2Parity() throws { try checkParity("gpt2") }
    func testLlama3Parity() throws { try checkParity("llama3") }
    func testQwen2Parity() throws { try checkParity("qwen2") }
    func testSentencePieceParity() throws { try checkParity("sentencepiece") }
    func testMetaspaceParity() throws { try checkParity("metaspace") }

    /// decode(encode(s)) == s wherever HF round-trips too.
    func testRoundTripWhereHFRoundTrips() throws {
        let texts = try Fixtures.texts()
        for name in Fixtures.tokenizerNames {
            let tokenizer = try Fixtures.tokenizer(name)
            var checked = 0
            for (text, expected) in zip(texts, try Fixtures.cases(name))
            where expected.decodedSkippingSpecial.bytesEqual(text) {
                assertBytesEqual(tokenizer.decode(tokenizer.encode(text), skipSpecialTokens: true), text, name)
                checked += 1
            }
            XCTAssertGreaterThan(checked, 50, "\(name): too few round-trip cases")
        }
    }

    /// The hand-written regex matchers and the NSRegularExpression fallback both split like Oniguruma.
    func testPatternSplitsMatchHF() throws {
        let texts = try Fixtures.texts()
        let expected = try Fixtures.node("pretokenized")
        let sources = ["gpt2": KnownPatternMatcher.gpt2Source, "llama3": KnownPatternMatcher.llama3Source,
                       "qwen2": KnownPatternMatcher.qwen2Source]
        for (name, source) in sources {
            let splits = try expected[name].array().map { try Fixtures.strings($0) }
            let known = try SplitPattern(regexSource: source, path: name)
            let general = try SplitPattern(regexSource: source, path: name, allowKnownMatchers: false)
            guard case .known = known, case .regex = general else { return XCTFail("\(name): wrong engine chosen") }
            for (text, pieces) in zip(texts, splits) {
                let piece = PreToken(text: text, isAtInputStart: true)
                for (engine, pattern) in [("hand-written", known), ("NSRegularExpression", general)] {
                    let got = piece.slices(pattern.matches(in: text)).map(\.text)
                    XCTAssertEqual(got.map { Array($0.utf8) }, pieces.map { Array($0.utf8) },
                                   "\(name) \(engine) split of \(text.debugDescription): \(got)")
                }
            }
        }
    }

    /// Ids for real dialogue transcripts (text read at test time from ../shared/data, never stored).
    func testHHRLHFTranscripts() throws {
        let file = Fixtures.sharedData.appendingPathComponent("hh-rlhf/harmless-base-test.jsonl.gz")
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw XCTSkip("hh-rlhf transcripts not found at \(file.path); parity on real dialogue text not checked")
        }
        let expected = try Fixtures.node("hh_rlhf_chosen_ids").members()
        let lines = try Fixtures.gunzipLines(file).prefix(200)
        let texts = try lines.map { line -> String in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return try XCTUnwrap(object?["chosen"] as? String)
        }
        XCTAssertEqual(texts.count, 200)
        for (name, idListsNode) in expected {
            let idLists = try idListsNode.array().map { try Fixtures.ints($0) }
            let tokenizer = try Fixtures.tokenizer(name)
            for (index, (text, ids)) in zip(texts, idLists).enumerated() {
                XCTAssertEqual(tokenizer.encode(text), ids, "\(name): hh-rlhf chosen #\(index)")
            }
        }
    }
}
