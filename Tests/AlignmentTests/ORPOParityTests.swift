import Datasets
import Foundation
import XCTest
@testable import Alignment
import LanguageModels
import Tensors

/// Charter's ORPO evaluation metrics against TRL 1.16's `ORPOTrainer.evaluate()` on DPO's parity fixtures
/// (Fixtures/trl/make_orpo_kto_fixtures.py wrote them): every metric within 1e-3 relative.
final class ORPOParityTests: XCTestCase {
    static let fixtures = DPOParityTests.fixtures

    static func expected(_ method: String) throws -> [String: [String: Any]] {
        let url = fixtures.appendingPathComponent("expected_orpo_kto.json")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        return try XCTUnwrap(object[method] as? [String: [String: Any]])
    }

    /// Every TRL metric has a Charter value within 1e-3 relative (plus 1e-6 absolute for values near 0); prints the
    /// largest relative difference per metric.
    static func assertMatches(_ charter: [String: Double], _ trl: [String: Any], _ scenario: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(trl.isEmpty, scenario, file: file, line: line)
        var report: [String] = []
        for (key, value) in trl.sorted(by: { $0.key < $1.key }) {
            guard let reference = value as? Double else { continue }
            let name = String(key.dropFirst("eval_".count))
            guard let mine = charter[name] else { XCTFail("\(scenario): Charter has no \(name)", file: file, line: line); continue }
            XCTAssert(reference.isFinite, "\(scenario): TRL's \(key) is \(reference)", file: file, line: line)
            let difference = abs(mine - reference)
            XCTAssertLessThanOrEqual(difference, 1e-3 * abs(reference) + 1e-6, "\(scenario): \(key) Charter \(mine) TRL \(reference)",
                                     file: file, line: line)
            report.append("\(name) \(String(format: "%.1e", difference / max(abs(reference), 1e-12)))")
        }
        print("parity \(scenario) (relative differences): \(report.joined(separator: ", "))")
    }

    func testORPOEvaluationMatchesTRL() throws {
        let scenarios: [(String, String, (inout ORPOConfiguration) -> Void)] = [
            ("standard", "preference_standard.jsonl", { $0.beta = 0.1 }),
            ("standard_truncated", "preference_standard.jsonl", { $0.beta = 0.5; $0.maximumLength = 20 }),
            ("implicit", "preference_implicit.jsonl", { $0.beta = 0.2 }),
            ("conversational", "preference_conversational.jsonl", { $0.beta = 0.1 }),
        ]
        let expected = try Self.expected("orpo")
        let policyFolder = Self.fixtures.appendingPathComponent("policy")
        let encoder = try ExampleEncoder.load(directory: policyFolder)
        for (name, file, configure) in scenarios {
            var configuration = ORPOConfiguration()
            configuration.training.evaluationBatchSize = 4
            configure(&configuration)
            let data = try Dataset.load(Self.fixtures.appendingPathComponent(file))
            let trainer = try ORPOTrainer(configuration: configuration, policy: try TrainableModel(directory: policyFolder),
                                          encoder: encoder, train: [], evaluation: data.examples)
            XCTAssertEqual(trainer.evaluationExampleCount, 6, name)
            Self.assertMatches(try XCTUnwrap(try trainer.evaluate()), try XCTUnwrap(expected[name]), name)
        }
    }

    /// Training arguments of the one-step checks: one AdamW step (lr 1e-3, constant) on a batch of every example.
    static func oneStep(batchSize: Int) -> TrainingArguments {
        var arguments = TrainingArguments()
        arguments.outputDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-one-step-\(UUID().uuidString)").path
        arguments.maximumSteps = 1
        arguments.batchSize = batchSize
        arguments.evaluationBatchSize = 4
        arguments.learningRate = 1e-3
        arguments.learningRateSchedule = "constant"
        arguments.loggingSteps = 1
        arguments.saveSteps = 0
        return arguments
    }

    /// After one training step from the same weights, the step's loss and gradient norm (before clipping) and the
    /// eval metrics match TRL's: the gradient, not only the forward pass, is TRL's.
    static func assertOneStepMatches(_ objective: TrainingObjective, arguments: TrainingArguments, _ trl: [String: Any],
                                     _ scenario: String, file: StaticString = #filePath, line: UInt = #line) throws {
        defer { try? FileManager.default.removeItem(atPath: arguments.outputDirectory) }
        let summary = try TrainingLoop(arguments: arguments).run(objective)
        let step = try XCTUnwrap(summary.history.first, file: file, line: line)
        let reference: [String: Any] = ["eval_train_loss": try XCTUnwrap(trl["train_loss"] as? Double, file: file, line: line),
                                        "eval_train_grad_norm": try XCTUnwrap(trl["train_grad_norm"] as? Double, file: file, line: line)]
        assertMatches(["train_loss": try XCTUnwrap(step["loss"]), "train_grad_norm": try XCTUnwrap(step["grad_norm"])], reference,
                      scenario + " (training step)", file: file, line: line)
        assertMatches(try XCTUnwrap(try objective.evaluate(), file: file, line: line), trl.filter { $0.key.hasPrefix("eval_") },
                      scenario + " (evaluation after the step)", file: file, line: line)
    }

    func testOneORPOStepMatchesTRL() throws {
        let policyFolder = Self.fixtures.appendingPathComponent("policy")
        var configuration = ORPOConfiguration()
        configuration.training = Self.oneStep(batchSize: 6)
        let data = try Dataset.load(Self.fixtures.appendingPathComponent("preference_standard.jsonl"))
        let trainer = try ORPOTrainer(configuration: configuration, policy: try TrainableModel(directory: policyFolder),
                                      encoder: try ExampleEncoder.load(directory: policyFolder), train: data.examples,
                                      evaluation: data.examples)
        try Self.assertOneStepMatches(trainer, arguments: configuration.training, try XCTUnwrap(try Self.expected("orpo")["standard_one_step"]),
                                      "standard_one_step")
    }

    /// log(1 − e^x) on both sides of the branch point, against Double precision.
    func testLogOneMinusExpIsAccurate() {
        let xs: [Float] = [-20, -3, -0.7, -0.05, -0.01, -0.009, -1e-3, -1e-6]
        let values = PreferenceLoss.logOneMinusExp(Tensor(shape: [xs.count], scalars: xs)).scalars
        for (x, value) in zip(xs, values) {
            let exact = Foundation.log(-Foundation.expm1(Double(x)))
            XCTAssertEqual(Double(value), exact, accuracy: 1e-5 * max(1, abs(exact)), "x = \(x)")
        }
    }
}

