import Datasets
import Foundation
import XCTest
@testable import Alignment
import LanguageModels
import Tensors

final class ORPOTrainerTests: XCTestCase {
    func testLossFallsMarginRisesAndEveryParameterChanges() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let policy = try TrainableModel(directory: folder)
        let before = policy.model.parameters().map(\.scalars)
        var configuration = ORPOConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 30)
        configuration.training.evaluationBatchSize = 4
        configuration.beta = 0.5
        let trainer = try ORPOTrainer(configuration: configuration, policy: policy, encoder: TrainingFixtures.encoder(folder),
                                      train: syntheticPreferences(count: 32), evaluation: syntheticPreferences(count: 8, seed: 9))
        // The memory estimate's length: the longest training pair (ORPO cuts with keep_start), not max_length.
        XCTAssertEqual(trainer.longestTrainingSequence,
                       trainer.pairs.flatMap { [$0.promptIds.count + $0.chosenIds.count, $0.promptIds.count + $0.rejectedIds.count] }.max())
        XCTAssertLessThan(trainer.longestTrainingSequence, 32)
        let summary = try TrainingLoop(arguments: configuration.training).run(trainer)
        let losses = summary.history.compactMap { $0["loss"] }
        let margins = summary.history.compactMap { $0["rewards/margins"] }
        XCTAssertEqual(losses.count, 30)
        XCTAssertTrue(losses.allSatisfy(\.isFinite))
        XCTAssertLessThan(losses.suffix(5).reduce(0, +) / 5, losses.prefix(5).reduce(0, +) / 5 * 0.7, "loss should fall: \(losses)")
        XCTAssertGreaterThan(margins.suffix(5).reduce(0, +) / 5, margins.prefix(5).reduce(0, +) / 5, "margin should rise: \(margins)")
        for (name, (old, new)) in zip(policy.model.namedParameters().map(\.name), zip(before, policy.model.parameters().map(\.scalars))) {
            XCTAssertNotEqual(old, new, "\(name) did not change")
        }
        for key in ["loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen",
                    "logps/rejected", "logits/chosen", "logits/rejected", "nll_loss", "log_odds_ratio", "log_odds_chosen"] {
            XCTAssertNotNil(summary.history.last?[key], "metric \(key) missing")
        }
    }

    /// The loss is the chosen NLL minus λ · mean log σ(log odds), so at λ → 0 it is the NLL alone.
    /// ORPO has no soft labels: a `chosen_probability` column is refused, naming the line, not trained as a hard label.
    func testRefusesSoftLabels() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = ORPOConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 1)
        var examples = syntheticPreferences(count: 4)
        examples[2] = Example(examples[2].body, line: examples[2].line, chosenProbability: 0.6)
        XCTAssertThrowsError(try ORPOTrainer(configuration: configuration, policy: try TrainableModel(directory: folder),
                                             encoder: TrainingFixtures.encoder(folder), train: examples)) { error in
            XCTAssertTrue("\(error)".contains("line 3: ORPO has no soft labels"), "\(error)")
        }
    }

    func testLossIsNLLMinusLambdaTimesLogSigmoidOdds() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = ORPOConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 1)
        configuration.beta = 0.3
        let trainer = try ORPOTrainer(configuration: configuration, policy: try TrainableModel(directory: folder),
                                      encoder: TrainingFixtures.encoder(folder), train: syntheticPreferences(count: 4))
        var generator = SeededGenerator(seed: 0)
        let (loss, metrics) = try trainer.loss(examples: [0, 1, 2, 3], generator: &generator)
        XCTAssertEqual(Double(loss.item), metrics["nll_loss"]! - 0.3 * metrics["log_odds_ratio"]!, accuracy: 1e-4)
        XCTAssertLessThan(metrics["log_odds_ratio"]!, 0)
        XCTAssertEqual(metrics["rewards/chosen"]!, 0.3 * metrics["logps/chosen"]!, accuracy: 1e-5)
    }
}
