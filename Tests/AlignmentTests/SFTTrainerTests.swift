import Datasets
import Foundation
import XCTest
@testable import Alignment
import LanguageModels
import Tensors

final class SFTTrainerTests: XCTestCase {
    func testLossFallsAndEveryParameterChanges() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let policy = try TrainableModel(directory: folder)
        let before = policy.model.parameters().map(\.scalars)
        var configuration = SFTConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 30)
        let trainer = try SFTTrainer(configuration: configuration, policy: policy, encoder: TrainingFixtures.encoder(folder),
                                     train: TrainingFixtures.promptCompletions(count: 32),
                                     evaluation: TrainingFixtures.promptCompletions(count: 3, seed: 11))
        let summary = try TrainingLoop(arguments: configuration.training).run(trainer)
        let losses = summary.history.compactMap { $0["loss"] }
        XCTAssertEqual(losses.count, 30)
        XCTAssertTrue(losses.allSatisfy(\.isFinite))
        XCTAssertLessThan(losses.suffix(5).reduce(0, +) / 5, losses.prefix(5).reduce(0, +) / 5 * 0.7, "loss should fall: \(losses)")
        for (name, (old, new)) in zip(policy.model.namedParameters().map(\.name), zip(before, policy.model.parameters().map(\.scalars))) {
            XCTAssertNotEqual(old, new, "\(name) did not change")
        }
        for key in ["loss", "entropy", "mean_token_accuracy", "num_tokens", "grad_norm", "learning_rate", "epoch"] {
            XCTAssertNotNil(summary.history.last?[key], "metric \(key) missing")
        }
        // The output folder is a complete model folder that loads and tokenizes.
        let output = URL(fileURLWithPath: configuration.training.outputDirectory)
        XCTAssertNoThrow(try PretrainedModel.load(directory: output))
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("tokenizer.json").path))
        let lines = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 31, "30 training records and the final evaluation")
        // Sample generations of the evaluation prompts are written at evaluation time.
        let samples = try String(contentsOf: output.appendingPathComponent("samples.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(samples.count, 3)
        let sample = try JSONSerialization.jsonObject(with: Data(samples[0].utf8)) as? [String: Any]
        XCTAssertEqual(sample?["step"] as? Int, 30)
        XCTAssertTrue((sample?["prompt"] as? String)?.hasPrefix("say ") ?? false)
        XCTAssertNotNil(sample?["completion"] as? String)
    }

    /// Gradient accumulation weighs micro-batches by their target tokens (transformers' num_items_in_batch): 2
    /// micro-batches of 2 give the same step loss and the same weights as one batch of 4 (the mean over all the
    /// window's tokens), although the micro-batches hold different numbers of tokens.
    func testAccumulationWeighsMicroBatchesByTheirTokens() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = [("say red:", " red"), ("say red blue green:", " red blue green red blue"), ("say blue:", " blue blue"), ("say green:", " green")]
            .map { Example(.promptCompletion(prompt: .standard($0.0), completion: .standard($0.1))) }
        func train(batch: Int, accumulation: Int, output: String) throws -> (loss: Double, weights: [[Float]]) {
            let policy = try TrainableModel(directory: folder)
            var configuration = SFTConfiguration()
            configuration.training = TrainingFixtures.arguments(folder, steps: 1)
            configuration.training.batchSize = batch
            configuration.training.gradientAccumulationSteps = accumulation
            configuration.training.trainSamplingStrategy = "sequential"
            configuration.training.outputDirectory = folder.appendingPathComponent(output).path
            let trainer = try SFTTrainer(configuration: configuration, policy: policy, encoder: TrainingFixtures.encoder(folder), train: data)
            let counts = [[0, 1], [2, 3]].map { trainer.lossItemCount(examples: $0)! }
            XCTAssertNotEqual(counts[0], counts[1], "the micro-batches must hold different numbers of target tokens for this test to mean anything")
            let summary = try TrainingLoop(arguments: configuration.training).run(trainer)
            return (try XCTUnwrap(summary.history.first?["loss"]), policy.model.parameters().map(\.scalars))
        }
        let whole = try train(batch: 4, accumulation: 1, output: "whole")
        let accumulated = try train(batch: 2, accumulation: 2, output: "accumulated")
        XCTAssertEqual(accumulated.loss, whole.loss, accuracy: 1e-5 * whole.loss)
        for (a, b) in zip(accumulated.weights, whole.weights) {
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-5) }
        }
    }

    func testCompletionOnlyMaskCoversTheCompletionAndEOS() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let encoder = try TrainingFixtures.encoder(folder)
        let example = Example(.promptCompletion(prompt: .standard("say red blue:"), completion: .standard(" blue blue")))
        let sequence = try SFTTrainer.tokenize(example, encoder: encoder, configuration: SFTConfiguration())
        let promptCount = encoder.encode("say red blue:").count
        XCTAssertEqual(sequence.lossMask, Array(repeating: false, count: promptCount) + Array(repeating: true, count: sequence.ids.count - promptCount))
        XCTAssertEqual(sequence.ids.last, encoder.endOfSequence)
    }

    /// 10 steps straight equal 5 steps, a checkpoint, a resume in a new process-like setting, and 5 more — bit for bit.
    func testResumeIsBitIdentical() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = TrainingFixtures.promptCompletions(count: 12)
        func train(steps: Int, output: String, resume: Bool, saveSteps: Int) throws -> [[Float]] {
            let policy = try TrainableModel(directory: folder)
            var configuration = SFTConfiguration()
            configuration.training = TrainingFixtures.arguments(folder, steps: steps)
            configuration.training.outputDirectory = folder.appendingPathComponent(output).path
            configuration.training.saveSteps = saveSteps
            configuration.training.learningRateSchedule = "cosine"
            configuration.training.maximumSteps = 10
            let trainer = try SFTTrainer(configuration: configuration, policy: policy, encoder: TrainingFixtures.encoder(folder), train: data)
            // A run that stops early is like a process killed right after its checkpoint.
            _ = try TrainingLoop(arguments: configuration.training).run(trainer, resume: resume, stopAfter: steps)
            return policy.model.parameters().map(\.scalars)
        }
        let straight = try train(steps: 10, output: "straight", resume: false, saveSteps: 0)
        _ = try train(steps: 5, output: "resumed", resume: false, saveSteps: 5)
        let resumed = try train(steps: 10, output: "resumed", resume: true, saveSteps: 5)
        XCTAssertEqual(straight, resumed)
    }
}

