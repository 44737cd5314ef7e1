import Datasets
import Foundation
import XCTest
@testable import Alignment
import LanguageModels
import NeuralNetworks
@testable import Runtime
import Tensors

/// PPO on the tiny fixture model with a programmatic reward: the fraction of response tokens whose id is a multiple
/// of 3 (a third of the vocabulary, with no structure the model could know in advance).
final class PPOTrainerTests: XCTestCase {
    static func multipleOfThreeFraction() -> ClosureReward {
        ClosureReward { rollout in
            guard !rollout.responseIds.isEmpty else { return 0 }
            return Float(rollout.responseIds.filter { $0 % 3 == 0 }.count) / Float(rollout.responseIds.count)
        }
    }

    static func prompts(_ count: Int) -> [Example] {
        let words = ["red", "blue", "green", "cat", "dog", "sun", "moon", "tree"]
        return (0..<count).map { Example(.promptOnly(prompt: .standard("say \(words[$0 % 8]) \(words[($0 * 3 + 1) % 8]):")), line: $0 + 1) }
    }

    static func configuration(_ folder: URL, output: String, iterations: Int) -> PPOConfiguration {
        var configuration = PPOConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: iterations)
        configuration.training.outputDirectory = folder.appendingPathComponent(output).path
        configuration.training.batchSize = 4
        configuration.training.gradientAccumulationSteps = 2
        configuration.training.learningRate = 1e-3
        configuration.miniBatchCount = 2
        configuration.ppoEpochs = 2
        configuration.responseLength = 6
        configuration.temperature = 1
        // A horizon of one batch lets β move by up to ±20% per iteration, fast enough to act within a test-sized run.
        configuration.klCoefficient = 0.2
        configuration.klTarget = 3
        configuration.klHorizon = 8
        configuration.valueCoefficient = 0.5
        configuration.sampleGenerationCount = 0
        return configuration
    }

    static func trainer(_ folder: URL, configuration: PPOConfiguration, evaluation: [Example] = []) throws -> PPOTrainer {
        let policy = try TrainableModel(directory: folder)
        let reference = try PretrainedModel.load(directory: folder)
        var generator = SeededGenerator(seed: 11)
        let head = ValueHead(hiddenSize: 32, generator: &generator)
        return try PPOTrainer(configuration: configuration, policy: policy, critic: PPOCritic(trunk: nil, head: head),
                              reference: .model(reference), reward: multipleOfThreeFraction(), encoder: TrainingFixtures.encoder(folder),
                              prompts: prompts(16), evaluationPrompts: evaluation)
    }

    /// The fixture model with its (tied) embeddings scaled up, so that its next-token distributions are peaked like a
    /// trained model's rather than uniform over the 1008 ids (a uniform policy rarely samples any token twice, and
    /// PPO then has nothing to reinforce in a test-sized run).
    static func peakedModelFolder(scale: Float = 20) throws -> URL {
        let folder = try TrainingFixtures.modelFolder()
        let model = try PretrainedModel.load(directory: folder)
        guard let embedding = model.namedParameters().first(where: { $0.name == "embedding.weight" })?.tensor else {
            throw TrainingError.data("fixture model has no embedding.weight")
        }
        embedding.assign(withoutGradients { embedding * scale })
        try PretrainedModel.save(model, to: folder)
        return folder
    }

    /// The step line shows each iteration's rollout tokens as they are generated, and no rate or ETA before the first
    /// iteration is done; the last line is the finished run.
    func testTheStepLineShowsRolloutTokensInsideAnIteration() throws {
        final class Screen: @unchecked Sendable {
            private let lock = NSLock()
            private var parts: [String] = []
            func write(_ text: String) { lock.withLock { parts.append(text) } }
            var lines: [String] { lock.withLock { parts.joined().split(separator: "\n").map(String.init) } }
        }
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let screen = Screen()
        let trainer = try Self.trainer(folder, configuration: Self.configuration(folder, output: "run", iterations: 2))
        var loop = TrainingLoop(arguments: trainer.configuration.training)
        loop.makeProgressLine = { total, start in
            ProgressLine(label: "step", total: total, startingAt: start, unit: "it", enabled: true, interval: 0, interactive: false,
                         clock: { ProcessInfo.processInfo.systemUptime }) { screen.write($0) }
        }
        _ = try loop.drive(trainer, resume: false, configurationFile: nil, stopAfter: nil)
        let lines = screen.lines
        // A generation step makes a token for each rollout of the forward batch; an iteration at most batch × 6.
        let ppo = trainer.configuration
        let first = lines.filter { $0.hasPrefix("step 0/2 · iteration 1: ") }
        XCTAssertEqual(first.first, "step 0/2 · iteration 1: \(min(ppo.batchSize, ppo.rolloutForwardBatchSize)) tokens", "\(lines)")
        let counts = first.compactMap { Int($0.dropFirst("step 0/2 · iteration 1: ".count).prefix { $0.isNumber }) }
        XCTAssertEqual(counts.count, first.count)
        XCTAssertEqual(counts, counts.sorted(), "the count only grows within an iteration: \(lines)")
        XCTAssertTrue(counts.count > 1 && counts.last! <= ppo.batchSize * ppo.responseLength, "\(lines)")
        XCTAssertFalse(lines.filter { $0.hasPrefix("step 0/2") }.contains { $0.contains("it/s") || $0.contains("/it") || $0.contains("ETA") },
                       "no step rate before the first step: \(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("step 1/2 · ") && $0.contains(" · iteration 2: ") && $0.contains("ETA") }, "\(lines)")
        let finalStep = lines.dropLast().last
        XCTAssertTrue(finalStep?.hasPrefix("step 2/2 · ") == true && finalStep?.contains("done in") == true, "\(lines)")
        // Then the end-of-run summary, as TRL prints it, with the peak resident memory.
        XCTAssertTrue(lines.last?.hasPrefix("train_runtime ") == true && lines.last?.contains("train_samples_per_second") == true
                      && lines.last?.contains("peak RSS ") == true, "\(lines)")
    }

    func testRewardRisesWhileKLStaysNearTheTarget() throws {
        let folder = try Self.peakedModelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = Self.configuration(folder, output: "run", iterations: 30)
        configuration.sampleGenerationCount = 3
        let trainer = try Self.trainer(folder, configuration: configuration, evaluation: Array(Self.prompts(2)))
        let before = trainer.trainableParameters.map(\.scalars)
        let summary = try trainer.train()
        let history = summary.history
        XCTAssertEqual(history.count, 30)
        let scores = history.compactMap { $0["objective/scores"] }
        let first = scores.prefix(5).reduce(0, +) / 5, last = scores.suffix(5).reduce(0, +) / 5
        XCTAssertGreaterThan(last, first + 0.4, "reward should rise: \(scores) KL \(history.compactMap { $0["objective/kl"] })")
        for record in history {
            XCTAssertTrue(record["loss"]?.isFinite ?? false, "loss missing or not finite: \(record)")
        }
        // The adaptive controller keeps the KL near its target of 3 nats per response: β falls while the policy is
        // closer than the target, rises when it drifts further (seen: KL ≈ 3.2 over the last 20 iterations).
        let kls = history.compactMap { $0["objective/kl"] }
        let lateKL = kls.suffix(20).reduce(0, +) / 20
        XCTAssertEqual(lateKL, 3, accuracy: 1.5, "KL should stay near the target: \(kls)")
        let coefficients = history.compactMap { $0["objective/kl_coef"] }
        let lowest = coefficients.min() ?? 0
        XCTAssertLessThan(lowest, coefficients[0], "β should fall while KL < target: \(coefficients)")
        XCTAssertGreaterThan(coefficients.suffix(from: coefficients.firstIndex(of: lowest) ?? 0).max() ?? 0, lowest * 1.5,
                             "β should rise again once KL > target: \(kls) \(coefficients)")
        for (index, (old, new)) in zip(before, trainer.trainableParameters.map(\.scalars)).enumerated() {
            XCTAssertNotEqual(old, new, "trainable parameter \(index) did not change")
        }
        for key in ["objective/kl", "objective/entropy", "objective/non_score_reward", "objective/rlhf_reward", "objective/scores",
                    "policy/approxkl_avg", "policy/clipfrac_avg", "loss/policy_avg", "loss/value_avg", "val/clipfrac_avg",
                    "policy/entropy_avg", "val/ratio", "val/ratio_var", "val/num_eos_tokens", "lr", "episode",
                    "time/rollout", "time/forward", "time/scoring", "time/update"] {
            XCTAssertNotNil(history.last?[key], "metric \(key) missing")
        }
        XCTAssertEqual(history.last?["episode"], 240)
        let output = URL(fileURLWithPath: configuration.training.outputDirectory)
        XCTAssertNoThrow(try PretrainedModel.load(directory: output))
        var generator = SeededGenerator(seed: 99)
        let savedHead = ValueHead(hiddenSize: 32, generator: &generator)
        try savedHead.load(from: output)
        XCTAssertEqual(savedHead.parameters().map(\.scalars), trainer.critic.head.parameters().map(\.scalars))
        let completions = try String(contentsOf: output.appendingPathComponent("completions.jsonl"), encoding: .utf8)
        XCTAssertEqual(completions.split(separator: "\n").count, 2 * 3, "3 sample generations of 2 prompts")
        let metricLines = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(metricLines.contains { $0.contains("\"objective\\/rlhf_reward\"") || $0.contains("\"objective/rlhf_reward\"") })
        // training_config.json, trainer_state.json and the model card, as TRL's PPO leaves them.
        let recipe = try String(contentsOf: output.appendingPathComponent("training_config.json"), encoding: .utf8)
        XCTAssertTrue(recipe.contains("\"output_dir\": \"\(output.path)\""), "slashes unescaped: \(recipe)")
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("trainer_state.json"))) as? [String: Any]
        XCTAssertEqual(state?["global_step"] as? Int, summary.iterations)
        XCTAssertEqual((state?["log_history"] as? [Any])?.count, metricLines.count)
        let card = try String(contentsOf: output.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertTrue(card.contains("- ppo") && card.contains("Proximal Policy Optimization"), card)
    }

    /// 6 iterations straight equal 3, a checkpoint, a resume with fresh objects, and 3 more — bit for bit.
    func testResumeIsBitIdentical() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        func run(_ output: String, stopAfter: Int, resume: Bool) throws -> ([[Float]], [Double]) {
            var configuration = Self.configuration(folder, output: output, iterations: 6)
            configuration.training.saveSteps = 3
            configuration.training.learningRateSchedule = "cosine"
            let trainer = try Self.trainer(folder, configuration: configuration)
            let summary = try trainer.train(resume: resume, stopAfter: stopAfter)
            return (trainer.trainableParameters.map(\.scalars), summary.history.compactMap { $0["objective/kl_coef"] })
        }
        let (straight, straightCoefficients) = try run("straight", stopAfter: 6, resume: false)
        _ = try run("resumed", stopAfter: 3, resume: false)
        let (resumed, resumedCoefficients) = try run("resumed", stopAfter: 6, resume: true)
        XCTAssertEqual(straight, resumed)
        XCTAssertEqual(Array(straightCoefficients.suffix(3)), resumedCoefficients, "the KL controller's state resumes too")
    }

    func testReferenceCanBeTheLoRABaseAndStopTokenCutsResponses() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = Self.configuration(folder, output: "lora", iterations: 2)
        configuration.stopToken = "eos"
        configuration.missingEOSPenalty = 1
        var generator = SeededGenerator(seed: 5)
        var lora = LoRAConfiguration()
        lora.targetModules = .names(["q_proj", "v_proj"])
        let model = try PretrainedModel.load(directory: folder)
        try LoRA.apply(lora, to: model, generator: &generator)
        let policy = TrainableModel(model: model, sourceDirectory: folder, adapterConfiguration: lora)
        let head = ValueHead(hiddenSize: 32, generator: &generator)
        let trainer = try PPOTrainer(configuration: configuration, policy: policy, critic: PPOCritic(trunk: nil, head: head),
                                     reference: .adaptersDisabled, reward: Self.multipleOfThreeFraction(),
                                     encoder: TrainingFixtures.encoder(folder), prompts: Self.prompts(8))
        // At the start the adapters are zero, so policy and reference agree: the KL is exactly 0.
        var rollouts = trainer.rollOut(trainer.prompts, seed: 1)
        try trainer.evaluateRollouts(&rollouts)
        for index in 0..<rollouts.count {
            XCTAssertEqual(rollouts.logProbabilities[index], rollouts.referenceLogProbabilities[index])
            let response = Array(rollouts.response(index))
            if let cut = response.firstIndex(of: 0) { XCTAssertEqual(cut, response.count - 1, "nothing follows the eos") }
        }
        rollouts.scores = try trainer.score(trainer.scoredRollouts(rollouts))
        for index in 0..<rollouts.count where !rollouts.response(index).contains(0) {
            XCTAssertLessThan(rollouts.scores[index], 0, "missing-eos penalty applied")
        }
        let summary = try trainer.train()
        XCTAssertEqual(summary.iterations, 2)
        let output = URL(fileURLWithPath: configuration.training.outputDirectory)
        XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent(LoRA.weightsFileName).path))
    }

    /// The first minibatch step sees ratio 1 exactly when the update's forward matches the rollout's.
    func testFirstUpdateStartsFromRatioOne() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let trainer = try Self.trainer(folder, configuration: Self.configuration(folder, output: "ratio", iterations: 1))
        var rollouts = trainer.rollOut(Array(trainer.prompts.prefix(4)), seed: 3)
        try trainer.evaluateRollouts(&rollouts)
        rollouts.scores = try trainer.score(trainer.scoredRollouts(rollouts))
        _ = trainer.shapeRewardsAndAdvantages(&rollouts, beta: 0.1)
        let (loss, statistics) = trainer.microBatchLoss(rollouts, indices: [0, 1, 2, 3])
        XCTAssertTrue(loss.item.isFinite)
        XCTAssertEqual(statistics["val/ratio"] ?? 0, 1, accuracy: 1e-5)
        XCTAssertEqual(statistics["policy/clipfrac_avg"], 0)
        XCTAssertEqual(statistics["val/clipfrac_avg"], 0)
    }

    /// A reward-model folder as the reward: the scorer gives the classifier's own scores of prompt + response, from
    /// ids (shared tokenizer) or from re-tokenized text, and its score layer can start the critic's head.
    func testRewardModelScorerMatchesTheClassifier() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let classifier = try SequenceClassifier.load(directory: folder, seed: 3)
        let encoder = try TrainingFixtures.encoder(folder)
        let rollouts = ["say red:", "say blue dog:"].map { prompt in
            ScoredRollout(promptIds: encoder.encode(prompt), responseIds: encoder.encode(" red red"), prompt: prompt,
                          response: " red red", endsWithStopToken: false)
        }
        let expected = try classifier.scores(rollouts.map { $0.promptIds + $0.responseIds })
        XCTAssertNotEqual(expected[0], expected[1])
        XCTAssertEqual(try RewardModelScorer(model: classifier, sharesTokenizer: true).scores(rollouts), expected)
        let fromText = try RewardModelScorer(model: classifier, sharesTokenizer: false).scores(rollouts)
        for (a, b) in zip(fromText, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        let head = ValueHead(rewardModel: classifier)
        XCTAssertEqual(head.projection.weight.scalars, classifier.score.weight.scalars)
        XCTAssertEqual(head.projection.bias?.scalars, [0])
    }

    /// With a stop token, each response is the unstopped sample cut right after the token's first occurrence (the
    /// same seed draws the same tokens).
    func testStopTokenCutsResponsesAfterItsFirstOccurrence() throws {
        let folder = try Self.peakedModelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = Self.configuration(folder, output: "stop", iterations: 1)
        configuration.responseLength = 12
        let plain = try Self.trainer(folder, configuration: configuration)
        let unstopped = plain.rollOut(plain.prompts, seed: 9)
        // The most frequent response token becomes the stop token.
        var counts: [Int32: Int] = [:]
        for index in 0..<unstopped.count { for token in unstopped.response(index) { counts[token, default: 0] += 1 } }
        guard let stop = counts.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key })?.key else { return XCTFail("no tokens") }
        configuration.stopTokenId = Int(stop)
        let trainer = try Self.trainer(folder, configuration: configuration)
        let stopped = trainer.rollOut(trainer.prompts, seed: 9)
        var cutCount = 0
        for index in 0..<stopped.count {
            let full = Array(unstopped.response(index)), cut = Array(stopped.response(index))
            if let first = full.firstIndex(of: stop) {
                XCTAssertEqual(cut, Array(full[...first]), "rollout \(index)")
                if first < full.count - 1 { cutCount += 1 }
            } else {
                XCTAssertEqual(cut, full, "rollout \(index)")
            }
        }
        XCTAssertGreaterThan(cutCount, 0, "some response should have been cut")
    }
}
