import Datasets
import Foundation
import XCTest
@testable import Alignment
import LanguageModels
import Tensors

/// Divergence that raises no error by itself stops the run with the step and the last good checkpoint (issue 24
/// item 8: at learning rate 1e6 sft and dpo exited 0 with weights ~3.9e6, the loss at ln V and a zero gradient).
final class TrainingHealthTests: XCTestCase {
    /// A huge learning rate (10, the largest `learning_rate` accepted) on the tiny model: the run stops with
    /// `TrainingError.collapsed` before its last step, names a checkpoint from before the collapse, and writes no model.
    func testAHugeLearningRateStopsSFTAndDPO() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for trainer in ["sft", "dpo"] {
            var arguments = TrainingFixtures.arguments(folder, steps: 40)
            arguments.outputDirectory = folder.appendingPathComponent(trainer).path
            arguments.learningRate = 10
            arguments.saveSteps = 4
            let objective: TrainingObjective
            if trainer == "sft" {
                var configuration = SFTConfiguration()
                configuration.training = arguments
                objective = try SFTTrainer(configuration: configuration, policy: try TrainableModel(directory: folder),
                                           encoder: TrainingFixtures.encoder(folder), train: TrainingFixtures.promptCompletions(count: 32))
            } else {
                var configuration = DPOConfiguration()
                configuration.training = arguments
                objective = try DPOTrainer(configuration: configuration, policy: try TrainableModel(directory: folder),
                                           reference: .model(try PretrainedModel.load(directory: folder)),
                                           encoder: TrainingFixtures.encoder(folder), train: syntheticPreferences(count: 32))
            }
            XCTAssertThrowsError(try TrainingLoop(arguments: arguments).run(objective), trainer) { error in
                guard case let .collapsed(step, symptom, checkpoint)? = error as? TrainingError else {
                    return XCTFail("\(trainer): \(error)")
                }
                XCTAssertLessThan(step, 40, trainer)
                XCTAssertTrue(symptom.contains("exploding"), "\(trainer): \(symptom)")
                let saved = try? XCTUnwrap(checkpoint, "\(trainer): a checkpoint was written before step \(step)")
                XCTAssertTrue(saved?.hasSuffix("checkpoint-\((step - 1) / 4 * 4)") ?? false, "\(trainer): \(saved ?? "nil") at step \(step)")
                XCTAssertTrue("\(error)".contains("step \(step)") && "\(error)".contains(saved ?? "?"), "\(error)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: arguments.outputDirectory + "/model.safetensors"), "\(trainer): no final model")
        }
    }

    /// The three collapse rules on synthetic steps, and a healthy run that never trips them.
    func testCollapseRules() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("charter-health-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        for step in [2, 5] { try FileManager.default.createDirectory(at: folder.appendingPathComponent("checkpoint-\(step)"), withIntermediateDirectories: true) }
        let weights = Tensor(shape: [3], scalars: [0.5, -1, 0.25])
        func health() -> TrainingHealth {
            var health = TrainingHealth(uniformLoss: log(1000), parameters: [weights])
            health.checkpointed(step: 2, path: folder.appendingPathComponent("checkpoint-2").path)
            health.checkpointed(step: 5, path: folder.appendingPathComponent("checkpoint-5").path)
            return health
        }
        // Zero gradient norms from step 3: stopped at the fifth (step 7), naming the checkpoint before step 3.
        var dead = health()
        for step in 1...6 { try dead.check(step: step, metrics: ["loss": 3, "grad_norm": step >= 3 ? 0 : 1], parameters: [weights]) }
        XCTAssertThrowsError(try dead.check(step: 7, metrics: ["loss": 3, "grad_norm": 0], parameters: [weights])) { error in
            guard case let .collapsed(step, symptom, checkpoint)? = error as? TrainingError else { return XCTFail("\(error)") }
            XCTAssertEqual(step, 7)
            XCTAssertTrue(symptom.contains("since step 3"), symptom)
            XCTAssertEqual(checkpoint, folder.appendingPathComponent("checkpoint-2").path)
        }
        // Four zero steps and a non-zero one start the count again.
        var recovering = health()
        for step in 1...20 { try recovering.check(step: step, metrics: ["grad_norm": step % 5 == 0 ? 0.5 : 0], parameters: [weights]) }
        // The loss at ln V for five steps in a row (within 1e-4 nats).
        var pinned = health()
        for step in 1...4 { try pinned.check(step: step, metrics: ["loss": log(1000) + 5e-5, "grad_norm": 1], parameters: [weights]) }
        XCTAssertThrowsError(try pinned.check(step: 5, metrics: ["loss": log(1000) - 5e-5, "grad_norm": 1], parameters: [weights])) {
            XCTAssertTrue("\($0)".contains("ln V = 6.9078 since step 1"), "\($0)")
        }
        var near = health()
        for step in 1...20 { try near.check(step: step, metrics: ["loss": log(1000) - 0.049, "grad_norm": 1], parameters: [weights]) }
        // Weights: over 100 × the starting largest (at least 1), or not finite.
        var exploding = health()
        try exploding.check(step: 1, metrics: [:], parameters: [Tensor(shape: [1], scalars: [99])])
        XCTAssertThrowsError(try exploding.check(step: 2, metrics: [:], parameters: [Tensor(shape: [2], scalars: [1, -101])])) {
            guard case .collapsed(2, _, let checkpoint)? = $0 as? TrainingError else { return XCTFail("\($0)") }
            XCTAssertEqual(checkpoint, nil, "no checkpoint before step 2 but the one at 2 itself")
        }
        var broken = health()
        XCTAssertThrowsError(try broken.check(step: 6, metrics: [:], parameters: [Tensor(shape: [2], scalars: [1, .nan])])) {
            guard case .nonFinite(6, _, let checkpoint)? = $0 as? TrainingError else { return XCTFail("\($0)") }
            XCTAssertEqual(checkpoint, folder.appendingPathComponent("checkpoint-5").path)
        }
    }
}
