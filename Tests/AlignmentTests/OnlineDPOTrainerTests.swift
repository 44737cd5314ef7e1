import Datasets
import Foundation
import XCTest
@testable import Alignment
import LanguageModels
import Settings

/// Online DPO's settings and set-up rules: TRL's keys (unsupported ones refused by name), β per epoch, the prompt
/// truncation of `max_length`, and the errors for a missing or conflicting judge.
final class OnlineDPOTrainerTests: XCTestCase {
    static let fixtures = DPOParityTests.fixtures

    func recipe(_ values: [String: Any]) throws -> TrainingRecipe {
        var recipe = TrainingRecipe(allowedKeys: OnlineDPOConfiguration.keys + TrainingRecipe.modelKeys)
        try recipe.override(values)
        return recipe
    }

    func testRecipeKeys() throws {
        let configuration = try recipe(["beta": [0.2, 0.1], "loss_type": "ipo", "max_new_tokens": 32, "missing_eos_penalty": 1.5,
                                        "top_k": 5, "use_vllm": false, "repetition_penalty": 1.0]).decode(OnlineDPOConfiguration.self)
        XCTAssertEqual(configuration.beta, [0.2, 0.1])
        XCTAssertEqual(configuration.loss, .ipo)
        XCTAssertEqual(configuration.maximumNewTokens, 32)
        XCTAssertEqual(configuration.missingEOSPenalty, 1.5)
        XCTAssertEqual(configuration.topK, 5)
        XCTAssertEqual(try recipe(["beta": 0.3]).decode(OnlineDPOConfiguration.self).beta, [0.3], "one β, TRL's usual form")
        for (key, value) in [("use_vllm", true as Any), ("repetition_penalty", 1.2), ("generation_kwargs", ["num_beams": 2])] {
            XCTAssertThrowsError(try recipe([key: value]), key) { XCTAssertTrue("\($0)".contains(key), "\($0)") }
        }
        XCTAssertThrowsError(try recipe(["loss_type": "hinge"]).decode(OnlineDPOConfiguration.self).validate()) { XCTAssertTrue("\($0)".contains("loss_type")) }
        XCTAssertThrowsError(try recipe(["missing_eos_penalty": -1]).decode(OnlineDPOConfiguration.self).validate()) {
            XCTAssertEqual(($0 as? SettingsError)?.key, "missing_eos_penalty")
        }
        XCTAssertThrowsError(try recipe(["max_new_tokens": 512]).decode(OnlineDPOConfiguration.self).validate()) {
            XCTAssertEqual(($0 as? SettingsError)?.key, "max_new_tokens")
        }
        var configuration2 = OnlineDPOConfiguration()
        configuration2.beta = [0.3, 0.2]
        XCTAssertEqual([0, 1, 2, 7].map(configuration2.beta(epoch:)), [0.3, 0.2, 0.2, 0.2])
    }

    func testMaximumLengthCutsPromptsFromTheLeft() {
        var rollouts = GroupRollouts(sequences: [[1, 2, 3, 4, 10, 11], [1, 2, 3, 4, 12], [5, 6, 13, 14, 15, 16, 17]],
                                     promptLengths: [4, 4, 2], groupSize: 1, endOfSequence: nil, maskTruncated: false)
        rollouts.truncatePrompts(toFit: 5)
        XCTAssertEqual(rollouts.sequences, [[2, 3, 4, 10, 11], [1, 2, 3, 4, 12], [6, 13, 14, 15, 16, 17]])
        XCTAssertEqual(rollouts.promptLengths, [3, 4, 1], "the completion stays whole and one prompt token is kept")
    }

    func testJudgeOrScoresAreRequired() throws {
        let folder = Self.fixtures.appendingPathComponent("policy")
        let policy = try TrainableModel(directory: folder)
        let reference = PPOReference.model(try ReferencePolicy.frozenModel(Self.fixtures.appendingPathComponent("reference")))
        let encoder = try ExampleEncoder.load(directory: folder)
        let prompts = [Example(.promptOnly(prompt: .standard("Hi")))]
        var configuration = OnlineDPOConfiguration()
        configuration.training.batchSize = 1
        XCTAssertThrowsError(try OnlineDPOTrainer(configuration: configuration, policy: policy, reference: reference, encoder: encoder, prompts: prompts)) {
            XCTAssertTrue("\($0)".contains("judge"), "\($0)")
        }
        let judge = ClosureJudge { _ in 0.5 }
        let reward = NamedReward(name: "zero", function: ClosureReward { _ in 0 })
        XCTAssertThrowsError(try OnlineDPOTrainer(configuration: configuration, policy: policy, reference: reference, rewards: [reward],
                                                  judge: judge, encoder: encoder, prompts: prompts)) {
            XCTAssertTrue("\($0)".contains("not both"), "\($0)")
        }
        configuration.missingEOSPenalty = 1
        XCTAssertThrowsError(try OnlineDPOTrainer(configuration: configuration, policy: policy, reference: reference, judge: judge,
                                                  encoder: encoder, prompts: prompts)) {
            XCTAssertEqual(($0 as? SettingsError)?.key, "missing_eos_penalty")
        }
    }
}
