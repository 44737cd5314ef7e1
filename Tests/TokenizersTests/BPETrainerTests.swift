import Foundation
import XCTest

@testable import Tokenizers

/// The trainer is deterministic, its output loads in HF `tokenizers`, and HF encodes with it exactly as Charter does.
final class BPETrainerTests: XCTestCase {
    static let trainedURL = Fixtures.directory.appendingPathComponent("charter-trained/tokenizer.json")
    static let trainer = BPETrainer(vocabularySize: 700, specialTokens: ["<|endoftext|>", "<|pad|>"])

    func trainedJSON() throws -> Data {
        try BPETrainerTests.trainer.trainTokenizerJSON(on: try Fixtures.texts())
    }

    /// Set CHARTER_WRITE_FIXTURES=1 to (re)write Fixtures/charter-trained/tokenizer.json, then run make_fixtures.py.
    func testCommittedTrainedTokenizerIsReproducible() throws {
        let data = try trainedJSON()
        if ProcessInfo.processInfo.environment["CHARTER_WRITE_FIXTURES"] == "1" {
            try FileManager.default.createDirectory(
                at: BPETrainerTests.trainedURL.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: BPETrainerTests.trainedURL)
        }
        let committed = try Data(contentsOf: BPETrainerTests.trainedURL)
        XCTAssertEqual(data, committed, "training the fixture texts no longer reproduces charter-trained/tokenizer.json")
        XCTAssertEqual(try trainedJSON(), data, "two trainings of the same texts differ")
    }

    func testHFEncodesTrainedTokenizerLikeCharter() throws {
        let tokenizer = try Tokenizer(url: BPETrainerTests.trainedURL)
        XCTAssertEqual(tokenizer.vocabularySize, 700)
        XCTAssertEqual(tokenizer.tokenToId("<|endoftext|>"), 0)
        let texts = try Fixtures.texts()
        let expectedIds = try Fixtures.node("charter_trained_ids").array().map { try Fixtures.ints($0) }
        let expectedText = try Fixtures.strings(Fixtures.node("charter_trained_decoded"))
        XCTAssertEqual(expectedIds.count, texts.count)
        for (index, text) in texts.enumerated() {
            XCTAssertEqual(tokenizer.encode(text), expectedIds[index], "encode(\(text.debugDescription))")
            assertBytesEqual(tokenizer.decode(expectedIds[index]), expectedText[index])
            assertBytesEqual(tokenizer.decode(tokenizer.encode(text)), text, "byte-level round trip")
        }
    }

    func testTrainingCompressesItsCorpus() throws {
        let texts = try Fixtures.texts()
        let tokenizer = try BPETrainer(vocabularySize: 700).train(on: texts)
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        let tokens = texts.reduce(0) { $0 + tokenizer.encode($1).count }
        XCTAssertLessThan(Double(tokens), 0.5 * Double(bytes), "merges should shorten the training texts")
    }

    func testSpecialTokensAreSplitOut() throws {
        let tokenizer = try BPETrainer(vocabularySize: 300, specialTokens: ["<|endoftext|>"]).train(on: ["hello hello world"])
        let ids = tokenizer.encode("hi<|endoftext|>there")
        XCTAssertTrue(ids.contains(0))
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), "hithere")
    }

    func testRejectsImpossibleConfigurations() {
        XCTAssertThrowsError(try BPETrainer(vocabularySize: 100).train(on: ["x"])) { error in
            guard case TokenizerError.invalidTrainingConfiguration = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try BPETrainer(vocabularySize: 300, specialTokens: ["<a>", "<a>"]).train(on: ["x"]))
    }

    func testTieBreakIsLexicographic() throws {
        // "ab" and "cd" occur equally often: the smaller pair (a, b) must be merged first.
        let result = try BPETrainer(vocabularySize: 257, minimumPairFrequency: 1).learn(from: ["cd ab"])
        XCTAssertEqual(result.tokens.last, "ab")
    }
}
