import Foundation
import XCTest
@testable import LanguageModels
import Tensors
import Tokenizers

/// Sequences longer than a model's context (`n_positions`, `max_position_embeddings`) are refused with an error
/// naming the limit before the model runs, for every architecture and every path that scores token sequences.
final class ContextLengthTests: XCTestCase {
    static let tokenizerURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TokenizersTests/Fixtures/gpt2/tokenizer.json")

    func gpt(context: Int, vocabulary: Int = 64) -> GPTModel {
        var configuration = GPTConfiguration()
        (configuration.vocabularySize, configuration.contextLength, configuration.layerCount) = (vocabulary, context, 1)
        (configuration.headCount, configuration.width) = (2, 8)
        var generator = SeededGenerator(seed: 4)
        return GPTModel(configuration, generator: &generator)
    }

    func llama(context: Int, vocabulary: Int = 64) -> LlamaModel {
        var configuration = LlamaConfiguration()
        (configuration.vocabularySize, configuration.hiddenSize, configuration.intermediateSize) = (vocabulary, 8, 16)
        (configuration.layerCount, configuration.headCount, configuration.maximumPositionEmbeddings) = (1, 2, context)
        var generator = SeededGenerator(seed: 4)
        return LlamaModel(configuration, generator: &generator)
    }

    func testEveryArchitectureDeclaresItsContext() {
        XCTAssertEqual(gpt(context: 8).maximumSequenceLength, 8)
        XCTAssertEqual(llama(context: 8).maximumSequenceLength, 8, "max_position_embeddings")
    }

    func testLogProbabilitiesRefuseSequencesLongerThanTheContext() throws {
        for model in [gpt(context: 8), llama(context: 8)] as [any CausalLanguageModel] {
            XCTAssertEqual(try model.tokenLogProbabilities([Array(1...8)]).first?.count, 7, "exactly the context is fine")
            XCTAssertThrowsError(try model.tokenLogProbabilities([[1, 2], [Int32](repeating: 3, count: 9)])) { error in
                XCTAssertEqual(error as? ContextLengthError, ContextLengthError(item: "sequence 1", tokens: 9, limit: 8))
                XCTAssertTrue("\(error)".contains("more than the model's context of 8 (n_positions or max_position_embeddings"), "\(error)")
            }
        }
    }

    func testRewardModelScoresRefuseSequencesLongerThanTheContext() throws {
        for body in [gpt(context: 8), llama(context: 8)] as [any CausalLanguageModel] {
            var generator = SeededGenerator(seed: 5)
            let classifier = SequenceClassifier(body: body, padTokenId: 0, generator: &generator)
            XCTAssertEqual(try classifier.scores([Array(1...8)]).count, 1)
            XCTAssertThrowsError(try classifier.scores([Array(1...8), [Int32](repeating: 3, count: 12)])) { error in
                XCTAssertEqual(error as? ContextLengthError, ContextLengthError(item: "sequence 1", tokens: 12, limit: 8))
            }
        }
    }

    func testServedModelRefusesTooLongScoringAndPrompts() async throws {
        let tokenizer = try Tokenizer(url: Self.tokenizerURL)
        let text = String(repeating: "the cat sat on the mat. ", count: 4)
        XCTAssertGreaterThan(tokenizer.encode(text).count, 16)
        for model in [gpt(context: 16, vocabulary: 1008), llama(context: 16, vocabulary: 1008)] as [any CausalLanguageModel] {
            let served = LocalLanguageModel(name: "tiny", model: model, tokenizer: tokenizer, endOfSequenceTokens: [], formatChat: nil)
            do {
                _ = try await served.score(prompt: "Say:", completion: text)
                XCTFail("scoring past the context must throw")
            } catch {
                XCTAssertTrue("\(error)".contains("tiny: the prompt with its completion has"), "\(error)")
                XCTAssertTrue("\(error)".contains("context of 16"), "\(error)")
            }
            do {
                _ = try await served.complete(CompletionRequest(prompt: text))
                XCTFail("a prompt past the context must throw")
            } catch {
                XCTAssertTrue("\(error)".contains("the model's context is 16"), "\(error)")
            }
        }
    }
}
