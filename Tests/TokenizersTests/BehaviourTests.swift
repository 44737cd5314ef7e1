import Foundation
import JSON
import XCTest

@testable import Tokenizers

/// Component variants against HF, added/special tokens, vocabulary API and tokenizer_config.json.
final class BehaviourTests: XCTestCase {
    /// Other normalizers, pre-tokenizers (Digits, Punctuation, Whitespace, BertPreTokenizer, Split
    /// behaviours and `invert`, a regex on the NSRegularExpression fallback), decoders and processors.
    func testComponentVariantsMatchHF() throws {
        let texts = try Fixtures.texts()
        let variants = try Fixtures.node("variants").members()
        XCTAssertGreaterThanOrEqual(variants.count, 7)
        for (name, _) in variants {
            let tokenizer = try Tokenizer(url: Fixtures.directory.appendingPathComponent("variants/\(name).json"))
            for (text, expected) in zip(texts, try Fixtures.cases(name, group: "variants")) {
                XCTAssertEqual(tokenizer.encode(text), expected.ids, "\(name): encode(\(text.debugDescription))")
                XCTAssertEqual(tokenizer.encode(text, addSpecialTokens: false), expected.idsWithoutSpecialTokens,
                               "\(name): no special, \(text.debugDescription)")
                assertBytesEqual(tokenizer.decode(expected.ids), expected.decoded, "\(name): decode \(text.debugDescription)")
                assertBytesEqual(tokenizer.decode(expected.ids, skipSpecialTokens: true), expected.decodedSkippingSpecial,
                                 "\(name): decode(skipSpecialTokens) \(text.debugDescription)")
            }
        }
    }

    func testAddedTokenFlags() throws {
        let tokenizer = try Fixtures.tokenizer("gpt2")
        let imStart = try XCTUnwrap(tokenizer.tokenToId("<|im_start|>"))
        let mask = try XCTUnwrap(tokenizer.tokenToId("<mask>"))
        let foo = try XCTUnwrap(tokenizer.tokenToId("[FOO]"))
        XCTAssertEqual(tokenizer.idToToken(imStart), "<|im_start|>")
        XCTAssertTrue(tokenizer.addedTokens.contains { $0.content == "<mask>" && $0.leftStrip && $0.isSpecial })

        // Special tokens in text become single ids; skipping them on decode removes them.
        let ids = tokenizer.encode("<|im_start|>user")
        XCTAssertEqual(ids.first, imStart)
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), "user")
        XCTAssertEqual(tokenizer.decode(ids), "<|im_start|>user")
        // lstrip: the space before <mask> is absorbed into the token.
        XCTAssertEqual(tokenizer.encode("a <mask>"), tokenizer.encode("a") + [mask])
        // single_word: [FOO] inside a word is ordinary text.
        XCTAssertTrue(tokenizer.encode("x [FOO] y").contains(foo))
        XCTAssertFalse(tokenizer.encode("x[FOO]y").contains(foo))
    }

    /// The largest id `encode` can produce, which a model's embedding must have a row for: from the vocabulary,
    /// the added tokens, the post-processor's special tokens and the padding id alike.
    func testLargestTokenIdCoversEveryIdEncodingCanProduce() throws {
        let gpt2 = try Fixtures.tokenizer("gpt2")
        XCTAssertEqual(gpt2.largestTokenId?.id, 1004)
        XCTAssertEqual(gpt2.largestTokenId?.token, "rstrip>", "the last added token")
        var json = try JSONParser.parse(Data(contentsOf: Fixtures.tokenizerURL("gpt2")))
        func replacing(_ key: String, _ value: String) throws {
            guard case let .object(members) = json else { return XCTFail("tokenizer.json is an object") }
            json = .object(members.filter { $0.key != key } + [.init(key, try JSONParser.parse(value))])
        }
        try replacing("post_processor", #"{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "pair": null, "special_tokens": {"<s>": {"id": "<s>", "ids": [2000], "tokens": ["<s>"]}}}"#)
        let template = try Tokenizer(data: Data(json.serialized().utf8))
        XCTAssertEqual(template.encode("a").first, 2000)
        XCTAssertEqual(template.largestTokenId?.id, 2000)
        XCTAssertEqual(template.largestTokenId?.token, "<id 2000 of the post_processor or padding>")
        try replacing("padding", #"{"strategy": {"Fixed": 8}, "direction": "Right", "pad_id": 3000, "pad_token": "<pad>"}"#)
        let padded = try Tokenizer(data: Data(json.serialized().utf8))
        XCTAssertEqual(padded.encode("a").last, 3000)
        XCTAssertEqual(padded.largestTokenId?.id, 3000)
        // The fuzz harness's {"Fixed": 1000000000} allocated 8 GB per encoded text; it is refused at load.
        try replacing("padding", #"{"strategy": {"Fixed": 1000000000}, "direction": "Right", "pad_id": 0, "pad_token": "<pad>"}"#)
        XCTAssertThrowsError(try Tokenizer(data: Data(json.serialized().utf8))) { error in
            XCTAssertTrue("\(error)".contains("1000000000 is longer than the 1048576 tokens"), "\(error)")
        }
    }

    func testVocabularySizeAndSpecialTokensFromTemplate() throws {
        let llama = try Fixtures.tokenizer("llama3")
        XCTAssertEqual(llama.bosToken, "<|begin_of_text|>")
        XCTAssertEqual(llama.bosTokenId, llama.encode("").first)
        XCTAssertEqual(llama.encode("", addSpecialTokens: false), [])
        let sentencePiece = try Fixtures.tokenizer("sentencepiece")
        XCTAssertEqual(sentencePiece.unknownToken, "<unk>")
        XCTAssertEqual(sentencePiece.bosToken, "<s>")
        XCTAssertEqual(sentencePiece.tokenToId("<0x41>"), 3 + 0x41)
        // HF get_vocab_size(with_added_tokens=True), recorded by the fixture script.
        let sizes = try Fixtures.node("vocab_sizes").members()
        for (name, size) in sizes {
            XCTAssertEqual(try Fixtures.tokenizer(name).vocabularySize, try size.nonNegativeInt(), name)
        }
    }

    func testDirectoryReadsTokenizerConfig() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(at: Fixtures.tokenizerURL("sentencepiece"), to: directory.appendingPathComponent("tokenizer.json"))
        try Data(#"{"pad_token": "<unk>", "eos_token": "<s>"}"#.utf8).write(to: directory.appendingPathComponent("special_tokens_map.json"))
        let config = #"{"bos_token": {"__type": "AddedToken", "content": "<s>"}, "eos_token": "</s>", "pad_token": null, "unk_token": "<unk>"}"#
        try Data(config.utf8).write(to: directory.appendingPathComponent("tokenizer_config.json"))
        let tokenizer = try Tokenizer(directory: directory)
        XCTAssertEqual(tokenizer.bosToken, "<s>")
        XCTAssertEqual(tokenizer.eosToken, "</s>")
        XCTAssertEqual(tokenizer.eosTokenId, 2)
        XCTAssertEqual(tokenizer.padToken, "<unk>", "from special_tokens_map.json; tokenizer_config.json's null does not erase it")
        XCTAssertEqual(try Tokenizer(url: directory).eosToken, "</s>", "a directory URL loads like init(directory:)")

        // Errors in the configuration name its file and key, not tokenizer.json (issue 24).
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        let cases = [(#"{"eos_token": 5}"#, "eos_token", "a number"),
                     (#"{"pad_token": {"content": 5}}"#, "pad_token", "an object whose content is a number"),
                     (#"{"bos_token": {"__type": "AddedToken"}}"#, "bos_token", "an object without content"),
                     (#"{"unk_token": []}"#, "unk_token", "an array"),
                     (#"[1]"#, nil, "the document should be a JSON object but is an array")]
        for (config, key, found) in cases {
            try Data(config.utf8).write(to: configURL)
            XCTAssertThrowsError(try Tokenizer(directory: directory), config) { error in
                guard case let .invalidConfiguration(file, errorKey, reason) = error as? TokenizerError else {
                    return XCTFail("\(config): \(error)")
                }
                XCTAssertEqual(file, configURL.path)
                XCTAssertEqual(errorKey, key)
                XCTAssertTrue(reason.contains(found), reason)
                let message = "\(error)"
                XCTAssertTrue(message.contains("tokenizer_config.json") && !message.contains("tokenizer.json"), message)
            }
        }
        try Data(#"{"eos_token": 5}"#.utf8).write(to: directory.appendingPathComponent("special_tokens_map.json"))
        XCTAssertThrowsError(try Tokenizer(directory: directory)) { error in
            XCTAssertTrue("\(error)".contains("special_tokens_map.json"), "\(error)")
        }
    }

    /// Unknown-character handling, with the expectations of HF's own BPE unit tests.
    func testUnknownFusingAndByteFallback() throws {
        func model(_ options: String) throws -> Tokenizer {
            let json = #"{"model": {"type": "BPE", "unk_token": "<unk>", "vocab": {"<unk>": 0, "a": 1, "b": 2, "<0x61>": 3}, "merges": [], "#
                + options + "}}"
            return try Tokenizer(data: Data(json.utf8))
        }
        XCTAssertEqual(try model(#""fuse_unk": false"#).encode("accb"), [1, 0, 0, 2])
        XCTAssertEqual(try model(#""fuse_unk": true"#).encode("accb"), [1, 0, 2])
        XCTAssertEqual(try model(#""fuse_unk": true"#).encode("cc"), [0])
        // byte_fallback only helps when every byte of the character has a <0xNN> token.
        let fallback = try Tokenizer(data: Data(#"{"model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": true, "vocab": {"<unk>": 0, "<0x61>": 1}, "merges": []}}"#.utf8))
        XCTAssertEqual(fallback.encode("a"), [1])
        XCTAssertEqual(fallback.encode("c"), [0])
        // Without an unk token, unknown characters are dropped (HF behaviour).
        let noUnknown = try Tokenizer(data: Data(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#.utf8))
        XCTAssertEqual(noUnknown.encode("xax"), [0])
    }

    func testLookupsAreByteExact() throws {
        let tokenizer = try Fixtures.tokenizer("sentencepiece")
        // "é" precomposed and decomposed are equal Swift Strings but different tokens.
        let composed = tokenizer.encode("é", addSpecialTokens: false)
        let decomposed = tokenizer.encode("e\u{301}", addSpecialTokens: false)
        XCTAssertNotEqual(composed, decomposed)
        assertBytesEqual(tokenizer.decode(decomposed), "e\u{301}")
    }

    func testConcurrentEncodingMatchesSerial() throws {
        let tokenizer = try Fixtures.tokenizer("llama3")
        let texts = try Fixtures.texts()
        let serial = texts.map { tokenizer.encode($0) }
        let fresh = try Fixtures.tokenizer("llama3")
        var results = [[Int]](repeating: [], count: texts.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: texts.count) { index in
            let ids = fresh.encode(texts[index])
            lock.lock()
            results[index] = ids
            lock.unlock()
        }
        XCTAssertEqual(results, serial)
    }
}
