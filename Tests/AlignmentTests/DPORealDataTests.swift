import Datasets
import Foundation
import XCTest
@testable import Alignment
import LanguageModels

/// DPO and reward training for a couple of steps on the first lines of Anthropic HH-RLHF (harmless-base test split),
/// as shipped in ../shared/data/hh-rlhf next to the package.
final class DPORealDataTests: XCTestCase {
    static let data = TrainingFixtures.repository.deletingLastPathComponent()
        .appendingPathComponent("shared/data/hh-rlhf/harmless-base-test.jsonl.gz")

    func firstExamples(_ count: Int) throws -> [Example] {
        guard FileManager.default.fileExists(atPath: Self.data.path) else {
            throw XCTSkip("\(Self.data.path) is absent (the HH-RLHF sample lives in the shared data folder next to the package)")
        }
        let dataset = try Dataset.load(Self.data)
        XCTAssertEqual(dataset.type, .implicitPromptPreference)
        return Array(dataset.examples.prefix(count))
    }

    func testDPOAndRewardTrainOnHHRLHF() throws {
        let examples = try firstExamples(16)
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let encoder = try TrainingFixtures.encoder(folder)

        var dpo = DPOConfiguration()
        dpo.training = TrainingFixtures.arguments(folder, steps: 2)
        dpo.maximumLength = 96
        let policy = try TrainableModel(directory: folder)
        let trainer = try DPOTrainer(configuration: dpo, policy: policy, reference: .model(try PretrainedModel.load(directory: folder)),
                                     encoder: encoder, train: Array(examples[0..<12]), evaluation: Array(examples[12...]))
        XCTAssertEqual(trainer.exampleCount + trainer.evaluationExampleCount + trainer.truncation.dropped, 16)
        XCTAssertGreaterThan(trainer.truncation.sequencesTruncated, 0, "HH transcripts exceed 96 tokens")
        let summary = try TrainingLoop(arguments: dpo.training).run(trainer)
        XCTAssertEqual(summary.steps, 2)
        XCTAssertEqual(summary.history.first?["loss"] ?? 0, log(2), accuracy: 1e-5)
        XCTAssertTrue(summary.history.allSatisfy { $0["loss"]!.isFinite && $0["rewards/margins"] != nil })
        let evaluation = try XCTUnwrap(try trainer.evaluate())
        XCTAssertTrue(evaluation["loss"]!.isFinite)

        var reward = RewardConfiguration()
        reward.training = TrainingFixtures.arguments(folder, steps: 2)
        reward.training.outputDirectory = folder.appendingPathComponent("reward").path
        reward.maximumLength = 512
        let rewardTrainer = try RewardTrainer(configuration: reward, model: try SequenceClassifier.load(directory: folder), sourceDirectory: folder,
                                              encoder: encoder, train: examples)
        XCTAssertGreaterThan(rewardTrainer.exampleCount, 8)
        let rewardSummary = try TrainingLoop(arguments: reward.training).run(rewardTrainer)
        XCTAssertEqual(rewardSummary.steps, 2)
        XCTAssertTrue(rewardSummary.history.allSatisfy { $0["loss"]!.isFinite && $0["accuracy"] != nil })
        XCTAssertNoThrow(try SequenceClassifier.load(directory: URL(fileURLWithPath: reward.training.outputDirectory)))
    }
}
