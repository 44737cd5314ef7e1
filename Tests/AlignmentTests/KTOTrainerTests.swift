import Datasets
import Foundation
import XCTest
@testable import Alignment
import LanguageModels
import Tensors

final class KTOTrainerTests: XCTestCase {
    /// Unpaired rows from the synthetic preferences: desirable = repeats the prompt's last word.
    func unpaired(_ pairs: [Example]) -> [Example] {
        pairs.enumerated().map { index, example in
            let (prompt, chosen, rejected) = example.preference!
            return Example(.unpairedPreference(prompt: prompt, completion: index % 2 == 0 ? chosen : rejected, label: index % 2 == 0),
                           line: example.line)
        }
    }

    func testDesirableRewardRisesUndesirableFallsAndEveryParameterChanges() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let policy = try TrainableModel(directory: folder)
        let before = policy.model.parameters().map(\.scalars)
        var configuration = KTOConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 40)
        configuration.training.learningRate = 1e-3
        configuration.training.evaluationBatchSize = 4
        configuration.beta = 0.5
        let trainer = try KTOTrainer(configuration: configuration, policy: policy,
                                     reference: .model(try PretrainedModel.load(directory: folder)),
                                     encoder: TrainingFixtures.encoder(folder), train: unpaired(syntheticPreferences(count: 64)),
                                     evaluation: unpaired(syntheticPreferences(count: 64)))
        let initial = try XCTUnwrap(try trainer.evaluate())
        XCTAssertEqual(initial["loss"]!, 0.5, accuracy: 1e-5, "the policy is its reference: every sigmoid is ½")
        let summary = try TrainingLoop(arguments: configuration.training).run(trainer)
        let losses = summary.history.compactMap { $0["loss"] }
        XCTAssertEqual(losses.count, 40)
        XCTAssertTrue(losses.allSatisfy(\.isFinite))
        XCTAssertEqual(losses[0], 0.5, accuracy: 1e-5)
        // The training loss is noisy (the reference point moves with the batch's KL), so the effect is read from evaluate() on
        // the training rows before and after (40 steps teach a tiny model these rows; held-out ones move little yet).
        let final = try XCTUnwrap(try trainer.evaluate())
        XCTAssertLessThan(final["loss"]!, initial["loss"]! - 0.05, "held-out loss should fall: \(initial) -> \(final)")
        XCTAssertGreaterThan(final["rewards/margins"]!, 0.2, "desirable rewards should exceed undesirable ones: \(final)")
        for (name, (old, new)) in zip(policy.model.namedParameters().map(\.name), zip(before, policy.model.parameters().map(\.scalars))) {
            XCTAssertNotEqual(old, new, "\(name) did not change")
        }
        for key in ["loss", "kl", "rewards/chosen", "rewards/rejected", "rewards/margins", "logps/chosen", "logps/rejected",
                    "logits/chosen", "logits/rejected", "entropy", "num_tokens"] {
            XCTAssertNotNil(summary.history.last?[key], "metric \(key) missing")
        }
    }

    /// TRL's defaults, and recipe values out of range are errors naming the key and the value.
    func testDefaultsAndRanges() throws {
        let defaults = try JSONDecoder().decode(KTOConfiguration.self, from: Data("{}".utf8))
        XCTAssertEqual(defaults, KTOConfiguration())
        XCTAssertEqual([defaults.beta, defaults.desirableWeight, defaults.undesirableWeight, defaults.training.learningRate], [0.1, 1, 1, 1e-6])
        XCTAssertEqual(defaults.lossType, "kto")
        XCTAssertEqual(defaults.maximumLength, 1024)
        for (json, key, shows) in [(#"{"desirable_weight": -1}"#, "desirable_weight", "-1"), (#"{"undesirable_weight": 101}"#, "undesirable_weight", "101"),
                                   (#"{"loss_type": "sigmoid"}"#, "loss_type", "sigmoid"), (#"{"beta": 0}"#, "beta", "0")] {
            XCTAssertThrowsError(try JSONDecoder().decode(KTOConfiguration.self, from: Data(json.utf8)).validate(), json) { error in
                XCTAssertTrue("\(error)".contains(key) && "\(error)".contains(shows), "\(error)")
            }
        }
        let weighted = try JSONDecoder().decode(KTOConfiguration.self, from: Data(#"{"desirable_weight": 1.33, "loss_type": "apo_zero_unpaired"}"#.utf8))
        XCTAssertEqual(weighted.desirableWeight, 1.33)
        XCTAssertFalse(weighted.estimatesKL)
    }

    func testKLNeedsABatchOfTwo() throws {
        var configuration = KTOConfiguration()
        configuration.training.batchSize = 1
        XCTAssertThrowsError(try configuration.validate())
        configuration.lossType = "apo_zero_unpaired"
        XCTAssertNoThrow(try configuration.validate())
    }

    /// PreferenceLoss.kto at the reference point is ½ × the weight; far above it, desirable losses vanish.
    func testKTOLossValues() {
        let losses = PreferenceLoss.kto(logRatios: Tensor(shape: [3], scalars: [0.2, 0.2, 40]), desirable: [true, false, true],
                                        referencePoint: 0.2, beta: 0.1, desirableWeight: 2, undesirableWeight: 3).scalars
        XCTAssertEqual(losses[0], 1, accuracy: 1e-6)
        XCTAssertEqual(losses[1], 1.5, accuracy: 1e-6)
        XCTAssertEqual(losses[2], 2 * (1 - 1 / (1 + exp(-0.1 * 39.8))), accuracy: 1e-5)
    }
}
