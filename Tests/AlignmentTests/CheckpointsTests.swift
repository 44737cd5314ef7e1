import Foundation
import XCTest
@testable import Alignment
import LanguageModels
import Tensors

/// The one checkpoint store keeps each trainer's folder layout: `checkpoint-N/` with the trainable tensors, the
/// optimizer's buffers and the trainer's state file (trainer_state.json or ppo_state.json, same keys as before).
final class CheckpointsTests: XCTestCase {
    static func keys(_ url: URL) throws -> [String] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
        return object.keys.sorted()
    }

    func testSupervisedCheckpointLayout() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = SFTConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 3)
        configuration.training.saveSteps = 1
        configuration.training.saveTotalLimit = 2
        let trainer = try SFTTrainer(configuration: configuration, policy: try TrainableModel(directory: folder),
                                     encoder: TrainingFixtures.encoder(folder), train: TrainingFixtures.promptCompletions(count: 8))
        let summary = try TrainingLoop(arguments: configuration.training).run(trainer)
        XCTAssertEqual(summary.steps, 3)
        let output = URL(fileURLWithPath: configuration.training.outputDirectory)
        let names = try FileManager.default.contentsOfDirectory(atPath: output.path).filter { $0.hasPrefix("checkpoint-") }.sorted()
        XCTAssertEqual(names, ["checkpoint-2", "checkpoint-3"], "save_total_limit keeps the newest two")
        let checkpoint = output.appendingPathComponent("checkpoint-3")
        for file in ["optimizer.safetensors", "trainer_state.json", "config.json", "tokenizer.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent(file).path), "\(file) missing")
        }
        XCTAssertEqual(try Self.keys(checkpoint.appendingPathComponent("trainer_state.json")),
                       ["counters", "generator", "learningRate", "optimizerKind", "optimizerStepCount", "step"])
        let lines = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3, "one record per logged step, no evaluation set")
    }

    func testPPOCheckpointLayout() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = PPOTrainerTests.configuration(folder, output: "layout", iterations: 2)
        configuration.training.saveSteps = 1
        configuration.training.saveTotalLimit = 1
        configuration.training.loggingSteps = 2
        let trainer = try PPOTrainerTests.trainer(folder, configuration: configuration)
        let summary = try trainer.train()
        XCTAssertEqual(summary.iterations, 2)
        XCTAssertEqual(summary.history.map { $0["step"] }, [1, 2], "the summary keeps every iteration")
        let output = URL(fileURLWithPath: configuration.training.outputDirectory)
        let names = try FileManager.default.contentsOfDirectory(atPath: output.path).filter { $0.hasPrefix("checkpoint-") }
        XCTAssertEqual(names, ["checkpoint-2"])
        let checkpoint = output.appendingPathComponent("checkpoint-2")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: checkpoint.path).sorted(),
                       ["optimizer.safetensors", "ppo_state.json", "trainable.safetensors"])
        XCTAssertEqual(try Self.keys(checkpoint.appendingPathComponent("ppo_state.json")),
                       ["learningRate", "optimizerKind", "optimizerStepCount", "state"])
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: checkpoint.appendingPathComponent("ppo_state.json"))) as? [String: Any]
        XCTAssertEqual((state?["state"] as? [String: Any])?.keys.sorted(), ["episode", "generator", "iteration", "klController"])
        let lines = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "logging_steps 2: only iteration 2 is written")
        XCTAssertTrue(lines[0].contains("\"step\":2"), String(lines[0]))
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("training_config.json"))) as? [String: Any]
        XCTAssertEqual(config?["num_ppo_epochs"] as? Int, 2, "without an effective configuration, the configuration's own keys")
    }
}
