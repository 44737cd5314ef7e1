import Datasets
import Foundation
import XCTest
@testable import Alignment
import LanguageModels
import Tensors

/// Training data longer than the model's context: SFT and DPO truncate to min(max_length, context) and the reward
/// trainer drops longer pairs, as TRL treats max_length, saying so in one line; PPO refuses prompts that fill the
/// context. Nothing reaches the model longer than it can run.
final class SequenceLimitTests: XCTestCase {
    static let context = 12
    var folder: URL!

    override func setUpWithError() throws { folder = try TrainingFixtures.modelFolder(context: Self.context) }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// A completion of about 30 tokens, far past the 12-token context.
    static let long = String(repeating: " the cat sat on the mat", count: 5)

    func testLimitIsMaxLengthClampedToTheShortestContext() throws {
        let model = try PretrainedModel.load(directory: folder)
        XCTAssertEqual(SequenceLimit(maximumLength: 1024, models: [model]).length, 12)
        XCTAssertEqual(SequenceLimit(maximumLength: 8, models: [model]).length, 8)
        XCTAssertNil(SequenceLimit(maximumLength: 8, models: [model]).note, "max_length within the context needs no note")
        XCTAssertEqual(SequenceLimit(maximumLength: nil, models: [model]).length, 12)
        XCTAssertEqual(SequenceLimit(maximumLength: 1024, models: [model]).note,
                       "max_length 1024 is longer than the model's context of 12 tokens: sequences are limited to 12")
    }

    func testSFTTruncatesToTheContextAndTrains() throws {
        var configuration = SFTConfiguration()  // TRL's default max_length, 1024
        configuration.training = TrainingFixtures.arguments(folder, steps: 2)
        let examples = (0..<4).map { Example(.promptCompletion(prompt: .standard("say \($0):"), completion: .standard(Self.long)), line: $0 + 1) }
        let trainer = try SFTTrainer(configuration: configuration, policy: try TrainableModel(directory: folder),
                                     encoder: TrainingFixtures.encoder(folder), train: examples, evaluation: Array(examples.prefix(1)))
        XCTAssertEqual(trainer.configuration.maximumLength, 12)
        XCTAssertEqual(trainer.truncatedCount, 5)
        XCTAssertNotNil(trainer.sequenceLimit.note)
        let summary = try TrainingLoop(arguments: configuration.training).run(trainer)
        XCTAssertTrue(summary.history.compactMap { $0["loss"] }.allSatisfy(\.isFinite))
        XCTAssertEqual(summary.history.compactMap { $0["loss"] }.count, 2)
    }

    func testDPOTruncatesToTheContextAndTrains() throws {
        var configuration = DPOConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 1)
        configuration.training.evaluationBatchSize = 2
        let examples = (0..<4).map {
            Example(.preference(prompt: .standard("say \($0):"), chosen: .standard(Self.long), rejected: .standard(" no" + Self.long)), line: $0 + 1)
        }
        let trainer = try DPOTrainer(configuration: configuration, policy: try TrainableModel(directory: folder),
                                     reference: .model(try PretrainedModel.load(directory: folder)), encoder: TrainingFixtures.encoder(folder),
                                     train: examples, evaluation: Array(examples.prefix(2)))
        XCTAssertEqual(trainer.configuration.maximumLength, 12)
        XCTAssertEqual(trainer.truncation.sequencesTruncated, 6)
        let summary = try TrainingLoop(arguments: configuration.training).run(trainer)
        XCTAssertTrue(summary.history.compactMap { $0["loss"] }.allSatisfy(\.isFinite))
    }

    func testRewardTrainerDropsPairsLongerThanTheContext() throws {
        var configuration = RewardConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 1)
        let long = Example(.preference(prompt: .standard("say:"), chosen: .standard(Self.long), rejected: .standard(" no")), line: 1)
        let short = Example(.preference(prompt: .standard("say:"), chosen: .standard(" yes"), rejected: .standard(" no")), line: 2)
        let model = try SequenceClassifier.load(directory: folder, seed: 1)
        let trainer = try RewardTrainer(configuration: configuration, model: model, sourceDirectory: folder,
                                        encoder: TrainingFixtures.encoder(folder), train: [long, short, short])
        XCTAssertEqual(trainer.configuration.maximumLength, 12)
        XCTAssertEqual(trainer.droppedCount, 1)
        XCTAssertEqual(trainer.exampleCount, 2)
        XCTAssertNoThrow(try TrainingLoop(arguments: configuration.training).run(trainer))
    }

    func testPPORefusesPromptsThatLeaveNoRoomForAResponse() throws {
        var configuration = PPOConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 1)
        var generator = SeededGenerator(seed: 2)
        let prompts = [Example(.promptOnly(prompt: .standard("say:")), line: 1), Example(.promptOnly(prompt: .standard(Self.long)), line: 2)]
        XCTAssertThrowsError(try PPOTrainer(configuration: configuration, policy: try TrainableModel(directory: folder),
                                            critic: PPOCritic(trunk: nil, head: ValueHead(hiddenSize: 32, generator: &generator)),
                                            reference: .model(try PretrainedModel.load(directory: folder)),
                                            reward: PPOTrainerTests.multipleOfThreeFraction(), encoder: TrainingFixtures.encoder(folder),
                                            prompts: prompts)) { error in
            XCTAssertTrue("\(error)".contains("line 2: the prompt has"), "\(error)")
            XCTAssertTrue("\(error)".contains("no room for a response in the model's context of 12 tokens"), "\(error)")
        }
    }
}
