import Datasets
import Foundation
import XCTest
@testable import Alignment
import LanguageModels
import Settings
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
        // The memory estimate's length: the longest training prompt + completion, not max_length.
        XCTAssertEqual(trainer.longestTrainingSequence, trainer.examples.map { $0.promptIds.count + $0.completionIds.count }.max())
        XCTAssertLessThan(trainer.longestTrainingSequence, configuration.maximumLength ?? .max)
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

    /// One KTO run on `train` (10 rows: sequential blocks of 4, 4, 2, for two epochs) from the tiny model in `folder`.
    /// - Returns: the loss of every step, the evaluation metrics after training, and the policy's final weights.
    func run(_ folder: URL, reference: DPOReference, precompute: Bool, precomputeBatchSize: Int? = nil,
             afterSetup: () -> Void = {}) throws -> (losses: [Double], evaluation: [String: Double], weights: [[Float]]) {
        var configuration = KTOConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 6)
        configuration.training.outputDirectory = folder.appendingPathComponent("run-\(UUID().uuidString)").path
        configuration.training.trainSamplingStrategy = "sequential"
        configuration.training.learningRate = 1e-3
        configuration.training.evaluationBatchSize = 4
        configuration.beta = 0.5
        configuration.precomputeReferenceLogProbabilities = precompute
        configuration.precomputeReferenceBatchSize = precomputeBatchSize
        let policy = try TrainableModel(directory: folder)
        let trainer = try KTOTrainer(configuration: configuration, policy: policy, reference: reference,
                                     encoder: TrainingFixtures.encoder(folder), train: unpaired(syntheticPreferences(count: 10)),
                                     evaluation: unpaired(syntheticPreferences(count: 6, seed: 9)))
        XCTAssertEqual(trainer.examples.allSatisfy { $0.referenceLogProbability != nil && $0.referenceMismatchedLogProbability != nil }, precompute)
        XCTAssertEqual(trainer.evaluationExamples.allSatisfy { $0.referenceLogProbability != nil }, precompute)
        afterSetup()
        let summary = try TrainingLoop(arguments: configuration.training).run(trainer)
        return (summary.history.compactMap { $0["loss"] }, try XCTUnwrap(try trainer.evaluate()), policy.model.parameters().map(\.scalars))
    }

    func assertClose(_ first: (losses: [Double], evaluation: [String: Double], weights: [[Float]]),
                     _ second: (losses: [Double], evaluation: [String: Double], weights: [[Float]]), tolerance: Double,
                     weightTolerance: Double? = nil, _ message: String, line: UInt = #line) {
        XCTAssertEqual(first.losses.count, 6, message, line: line)
        XCTAssertEqual(first.losses.count, second.losses.count, message, line: line)
        for (step, (a, b)) in zip(first.losses, second.losses).enumerated() {
            XCTAssertEqual(a, b, accuracy: tolerance, "\(message): loss of step \(step + 1)", line: line)
        }
        XCTAssertEqual(Set(first.evaluation.keys), Set(second.evaluation.keys), message, line: line)
        for (key, value) in first.evaluation where key != "num_tokens" {
            XCTAssertEqual(value, second.evaluation[key] ?? .nan, accuracy: tolerance * max(1, abs(value)), "\(message): eval \(key)", line: line)
        }
        let largest = zip(first.weights, second.weights).map { zip($0, $1).map { Double(abs($0 - $1)) }.max() ?? 0 }.max() ?? .infinity
        XCTAssertLessThanOrEqual(largest, weightTolerance ?? tolerance, "\(message): largest weight difference", line: line)
    }

    /// precompute_ref_log_probs (TRL's): the reference read once before training — every completion and every
    /// mismatched completion of the KL term, which are fixed as TRL fixes them — trains exactly as reading it at every
    /// step: the same loss at every step, evaluation metrics and final weights. And the steps never run it: a
    /// reference whose weights are all NaN after the precompute pass changes nothing.
    func testPrecomputedReferenceTrainsAsReadingItAtEveryStep() throws {
        let folder = try TrainingFixtures.modelFolder()
        let referenceFolder = try TrainingFixtures.modelFolder(seed: 2)
        defer { for url in [folder, referenceFolder] { try? FileManager.default.removeItem(at: url) } }
        let everyStep = try run(folder, reference: .model(try PretrainedModel.load(directory: referenceFolder)), precompute: false)
        XCTAssertNotEqual(everyStep.losses[0], 0.5, accuracy: 1e-3, "a different reference moves the first loss off ½")
        let precomputed = try run(folder, reference: .model(try PretrainedModel.load(directory: referenceFolder)), precompute: true)
        assertClose(everyStep, precomputed, tolerance: 1e-6, "precomputed in the training batches")
        // Another precompute batch size pads the sequences differently; the values are the same up to rounding, which
        // AdamW's normalised steps (learning rate 1e-3) carry into the weights at the 1e-5 level after six steps.
        let inThrees = try run(folder, reference: .model(try PretrainedModel.load(directory: referenceFolder)), precompute: true, precomputeBatchSize: 3)
        assertClose(everyStep, inThrees, tolerance: 1e-5, weightTolerance: 1e-4, "precomputed in batches of 3")

        let destroyed = try PretrainedModel.load(directory: referenceFolder)
        let unread = try run(folder, reference: .model(destroyed), precompute: true) {
            for parameter in destroyed.parameters() {
                parameter.assign(Tensor(shape: parameter.shape, scalars: [Float](repeating: .nan, count: parameter.scalars.count)))
            }
        }
        assertClose(precomputed, unread, tolerance: 0, "reference destroyed after the precompute pass")
    }

    /// With precompute_ref_log_probs and no reference model, the reference is the initial policy read once (TRL's
    /// choice): no second copy is loaded, and training matches a frozen copy read at every step.
    func testInitialPolicyIsTheReferenceReadOnce() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = KTOConfiguration()
        configuration.precomputeReferenceLogProbabilities = true
        guard case .initialPolicy = try ReferencePolicy.kto(configuration: configuration, policy: try TrainableModel(directory: folder),
                                                            policyFolder: folder, referenceModel: nil) else {
            return XCTFail("expected the initial policy, read once")
        }
        configuration.precomputeReferenceLogProbabilities = false
        guard case .model = try ReferencePolicy.kto(configuration: configuration, policy: try TrainableModel(directory: folder),
                                                    policyFolder: folder, referenceModel: nil) else {
            return XCTFail("expected a frozen copy")
        }
        let copy = try run(folder, reference: .model(try ReferencePolicy.frozenModel(folder)), precompute: false)
        let initial = try run(folder, reference: .initialPolicy, precompute: true)
        XCTAssertEqual(copy.losses[0], 0.5, accuracy: 1e-6, "the policy is its reference at the first step")
        assertClose(copy, initial, tolerance: 1e-6, "the initial policy read once")
        // Without the precompute pass the initial policy cannot serve as the reference.
        XCTAssertThrowsError(try KTOTrainer(configuration: KTOConfiguration(), policy: try TrainableModel(directory: folder), reference: .initialPolicy,
                                            encoder: TrainingFixtures.encoder(folder), train: unpaired(syntheticPreferences(count: 4)))) { error in
            XCTAssertTrue("\(error)".contains("precompute_ref_log_probs"), "\(error)")
        }
    }

    /// The precomputed KL values belong to fixed pairs of sequential batches: random sampling is refused by name unless
    /// the loss has no KL term; the keys decode from a recipe with TRL's names.
    func testPrecomputeSettings() throws {
        var configuration = try JSONDecoder().decode(KTOConfiguration.self, from: Data(#"{"precompute_ref_log_probs": true, "precompute_ref_batch_size": 16, "train_sampling_strategy": "random"}"#.utf8))
        XCTAssertTrue(configuration.precomputeReferenceLogProbabilities)
        XCTAssertEqual(configuration.precomputeReferenceBatchSize, 16)
        XCTAssertThrowsError(try configuration.validate()) { error in
            XCTAssertEqual((error as? SettingsError)?.key, "train_sampling_strategy", "\(error)")
            XCTAssertTrue("\(error)".contains("\"random\""), "\(error)")
        }
        configuration.training.trainSamplingStrategy = "sequential"
        XCTAssertNoThrow(try configuration.validate())
        configuration.training.trainSamplingStrategy = "random"
        configuration.lossType = "apo_zero_unpaired"
        XCTAssertNoThrow(try configuration.validate())
        XCTAssertThrowsError(try JSONDecoder().decode(KTOConfiguration.self, from: Data(#"{"precompute_ref_batch_size": 0}"#.utf8)).validate()) { error in
            XCTAssertTrue("\(error)".contains("precompute_ref_batch_size"), "\(error)")
        }
    }

    /// TRL's defaults, and recipe values out of range are errors naming the key and the value.
    func testDefaultsAndRanges() throws {
        let defaults = try JSONDecoder().decode(KTOConfiguration.self, from: Data("{}".utf8))
        XCTAssertEqual(defaults, KTOConfiguration())
        XCTAssertEqual([defaults.beta, defaults.desirableWeight, defaults.undesirableWeight, defaults.training.learningRate], [0.1, 1, 1, 1e-6])
        XCTAssertEqual(defaults.lossType, "kto")
        XCTAssertEqual(defaults.maximumLength, 1024)
        // KTOConfig's own default, which TRL's trainer requires with the KL term (an export must run there).
        XCTAssertEqual(defaults.training.trainSamplingStrategy, "sequential")
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
