import Datasets
import Foundation
import XCTest
@testable import Alignment
import LanguageModels

/// Charter's evaluation metrics against TRL 1.16's `DPOTrainer.evaluate()` / `RewardTrainer.evaluate()` on the same
/// tiny checkpoints and data (Fixtures/trl/make_fixtures.py wrote them): every metric within 1e-3.
final class DPOParityTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/trl")

    func expected() throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("expected.json"))) as? [String: Any])
    }

    func assertMatches(_ charter: [String: Double], _ trl: [String: Any], _ scenario: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(trl.isEmpty, scenario)
        var largest = 0.0
        for (key, value) in trl {
            guard let reference = value as? Double else { continue }
            let name = String(key.dropFirst("eval_".count))
            guard let mine = charter[name] else { XCTFail("\(scenario): Charter has no \(name)", file: file, line: line); continue }
            XCTAssertEqual(mine, reference, accuracy: 1e-3, "\(scenario): \(key)", file: file, line: line)
            largest = max(largest, abs(mine - reference))
        }
        print("parity \(scenario): \(trl.count) metrics, largest difference \(largest)")
    }

    func testDPOEvaluationMatchesTRL() throws {
        let scenarios: [(String, String, (inout DPOConfiguration) -> Void)] = [
            ("standard_sigmoid", "preference_standard.jsonl", { $0.beta = 0.1 }),
            ("standard_ipo_truncated", "preference_standard.jsonl", { $0.beta = 0.5; $0.lossTypes = [.ipo]; $0.maximumLength = 12 }),
            ("implicit_robust", "preference_implicit.jsonl", { $0.beta = 0.2; $0.lossTypes = [.robust]; $0.labelSmoothing = 0.1 }),
            ("conversational_sigmoid", "preference_conversational.jsonl", { $0.beta = 0.1 }),
            ("standard_hinge_sft", "preference_standard.jsonl", { $0.lossTypes = [.hinge, .sft]; $0.lossWeights = [1, 0.5] }),
        ]
        let expected = try XCTUnwrap(try expected()["dpo"] as? [String: [String: Any]])
        let policyFolder = Self.fixtures.appendingPathComponent("policy")
        let encoder = try ExampleEncoder.load(directory: policyFolder)
        XCTAssertNotNil(encoder.encodeConversation, "the fixture's ChatML template is recognised")
        for (name, file, configure) in scenarios {
            var configuration = DPOConfiguration()
            configuration.training.evaluationBatchSize = 4
            configure(&configuration)
            let data = try Dataset.load(Self.fixtures.appendingPathComponent(file))
            let trainer = try DPOTrainer(configuration: configuration, policy: try TrainableModel(directory: policyFolder),
                                         reference: .model(try PretrainedModel.load(directory: Self.fixtures.appendingPathComponent("reference"))),
                                         encoder: encoder, train: [], evaluation: data.examples)
            let metrics = try XCTUnwrap(try trainer.evaluate())
            assertMatches(metrics, try XCTUnwrap(expected[name]), name)
        }
    }

    func testRewardEvaluationMatchesTRL() throws {
        let expected = try XCTUnwrap(try expected()["reward"] as? [String: [String: Any]])
        let folder = Self.fixtures.appendingPathComponent("reward")
        let encoder = try ExampleEncoder.load(directory: folder)
        for (name, file, center) in [("standard", "preference_standard.jsonl", Float?.none), ("standard_centered", "preference_standard.jsonl", 0.01),
                                     ("conversational", "preference_conversational.jsonl", nil)] {
            var configuration = RewardConfiguration()
            configuration.training.evaluationBatchSize = 4
            configuration.centerRewardsCoefficient = center
            let data = try Dataset.load(Self.fixtures.appendingPathComponent(file))
            let trainer = try RewardTrainer(configuration: configuration, model: try SequenceClassifier.load(directory: folder),
                                            sourceDirectory: folder, encoder: encoder, train: [], evaluation: data.examples)
            assertMatches(try XCTUnwrap(try trainer.evaluate()), try XCTUnwrap(expected[name]), name)
        }
    }

    /// Scores of transformers' `AutoModelForSequenceClassification` for both architectures, and after Charter saves
    /// and reloads the folder.
    func testSequenceClassifierScoresMatchTransformers() throws {
        let scores = try XCTUnwrap(try expected()["scores"] as? [String: Any])
        let texts = try XCTUnwrap(scores["texts"] as? [String])
        for name in ["reward", "reward_gpt2"] {
            let model = try SequenceClassifier.load(directory: Self.fixtures.appendingPathComponent(name))
            let reference = try XCTUnwrap(scores[name] as? [Double])
            let mine = try model.scores(texts, batchSize: 4)
            for (a, b) in zip(mine, reference) { XCTAssertEqual(Double(a), b, accuracy: 1e-4, name) }
            let copy = FileManager.default.temporaryDirectory.appendingPathComponent("charter-seqcls-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: copy) }
            try model.save(to: copy)
            let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: copy.appendingPathComponent("config.json"))) as? [String: Any])
            XCTAssertEqual(config["architectures"] as? [String], [name == "reward" ? "LlamaForSequenceClassification" : "GPT2ForSequenceClassification"])
            try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("\(name)/tokenizer.json"), to: copy.appendingPathComponent("tokenizer.json"))
            try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("\(name)/tokenizer_config.json"), to: copy.appendingPathComponent("tokenizer_config.json"))
            XCTAssertEqual(try SequenceClassifier.load(directory: copy).scores(texts, batchSize: 4), mine)
        }
    }
}
