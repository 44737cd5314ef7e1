import Datasets
import Foundation
import JSON
import XCTest
@testable import Alignment
import LanguageModels
import NeuralNetworks
import Settings
import Tensors

/// GRPO and RLOO on the tiny peaked fixture model with PPO's programmatic reward (the fraction of completion tokens
/// whose id is a multiple of 3), the verifiable rewards, and the settings' rules.
final class GRPOTrainerTests: XCTestCase {
    static func configuration(_ folder: URL, iterations: Int) -> GRPOConfiguration {
        var configuration = GRPOConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: iterations)
        configuration.training.batchSize = 4
        configuration.training.gradientAccumulationSteps = 2
        configuration.training.learningRate = 1e-3
        configuration.training.saveSteps = 0
        configuration.generationCount = 4
        configuration.maximumCompletionLength = 6
        configuration.beta = 0.02
        return configuration
    }

    static func reward() -> [NamedReward] {
        [NamedReward(name: "multiple_of_three", function: PPOTrainerTests.multipleOfThreeFraction())]
    }

    func testGRPORewardRisesAndTheRunWritesWhatOtherTrainersWrite() throws {
        let folder = try PPOTrainerTests.peakedModelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let configuration = Self.configuration(folder, iterations: 24)
        let policy = try TrainableModel(directory: folder)
        let before = policy.trainableParameters.map(\.scalars)
        let trainer = try GRPOTrainer(configuration: configuration, policy: policy,
                                      reference: .model(try ReferencePolicy.frozenModel(folder)), rewards: Self.reward(),
                                      encoder: try TrainingFixtures.encoder(folder), prompts: PPOTrainerTests.prompts(16),
                                      evaluationPrompts: PPOTrainerTests.prompts(2))
        XCTAssertEqual(trainer.iterations, 24)
        let summary = try trainer.train()
        let rewards = summary.history.compactMap { $0["reward"] }
        XCTAssertEqual(rewards.count, 24)
        let first = rewards.prefix(6).reduce(0, +) / 6, last = rewards.suffix(6).reduce(0, +) / 6
        XCTAssertGreaterThan(last, first + 0.2, "reward should rise: \(rewards)")
        for (index, (old, new)) in zip(before, policy.trainableParameters.map(\.scalars)).enumerated() {
            XCTAssertNotEqual(old, new, "trainable parameter \(index) did not change")
        }
        for key in ["reward", "reward_std", "rewards/multiple_of_three/mean", "rewards/multiple_of_three/std", "frac_reward_zero_std",
                    "kl", "entropy", "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean", "completions/mean_length",
                    "completions/clipped_ratio", "loss", "grad_norm", "lr", "epoch", "time/rollout", "time/update", "time/cpu"] {
            XCTAssertNotNil(summary.history.last?[key], "metric \(key) missing")
        }
        XCTAssertTrue(summary.history.allSatisfy { ($0["time/cpu"] ?? 0) > 0 }, "every step takes CPU time")
        let kls = summary.history.compactMap { $0["kl"] }
        XCTAssertTrue(kls.allSatisfy { $0 >= 0 && $0.isFinite }, "k3 KL is never negative: \(kls)")
        XCTAssertLessThan(kls.last ?? .infinity, 5, "β keeps the policy near the reference: \(kls)")
        let output = URL(fileURLWithPath: configuration.training.outputDirectory)
        XCTAssertNoThrow(try PretrainedModel.load(directory: output))
        let metricLines = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(metricLines.contains { $0.contains("\"eval_reward\"") }, "the final evaluation is logged")
        let completions = try String(contentsOf: output.appendingPathComponent("completions.jsonl"), encoding: .utf8)
        XCTAssertEqual(completions.split(separator: "\n").count, 2, "greedy completions of the 2 evaluation prompts")
        let state = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("trainer_state.json"))) as? [String: Any]
        XCTAssertEqual(state?["global_step"] as? Int, 24)
        let card = try String(contentsOf: output.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertTrue(card.contains("DeepSeekMath"), card)
    }

    /// `top_k: 1` samples the most likely token every time, so every completion of a group is the same; the whole
    /// distribution (the default) gives groups that differ.
    func testTopKShapesTheRollouts() throws {
        let folder = try PPOTrainerTests.peakedModelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        func groups(topK: Int) throws -> [[[Int32]]] {
            var configuration = Self.configuration(folder, iterations: 1)
            configuration.beta = 0
            configuration.topK = topK
            let trainer = try GRPOTrainer(configuration: configuration, policy: try TrainableModel(directory: folder), reference: nil,
                                          rewards: Self.reward(), encoder: try TrainingFixtures.encoder(folder),
                                          prompts: PPOTrainerTests.prompts(4))
            let rollouts = trainer.core.rollOut([0, 1], seed: 7)
            return stride(from: 0, to: rollouts.count, by: rollouts.groupSize).map { Array(rollouts.sequences[$0..<($0 + rollouts.groupSize)]) }
        }
        for group in try groups(topK: 1) { XCTAssertEqual(Set(group).count, 1, "top_k 1 is greedy: \(group)") }
        XCTAssertTrue(try groups(topK: 0).contains { Set($0).count > 1 }, "sampling the whole distribution varies within a group")
    }

    /// 4 iterations straight equal 2, a checkpoint, a resume with fresh objects, and 2 more — bit for bit.
    func testResumeIsBitIdentical() throws {
        let folder = try PPOTrainerTests.peakedModelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        func run(_ output: String, stopAfter: Int?, resume: Bool) throws -> [[Float]] {
            var configuration = Self.configuration(folder, iterations: 4)
            configuration.training.outputDirectory = folder.appendingPathComponent(output).path
            configuration.training.saveSteps = 2
            let policy = try TrainableModel(directory: folder)
            let trainer = try GRPOTrainer(configuration: configuration, policy: policy,
                                          reference: .model(try ReferencePolicy.frozenModel(folder)), rewards: Self.reward(),
                                          encoder: try TrainingFixtures.encoder(folder), prompts: PPOTrainerTests.prompts(16))
            _ = try trainer.train(resume: resume, stopAfter: stopAfter)
            return policy.trainableParameters.map(\.scalars)
        }
        let straight = try run("straight", stopAfter: nil, resume: false)
        _ = try run("split", stopAfter: 2, resume: false)
        let resumed = try run("split", stopAfter: nil, resume: true)
        XCTAssertEqual(straight, resumed)
    }

    func testRLOORunsWithTheKLPenaltyInTheReward() throws {
        let folder = try PPOTrainerTests.peakedModelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = RLOOConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 12)
        configuration.training.batchSize = 8
        configuration.training.learningRate = 1e-3
        configuration.training.saveSteps = 0
        configuration.generationCount = 4
        configuration.maximumCompletionLength = 6
        let policy = try TrainableModel(directory: folder)
        let trainer = try RLOOTrainer(configuration: configuration, policy: policy,
                                      reference: .model(try ReferencePolicy.frozenModel(folder)), rewards: Self.reward(),
                                      encoder: try TrainingFixtures.encoder(folder), prompts: PPOTrainerTests.prompts(16))
        let summary = try trainer.train()
        let rewards = summary.history.compactMap { $0["reward"] }
        XCTAssertEqual(rewards.count, 12)
        XCTAssertGreaterThan(rewards.suffix(4).reduce(0, +) / 4, rewards.prefix(4).reduce(0, +) / 4 + 0.1, "reward should rise: \(rewards)")
        XCTAssertEqual(summary.history.first?["kl"] ?? .nan, 0, accuracy: 1e-5, "the policy starts at the reference")
        XCTAssertNotNil(summary.history.last?["entropy"])
    }

    /// With LoRA the reference is the base (adapters off): the first iteration's KL is exactly 0, later ones are not,
    /// and only the adapters train (with two optimizer steps per generation batch, num_iterations 2, whose second step
    /// reads the rollout policy's stored log-probs).
    func testLoRAReferenceIsTheBaseAndIterationsReuseTheBatch() throws {
        let folder = try PPOTrainerTests.peakedModelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = Self.configuration(folder, iterations: 3)
        configuration.iterationCount = 2
        var generator = SeededGenerator(seed: 5)
        var lora = LoRAConfiguration()
        lora.targetModules = .names(["q_proj", "v_proj"])
        let model = try PretrainedModel.load(directory: folder)
        try LoRA.apply(lora, to: model, generator: &generator)
        let policy = TrainableModel(model: model, sourceDirectory: folder, adapterConfiguration: lora)
        let frozen = model.namedParameters().filter { !$0.tensor.requiresGrad }.map(\.tensor.scalars)
        let trainer = try GRPOTrainer(configuration: configuration, policy: policy, reference: .adaptersDisabled, rewards: Self.reward(),
                                      encoder: try TrainingFixtures.encoder(folder), prompts: PPOTrainerTests.prompts(8))
        let history = try trainer.train().history
        let kls = history.compactMap { $0["kl"] }
        XCTAssertEqual(kls.count, 3)
        XCTAssertEqual(kls[0], 0, accuracy: 1e-6, "zero adapters: the policy is its base")
        XCTAssertGreaterThan(kls[2], 0, "the adapters moved the policy: \(kls)")
        XCTAssertEqual(model.namedParameters().filter { !$0.tensor.requiresGrad }.map(\.tensor.scalars), frozen, "the base is unchanged")
    }

    /// Leave-one-out: each advantage is the reward minus the mean of the others, so a group's advantages sum to 0 and
    /// equal G/(G − 1) × the GRPO-style centred reward.
    func testLeaveOneOutAdvantages() {
        let rewards: [Float] = [1, 0, 0, 3, 2, 2, 2, 2]
        let advantages = RLOOLoss.advantages(rewards: rewards, groupSize: 4, normalize: false)
        XCTAssertEqual(advantages[0], 1 - 1, accuracy: 1e-6)  // 1 − mean(0, 0, 3)
        XCTAssertEqual(advantages[3], 3 - 1.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(advantages[0..<4].reduce(0, +), 0, accuracy: 1e-6)
        XCTAssertEqual(Array(advantages[4...]), [0, 0, 0, 0])
        let centred = GRPOLoss.advantages(rewards: rewards, groupSize: 4, scaling: .none).advantages
        for (loo, grpo) in zip(advantages, centred) { XCTAssertEqual(loo, grpo * 4 / 3, accuracy: 1e-6) }
        let zeroStd = GRPOLoss.advantages(rewards: rewards, groupSize: 4, scaling: .group).zeroStd
        XCTAssertEqual(zeroStd, [false, false, false, false, true, true, true, true])
    }

    func testExactMatchReadsTheLastNumber() throws {
        XCTAssertEqual(VerifiableRewards.lastNumber(in: "3 + 4 = 7."), 7)
        XCTAssertEqual(VerifiableRewards.lastNumber(in: "so the answer is -12"), -12)
        XCTAssertEqual(VerifiableRewards.lastNumber(in: "total: 1,024 apples"), 1024)
        XCTAssertEqual(VerifiableRewards.lastNumber(in: "#### 2.5"), 2.5)
        XCTAssertNil(VerifiableRewards.lastNumber(in: "no digits - here."))
        func rollout(_ response: String, answer: JSONValue?) -> ScoredRollout {
            var item = ScoredRollout(promptIds: [1], responseIds: [2], prompt: "What is 3 + 4?", response: response, endsWithStopToken: true)
            if let answer { item.columns = [JSONValue.Member("answer", answer)] }
            return item
        }
        let reward = ExactMatchReward()
        XCTAssertEqual(try reward.scores([rollout(" 7", answer: .number(JSONNumber(7))), rollout("It is 8", answer: .string("#### 7")),
                                          rollout("7 or 8", answer: .string("7"))]), [1, 0, 0])
        XCTAssertThrowsError(try reward.scores([rollout("7", answer: nil)])) { error in
            XCTAssertTrue("\(error)".contains("answer or solution column"), "\(error)")
        }
        let rows = [Example(.promptOnly(prompt: .standard("1+1=")), line: 1, extras: [JSONValue.Member("solution", .string("#### 2"))]),
                    Example(.promptOnly(prompt: .standard("2+2=")), line: 2, extras: [JSONValue.Member("answer", .string("four"))])]
        XCTAssertNoThrow(try reward.check(Array(rows.prefix(1)), source: "data.jsonl"))
        XCTAssertThrowsError(try reward.check(rows, source: "data.jsonl")) { XCTAssertTrue("\($0)".contains("data.jsonl:2: the answer column holds no number"), "\($0)") }
        let length = SoftOverlongPunishment(maximumLength: 8, cache: 4)
        let lengths = [3, 4, 6, 8, 9].map { ScoredRollout(promptIds: [], responseIds: [Int32](repeating: 1, count: $0), prompt: "", response: "",
                                                          endsWithStopToken: false) }
        XCTAssertEqual(try length.scores(lengths), [0, 0, -0.5, -1, -1])
    }

    func testCommandRewardSpeaksJSONLinesAndNumbers() throws {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("charter-reward-\(UUID().uuidString).sh")
        defer { try? FileManager.default.removeItem(at: script) }
        // One line per completion: 1 when the JSON line carries answer 7, else 0.25.
        try "while IFS= read -r line; do case \"$line\" in *'\"answer\":7'*) echo 1;; *) echo 0.25;; esac; done\n"
            .write(to: script, atomically: true, encoding: .utf8)
        var first = ScoredRollout(promptIds: [1, 2], responseIds: [3], prompt: "p", response: "c", endsWithStopToken: true)
        first.columns = [JSONValue.Member("answer", .number(JSONNumber(7)))]
        let second = ScoredRollout(promptIds: [1], responseIds: [4], prompt: "q", response: "d", endsWithStopToken: false)
        XCTAssertEqual(CommandReward.line(for: first), #"{"prompt":"p","completion":"c","prompt_ids":[1,2],"completion_ids":[3],"answer":7}"#)
        XCTAssertEqual(try CommandReward(command: "/bin/sh \(script.path)").scores([first, second]), [1, 0.25])
        // A conversational prompt arrives as TRL passes it to reward functions: the prompt's messages, and the
        // completion as one assistant message; the program can tell the two formats apart.
        var chat = ScoredRollout(promptIds: [1, 2], responseIds: [3], prompt: "<|user|>p<|assistant|>", response: "c", endsWithStopToken: true)
        chat.promptMessages = [Message(role: .system, content: "s"), Message(role: .user, content: "p")]
        chat.columns = first.columns
        XCTAssertEqual(CommandReward.line(for: chat), #"{"prompt":[{"role":"system","content":"s"},{"role":"user","content":"p"}],"#
                       + #""completion":[{"role":"assistant","content":"c"}],"prompt_ids":[1,2],"completion_ids":[3],"answer":7}"#)
        let formats = FileManager.default.temporaryDirectory.appendingPathComponent("charter-reward-\(UUID().uuidString).sh")
        defer { try? FileManager.default.removeItem(at: formats) }
        try "while IFS= read -r line; do case \"$line\" in *'\"completion\":[{\"role\":\"assistant\"'*) echo 2;; *) echo 3;; esac; done\n"
            .write(to: formats, atomically: true, encoding: .utf8)
        XCTAssertEqual(try CommandReward(command: "/bin/sh \(formats.path)").scores([chat, first]), [2, 3])
        XCTAssertThrowsError(try CommandReward(command: "/bin/sh -c true").scores([first])) { error in
            XCTAssertTrue("\(error)".contains("wrote 0 lines for 1 completions"), "\(error)")
        }
        XCTAssertThrowsError(try CommandReward(command: "/bin/sh -c false").scores([first])) { error in
            XCTAssertTrue("\(error)".contains("exited with status 1"), "\(error)")
        }
    }

    func testSettingsFollowTRL() throws {
        let defaults = GRPOConfiguration()
        XCTAssertEqual(defaults.beta, 0)
        XCTAssertEqual(defaults.lossType, "dapo")
        XCTAssertEqual(defaults.scaleRewards, "group")
        XCTAssertEqual(defaults.generationCount, 8)
        XCTAssertEqual(defaults.training.learningRate, 1e-6)
        XCTAssertEqual(RLOOConfiguration().beta, 0.05)
        XCTAssertEqual(RLOOConfiguration().generationCount, 2)
        func decode(_ values: [String: Any]) throws -> GRPOConfiguration {
            var recipe = TrainingRecipe(allowedKeys: GRPOConfiguration.keys)
            try recipe.override(values)
            return try recipe.decode(GRPOConfiguration.self)
        }
        XCTAssertEqual(try decode(["scale_rewards": false]).scaleRewards, "none")
        XCTAssertEqual(try decode(["scale_rewards": true]).scaleRewards, "group")
        XCTAssertEqual(try decode(["scale_rewards": "batch", "reward_weights": [1.0, 0.5], "loss_type": "dr_grpo"]).rewardWeights, [1, 0.5])
        XCTAssertThrowsError(try decode(["scale_rewards": "sometimes"])) { XCTAssertTrue("\($0)".contains("scale_rewards"), "\($0)") }
        XCTAssertThrowsError(try decode(["loss_type": "cispo"]).validate()) { XCTAssertTrue("\($0)".contains("loss_type"), "\($0)") }
        var changed = GRPOConfiguration()
        (changed.scaleRewards, changed.rewardWeights, changed.epsilonHigh, changed.useBiasCorrectionKL) = ("none", [2, 0.5], 0.28, false)
        XCTAssertEqual(try JSONDecoder().decode(GRPOConfiguration.self, from: JSONEncoder().encode(changed)), changed, "written keys read back")
        let sampling = try decode(["top_p": 0.9, "top_k": 5, "min_p": 0.05]).rollout
        XCTAssertEqual([sampling.topP, Float(sampling.topK), sampling.minP], [0.9, 5, 0.05], "TRL's sampling keys reach the rollouts")
        XCTAssertThrowsError(try decode(["top_p": 0.0]).validate()) { XCTAssertTrue("\($0)".contains("top_p"), "\($0)") }
        XCTAssertThrowsError(try decode(["top_k": -1]).validate()) { XCTAssertTrue("\($0)".contains("top_k"), "\($0)") }
        var configuration = GRPOConfiguration()
        configuration.training.batchSize = 6
        configuration.generationCount = 4
        XCTAssertThrowsError(try configuration.validate()) { XCTAssertTrue("\($0)".contains("num_generations"), "\($0)") }
    }
}
