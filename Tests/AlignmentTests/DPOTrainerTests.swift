import Datasets
import Foundation
import XCTest
@testable import Alignment
import LanguageModels
import Tensors

/// Preference pairs with a learnable rule: chosen repeats the prompt's last word, rejected its first.
func syntheticPreferences(count: Int, seed: UInt64 = 5) -> [Example] {
    let words = ["red", "blue", "green", "cat", "dog", "sun", "moon", "tree", "river", "stone"]
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { index in
        var a = words[Int(generator.next() % 10)], b = words[Int(generator.next() % 10)]
        if a == b { a = words[(words.firstIndex(of: b)! + 1) % 10] }
        return Example(.preference(prompt: .standard("say \(a) \(b):"), chosen: .standard(" \(b) \(b)"), rejected: .standard(" \(a) \(a)")),
                       line: index + 1)
    }
}

final class DPOTrainerTests: XCTestCase {
    func configuration(_ folder: URL, steps: Int) -> DPOConfiguration {
        var configuration = DPOConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: steps)
        configuration.training.evaluationBatchSize = 4
        return configuration
    }

    func testLossIsLn2WhenTheReferenceIsThePolicy() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let policy = try TrainableModel(directory: folder)
        let reference = try PretrainedModel.load(directory: folder)
        let trainer = try DPOTrainer(configuration: configuration(folder, steps: 1), policy: policy, reference: .model(reference),
                                     encoder: TrainingFixtures.encoder(folder), train: syntheticPreferences(count: 8))
        var generator = SeededGenerator(seed: 0)
        let (loss, metrics) = try trainer.loss(examples: Array(0..<4), generator: &generator)
        XCTAssertEqual(Double(loss.item), log(2), accuracy: 1e-6)
        XCTAssertEqual(metrics["rewards/margins"]!, 0, accuracy: 1e-6)
        XCTAssertEqual(metrics["rewards/accuracies"], 0, "equal rewards are not counted as correct (strict >, as TRL)")
        XCTAssertLessThan(metrics["logps/chosen"]!, 0)
    }

    func testLossFallsEveryParameterChangesAndAccuracyRises() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let policy = try TrainableModel(directory: folder)
        let before = policy.model.parameters().map(\.scalars)
        var configuration = configuration(folder, steps: 30)
        configuration.beta = 0.5
        let trainer = try DPOTrainer(configuration: configuration, policy: policy,
                                     reference: .model(try PretrainedModel.load(directory: folder)),
                                     encoder: TrainingFixtures.encoder(folder), train: syntheticPreferences(count: 32),
                                     evaluation: syntheticPreferences(count: 8, seed: 9))
        let summary = try TrainingLoop(arguments: configuration.training).run(trainer)
        let losses = summary.history.compactMap { $0["loss"] }
        let accuracies = summary.history.compactMap { $0["rewards/accuracies"] }
        XCTAssertEqual(losses.count, 30)
        XCTAssertTrue(losses.allSatisfy(\.isFinite))
        XCTAssertEqual(losses[0], log(2), accuracy: 1e-5)
        XCTAssertLessThan(losses.suffix(5).reduce(0, +) / 5, losses.prefix(5).reduce(0, +) / 5 * 0.7, "loss should fall: \(losses)")
        XCTAssertGreaterThan(accuracies.suffix(5).reduce(0, +) / 5, accuracies.prefix(5).reduce(0, +) / 5 + 0.3, "accuracy should rise: \(accuracies)")
        for (name, (old, new)) in zip(policy.model.namedParameters().map(\.name), zip(before, policy.model.parameters().map(\.scalars))) {
            XCTAssertNotEqual(old, new, "\(name) did not change")
        }
        for key in ["loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen",
                    "logps/rejected", "logits/chosen", "logits/rejected", "entropy", "mean_token_accuracy", "num_tokens",
                    "grad_norm", "learning_rate", "epoch"] {
            XCTAssertNotNil(summary.history.last?[key], "metric \(key) missing")
        }
        let output = URL(fileURLWithPath: configuration.training.outputDirectory)
        let records = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(records.last!.contains("\"eval_rewards\\/accuracies\"") || records.last!.contains("\"eval_rewards/accuracies\""),
                      "the final evaluation is logged with eval_ names: \(records.last!)")
        XCTAssertNoThrow(try PretrainedModel.load(directory: output))
    }

    func testEveryLossTypeIsFiniteAndTrains() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (types, smoothing) in [([DPOLossType.ipo], Float(0)), ([.hinge], 0), ([.robust], 0.1), ([.simpo], 0.1), ([.sigmoid], 0.2), ([.sigmoid, .sft], 0)] {
            let policy = try TrainableModel(directory: folder)
            var configuration = configuration(folder, steps: 12)
            configuration.lossTypes = types
            configuration.labelSmoothing = smoothing
            configuration.beta = types == [.simpo] ? 2 : 0.5
            let trainer = try DPOTrainer(configuration: configuration, policy: policy,
                                         reference: .model(try PretrainedModel.load(directory: folder)),
                                         encoder: TrainingFixtures.encoder(folder), train: syntheticPreferences(count: 16))
            let summary = try TrainingLoop(arguments: configuration.training).run(trainer)
            let losses = summary.history.compactMap { $0["loss"] }
            XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(types): \(losses)")
            XCTAssertLessThan(losses.suffix(3).reduce(0, +), losses.prefix(3).reduce(0, +), "\(types) loss should fall: \(losses)")
            let margins = summary.history.compactMap { $0["rewards/margins"] }
            XCTAssertGreaterThan(margins.last!, margins.first!, "\(types) margins should grow: \(margins)")
        }
    }

    /// A soft label p (`chosen_probability`) is the pair's own label smoothing 1 − p in the sigmoid loss: p = 1 trains
    /// exactly as the hard label, p = ½ leaves the policy where it is (the loss is flat at h = 0), a soft label in
    /// between trains less far; loss types that cannot read it, and ORPO, refuse it naming the line.
    func testSoftLabelsSmoothEachPairsLoss() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        func labelled(_ p: Double?) -> [Example] {
            syntheticPreferences(count: 8).map { Example($0.body, line: $0.line, chosenProbability: p) }
        }
        func losses(_ p: Double?, steps: Int = 6) throws -> [Double] {
            var configuration = configuration(folder, steps: steps)
            configuration.beta = 0.5
            configuration.training.outputDirectory = folder.appendingPathComponent("dpo-\(p.map { "\($0)" } ?? "hard")").path
            let trainer = try DPOTrainer(configuration: configuration, policy: try TrainableModel(directory: folder),
                                         reference: .model(try PretrainedModel.load(directory: folder)),
                                         encoder: TrainingFixtures.encoder(folder), train: labelled(p))
            XCTAssertEqual(trainer.pairs.map(\.chosenProbability), Array(repeating: p.map(Float.init), count: 8))
            return try TrainingLoop(arguments: configuration.training).run(trainer).history.compactMap { $0["loss"] }
        }
        XCTAssertEqual(try losses(1), try losses(nil), "p = 1 is the hard label")
        let tie = try losses(0.5, steps: 3)  // (longer, the training-health check stops a run whose gradient stays 0)
        XCTAssertTrue(tie.allSatisfy { abs($0 - log(2)) < 1e-6 }, "p = ½: no gradient at h = 0, the policy stays put: \(tie)")
        let hard = try losses(nil), soft = try losses(0.8)
        XCTAssertLessThan(hard.last!, soft.last!, "a soft label trains less far: \(hard) vs \(soft)")
        // The per-pair loss equals the scalar-smoothing loss at the same ε.
        let h = Tensor(shape: [3], scalars: [-1, 0, 2])
        let zero = Tensor(shape: [3], scalars: [0, 0, 0])
        let scalar = PreferenceLoss.dpo(.sigmoid, policyChosen: h, policyRejected: zero, referenceChosen: zero, referenceRejected: zero,
                                        beta: 0.5, labelSmoothing: 0.3).scalars
        let perPair = PreferenceLoss.softSigmoid(policyChosen: h, policyRejected: zero, referenceChosen: zero, referenceRejected: zero,
                                                 beta: 0.5, labelSmoothing: Tensor(shape: [3], scalars: [0.3, 0.3, 0.3])).scalars
        XCTAssertEqual(perPair, scalar)

        var ipo = configuration(folder, steps: 1)
        ipo.lossTypes = [.ipo]
        XCTAssertThrowsError(try DPOTrainer(configuration: ipo, policy: try TrainableModel(directory: folder),
                                            reference: .model(try PretrainedModel.load(directory: folder)),
                                            encoder: TrainingFixtures.encoder(folder), train: labelled(0.7))) { error in
            XCTAssertTrue("\(error)".contains("line 1: chosen_probability") && "\(error)".contains("loss_type ipo"), "\(error)")
        }
    }

    func testRPOAlphaAddsTheChosenNLL() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let policy = try TrainableModel(directory: folder)
        var configuration = configuration(folder, steps: 1)
        configuration.rpoAlpha = 0.5
        let trainer = try DPOTrainer(configuration: configuration, policy: policy, reference: .model(try PretrainedModel.load(directory: folder)),
                                     encoder: TrainingFixtures.encoder(folder), train: syntheticPreferences(count: 4))
        let batch = trainer.makeBatch(Array(trainer.pairs[0..<4]))
        let output = batch.forward(policy.model, statistics: false).logProbabilities.scalars
        let chosenTokens = batch.completionCounts[0..<4].reduce(0, +)
        let nll = -Double(output[0..<4].reduce(0, +)) / Double(chosenTokens)
        var generator = SeededGenerator(seed: 0)
        let (loss, _) = try trainer.loss(examples: [0, 1, 2, 3], generator: &generator)
        XCTAssertEqual(Double(loss.item), log(2) + 0.5 * nll, accuracy: 1e-5)
    }

    func testPrecomputedReferenceGivesTheSameLoss() throws {
        let folder = try TrainingFixtures.modelFolder()
        let referenceFolder = try TrainingFixtures.modelFolder(seed: 2)
        defer { try? FileManager.default.removeItem(at: folder); try? FileManager.default.removeItem(at: referenceFolder) }
        var results: [Float] = []
        for precompute in [false, true] {
            var configuration = configuration(folder, steps: 1)
            configuration.precomputeReferenceLogProbabilities = precompute
            let trainer = try DPOTrainer(configuration: configuration, policy: try TrainableModel(directory: folder),
                                         reference: .model(try PretrainedModel.load(directory: referenceFolder)),
                                         encoder: TrainingFixtures.encoder(folder), train: syntheticPreferences(count: 6))
            XCTAssertEqual(trainer.pairs.allSatisfy { $0.referenceChosen != nil }, precompute)
            var generator = SeededGenerator(seed: 0)
            results.append(try trainer.loss(examples: [0, 1, 2, 3, 4], generator: &generator).loss.item)
        }
        XCTAssertNotEqual(Double(results[0]), log(2), accuracy: 1e-4, "a different reference gives a different loss")
        XCTAssertEqual(results[0], results[1], accuracy: 1e-6)
        // The initial policy as its own reference, read once before training.
        var configuration = configuration(folder, steps: 1)
        configuration.precomputeReferenceLogProbabilities = true
        let trainer = try DPOTrainer(configuration: configuration, policy: try TrainableModel(directory: folder), reference: .initialPolicy,
                                     encoder: TrainingFixtures.encoder(folder), train: syntheticPreferences(count: 4))
        var generator = SeededGenerator(seed: 0)
        XCTAssertEqual(Double(try trainer.loss(examples: [0, 1, 2, 3], generator: &generator).loss.item), log(2), accuracy: 1e-6)
    }

    func testTokenizationFollowsTRL() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let encoder = try TrainingFixtures.encoder(folder)
        let example = Example(.preference(prompt: .standard("say red blue:"), chosen: .standard(" blue blue"), rejected: .standard(" red red")))
        let pair = try DPOPair.tokenize(example, encoder: encoder, maximumPromptLength: nil)
        XCTAssertEqual(pair.promptIds, encoder.encode("say red blue:"))
        XCTAssertEqual(pair.promptIds + pair.chosenIds, encoder.encode("say red blue: blue blue<|endoftext|>"))
        XCTAssertEqual(pair.chosenIds.last, encoder.endOfSequence, "eos is appended to completions")
        // Truncation: keep_start cuts the end; a prompt that fills max_length drops the pair, and both are counted.
        let (chosen, _, truncated) = pair.sequences(maximumLength: pair.promptIds.count + 1, truncationMode: "keep_start")
        XCTAssertTrue(truncated)
        XCTAssertEqual(chosen.ids, pair.promptIds + [pair.chosenIds[0]])
        XCTAssertEqual(chosen.lossMask.filter { $0 }.count, 1)
        var configuration = configuration(folder, steps: 1)
        configuration.maximumLength = pair.promptIds.count + 1
        let long = Example(.preference(prompt: .standard("say red blue green cat dog sun moon:"), chosen: .standard(" a"), rejected: .standard(" b")))
        let trainer = try DPOTrainer(configuration: configuration, policy: try TrainableModel(directory: folder),
                                     reference: .model(try PretrainedModel.load(directory: folder)), encoder: encoder, train: [example, long])
        XCTAssertEqual(trainer.exampleCount, 1)
        XCTAssertEqual(trainer.truncation, DPOTruncationReport(sequencesTruncated: 1, promptsTruncated: 0, dropped: 1))
        XCTAssertEqual(trainer.longestTrainingSequence, pair.promptIds.count + 1, "the memory estimate's length: after truncation")
        let untruncated = try DPOTrainer(configuration: self.configuration(folder, steps: 1), policy: try TrainableModel(directory: folder),
                                         reference: .model(try PretrainedModel.load(directory: folder)), encoder: encoder, train: [example, long])
        let longPair = try DPOPair.tokenize(long, encoder: encoder, maximumPromptLength: nil)
        XCTAssertEqual(untruncated.longestTrainingSequence,
                       [pair, longPair].flatMap { [$0.promptIds.count + $0.chosenIds.count, $0.promptIds.count + $0.rejectedIds.count] }.max())
        // Non-preference data is an error naming the line.
        let wrong = Example(.promptCompletion(prompt: .standard("a"), completion: .standard("b")), line: 7)
        XCTAssertThrowsError(try DPOPair.tokenize(wrong, encoder: encoder, maximumPromptLength: nil)) { error in
            XCTAssertTrue("\(error)".contains("line 7"), "\(error)")
        }
    }

    /// LoRA DPO: the reference is the base model (adapters disabled), so step 0 gives ln 2; only adapters change,
    /// and the output folder is a PEFT adapter.
    func testLoRAWithAdaptersDisabledReference() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try PretrainedModel.load(directory: folder)
        var generator = SeededGenerator(seed: 7)
        let lora = LoRAConfiguration(rank: 4, alpha: 8, targetModules: .allLinear)
        try LoRA.apply(lora, to: model, generator: &generator)
        let policy = TrainableModel(model: model, sourceDirectory: folder, adapterConfiguration: lora)
        let frozen = model.namedParameters().filter { !$0.tensor.requiresGrad }
        let frozenBefore = frozen.map(\.tensor.scalars)
        let adapters = model.trainableParameters()
        let adaptersBefore = adapters.map(\.scalars)
        var configuration = configuration(folder, steps: 15)
        configuration.beta = 0.5
        configuration.training.learningRate = 1e-2
        let trainer = try DPOTrainer(configuration: configuration, policy: policy, reference: .adaptersDisabled,
                                     encoder: TrainingFixtures.encoder(folder), train: syntheticPreferences(count: 16))
        let summary = try TrainingLoop(arguments: configuration.training).run(trainer)
        let losses = summary.history.compactMap { $0["loss"] }
        XCTAssertEqual(losses[0], log(2), accuracy: 1e-5)
        XCTAssertLessThan(losses.suffix(3).reduce(0, +), losses.prefix(3).reduce(0, +), "\(losses)")
        XCTAssertEqual(frozen.map(\.tensor.scalars), frozenBefore, "base weights stay frozen")
        for (index, (old, new)) in zip(adaptersBefore, adapters.map(\.scalars)).enumerated() {
            XCTAssertNotEqual(old, new, "adapter parameter \(index) did not change")
        }
        let output = URL(fileURLWithPath: configuration.training.outputDirectory)
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("adapter_model.safetensors").path))
        let reloaded = try PretrainedModel.load(directory: folder)
        try LoRA.load(from: output, into: reloaded)
        XCTAssertEqual(LoRA.adapters(in: reloaded).map(\.loraB.scalars), LoRA.adapters(in: model).map(\.loraB.scalars))
    }

    /// 10 steps straight equal 5 steps, a checkpoint, a resume and 5 more — bit for bit (full and LoRA training).
    func testResumeIsBitIdentical() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = syntheticPreferences(count: 12)
        for useLoRA in [false, true] {
            func train(steps: Int, output: String, resume: Bool, saveSteps: Int) throws -> [[Float]] {
                let model = try PretrainedModel.load(directory: folder)
                var lora: LoRAConfiguration?
                if useLoRA {
                    var generator = SeededGenerator(seed: 3)
                    lora = LoRAConfiguration(rank: 2, alpha: 4, targetModules: .names(["q_proj", "v_proj"]))
                    try LoRA.apply(lora!, to: model, generator: &generator)
                }
                let policy = TrainableModel(model: model, sourceDirectory: folder, adapterConfiguration: lora)
                var configuration = configuration(folder, steps: steps)
                configuration.training.outputDirectory = folder.appendingPathComponent(output + "\(useLoRA)").path
                configuration.training.saveSteps = saveSteps
                configuration.training.learningRateSchedule = "cosine"
                configuration.training.maximumSteps = 10
                configuration.training.gradientAccumulationSteps = 2
                configuration.training.batchSize = 2
                let reference: DPOReference = useLoRA ? .adaptersDisabled : .model(try PretrainedModel.load(directory: folder))
                let trainer = try DPOTrainer(configuration: configuration, policy: policy, reference: reference,
                                             encoder: TrainingFixtures.encoder(folder), train: data)
                _ = try TrainingLoop(arguments: configuration.training).run(trainer, resume: resume, stopAfter: steps)
                XCTAssertEqual(trainer.counters["num_tokens"]! > 0, true)
                return model.parameters().map(\.scalars)
            }
            let straight = try train(steps: 10, output: "straight", resume: false, saveSteps: 0)
            _ = try train(steps: 5, output: "resumed", resume: false, saveSteps: 5)
            let resumed = try train(steps: 10, output: "resumed", resume: true, saveSteps: 5)
            XCTAssertEqual(straight, resumed, "LoRA: \(useLoRA)")
        }
    }
}

final class LogSigmoidGradientTests: XCTestCase {
    /// d/dx log σ(x) = σ(−x), including at 0 where DPO's logits start (a zero subgradient there stalls training).
    func testGradientIsSigmoidOfMinusXEverywhere() {
        let points: [Float] = [-200, -3, -0.5, 0, 0.5, 3, 200]
        let x = Tensor(shape: [points.count], scalars: points)
        x.requiresGrad = true
        PreferenceLoss.logSigmoid(x).sum().backward()
        for (point, gradient) in zip(points, x.grad!.scalars) {
            XCTAssertEqual(gradient, 1 / (1 + Foundation.exp(point)), accuracy: 1e-6, "at \(point)")
        }
    }
}
