import Datasets
import Foundation
import JSON
import XCTest
@testable import Alignment
import LanguageModels
import Tensors

/// A separable preference set: chosen answers use words from one list, rejected from another.
func separablePreferences(count: Int, seed: UInt64) -> [Example] {
    let topics = ["red", "blue", "green", "cat", "dog", "sun", "moon", "tree", "river", "stone"]
    let good = ["kind", "clear", "honest", "helpful", "careful"], bad = ["rude", "vague", "false", "useless", "sloppy"]
    var generator = SeededGenerator(seed: seed)
    func pick(_ words: [String]) -> String { words[Int(generator.next() % UInt64(words.count))] }
    return (0..<count).map { index in
        let topic = pick(topics)
        return Example(.preference(prompt: .standard("tell me about \(topic):"), chosen: .standard(" a \(pick(good)) \(pick(good)) reply"),
                                   rejected: .standard(" a \(pick(bad)) \(pick(bad)) reply")), line: index + 1)
    }
}

final class RewardTrainerTests: XCTestCase {
    func classifier(_ folder: URL) throws -> SequenceClassifier { try SequenceClassifier.load(directory: folder, seed: 1) }

    func testReachesHighAccuracyOnSeparablePreferences() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try classifier(folder)
        let before = model.parameters().map(\.scalars)
        var configuration = RewardConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 40)
        configuration.training.learningRate = 1e-3
        configuration.centerRewardsCoefficient = 0.01
        let trainer = try RewardTrainer(configuration: configuration, model: model, sourceDirectory: folder,
                                        encoder: TrainingFixtures.encoder(folder), train: separablePreferences(count: 64, seed: 1),
                                        evaluation: separablePreferences(count: 32, seed: 2))
        let initial = try XCTUnwrap(trainer.evaluate())
        let summary = try TrainingLoop(arguments: configuration.training).run(trainer)
        let losses = summary.history.compactMap { $0["loss"] }
        XCTAssertTrue(losses.allSatisfy(\.isFinite))
        XCTAssertLessThan(losses.suffix(5).reduce(0, +) / 5, losses.prefix(5).reduce(0, +) / 5 * 0.5, "loss should fall: \(losses)")
        let final = try XCTUnwrap(trainer.evaluate())
        XCTAssertGreaterThanOrEqual(final["accuracy"]!, 0.9, "held-out accuracy \(final), before training \(initial)")
        XCTAssertGreaterThan(final["margin"]!, initial["margin"]!)
        for (name, (old, new)) in zip(model.namedParameters().map(\.name), zip(before, model.parameters().map(\.scalars))) {
            XCTAssertNotEqual(old, new, "\(name) did not change")
        }
        for key in ["loss", "accuracy", "margin", "mean_reward", "min_reward", "max_reward", "num_tokens", "grad_norm", "learning_rate"] {
            XCTAssertNotNil(summary.history.last?[key], "metric \(key) missing")
        }
        // The output folder is a sequence-classification folder that scores as the trained model does.
        let output = URL(fileURLWithPath: configuration.training.outputDirectory)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("config.json"))) as? [String: Any]
        XCTAssertEqual(config?["architectures"] as? [String], ["LlamaForSequenceClassification"])
        XCTAssertNotNil(config?["pad_token_id"] as? Int)
        let reloaded = try SequenceClassifier.load(directory: output)
        let texts = ["tell me about sun: a kind clear reply<|endoftext|>", "tell me about sun: a rude vague reply<|endoftext|>"]
        XCTAssertEqual(try reloaded.scores(texts), try model.scores(texts))
        XCTAssertGreaterThan(try reloaded.scores(texts)[0], try reloaded.scores(texts)[1])
    }

    /// transformers' pooling: the rightmost token that is not the pad token (so with pad = eos a trailing eos is skipped).
    func testScoredPositionIsTheRightmostNonPaddingToken() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try classifier(folder)
        model.padTokenId = 9
        XCTAssertEqual(model.scoredPositions(ids: [1, 2, 3, 9, 9, 9, 5, 6, 9, 7, 9, 9, 9, 9, 9, 9], batch: 4, time: 4), [2, 3, 1, 0])
        // Padding on the right does not change a sequence's reward.
        let alone = try model.scores([[1, 2, 3]]), padded = try model.scores([[1, 2, 3], [4, 5, 6, 7, 8]])
        XCTAssertEqual(alone[0], padded[0], accuracy: 1e-5)
    }

    func testMarginSoftLabelsAndTruncation() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let encoder = try TrainingFixtures.encoder(folder)
        var examples = separablePreferences(count: 4, seed: 3)
        examples[0].extras = [JSONValue.Member("margin", .numeric(1.5))]
        examples[1].chosenProbability = 0.8
        var configuration = RewardConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 1)
        let model = try classifier(folder)
        let trainer = try RewardTrainer(configuration: configuration, model: model, sourceDirectory: folder, encoder: encoder, train: examples)
        XCTAssertEqual(trainer.pairs[0].margin, 1.5)
        XCTAssertEqual(trainer.pairs[1].chosenProbability, 0.8)
        XCTAssertEqual(trainer.pairs[0].chosenIds.last, encoder.endOfSequence, "eos is appended as TRL does")
        let (loss, _, _) = trainer.compute(trainer.pairs)
        let rewards = try model.scores(trainer.pairs.map(\.chosenIds) + trainer.pairs.map(\.rejectedIds)).map(Double.init)
        func logSigmoid(_ x: Double) -> Double { -log(1 + exp(-x)) }
        var expected = 0.0
        for index in 0..<4 {
            let difference = rewards[index] - rewards[4 + index] - (index == 0 ? 1.5 : 0)
            let p = index == 1 ? 0.8 : 1
            expected += -p * logSigmoid(difference) - (1 - p) * logSigmoid(-difference)
        }
        XCTAssertEqual(Double(loss.item), expected / 4, accuracy: 1e-5)
        // Pairs longer than max_length are dropped and counted; other data types are an error naming the line.
        configuration.maximumLength = 6
        let short = try RewardTrainer(configuration: configuration, model: model, sourceDirectory: folder, encoder: encoder, train: examples)
        XCTAssertEqual(short.exampleCount + short.droppedCount, 4)
        XCTAssertGreaterThan(short.droppedCount, 0)
        let unranked = Example(.promptOnly(prompt: .standard("rank these")), line: 12)
        XCTAssertThrowsError(try RewardTrainer(configuration: configuration, model: model, sourceDirectory: folder, encoder: encoder, train: [unranked])) {
            XCTAssertTrue("\($0)".contains("line 12") && "\($0)".contains("K-way"), "\($0)")
        }
    }

    /// A K-way ranking expands to the pairs whose ranks differ, best first.
    func testRankingsExpandToPairs() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let encoder = try TrainingFixtures.encoder(folder)
        let completions: [JSONValue] = [.string(" b"), .string(" a"), .string(" c"), .string(" d")]
        let ranking = Example(.promptOnly(prompt: .standard("x:")), line: 3,
                              extras: [JSONValue.Member("completions", .array(completions)),
                                       JSONValue.Member("ranks", .array([.numeric(2), .numeric(1), .numeric(3), .numeric(3)]))])
        let pairs = try RewardPair.pairs(from: ranking, encoder: encoder)
        func text(_ ids: [Int32]) -> String { encoder.tokenizer.decode(ids.map(Int.init)) }
        let named = Set(pairs.map { "\(text($0.chosenIds)) > \(text($0.rejectedIds))" })
        XCTAssertEqual(named, ["x: a<|endoftext|> > x: b<|endoftext|>", "x: a<|endoftext|> > x: c<|endoftext|>", "x: a<|endoftext|> > x: d<|endoftext|>",
                               "x: b<|endoftext|> > x: c<|endoftext|>", "x: b<|endoftext|> > x: d<|endoftext|>"], "tied c and d give no pair")
        let scored = Example(.promptOnly(prompt: .standard("x:")), line: 4,
                             extras: [JSONValue.Member("completions", .array(Array(completions.prefix(2)))),
                                      JSONValue.Member("scores", .array([.numeric(0.1), .numeric(0.9)]))])
        let scoredPairs = try RewardPair.pairs(from: scored, encoder: encoder)
        XCTAssertEqual(scoredPairs.count, 1)
        XCTAssertEqual(text(scoredPairs[0].chosenIds), "x: a<|endoftext|>")
        let broken = Example(.promptOnly(prompt: .standard("x:")), line: 5, extras: [JSONValue.Member("completions", .array(completions))])
        XCTAssertThrowsError(try RewardPair.pairs(from: broken, encoder: encoder)) { XCTAssertTrue("\($0)".contains("line 5"), "\($0)") }
    }
}
