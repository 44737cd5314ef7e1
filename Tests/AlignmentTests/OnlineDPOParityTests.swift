import Datasets
import Foundation
import JSON
import XCTest
@testable import Alignment
import LanguageModels
import Settings
import Tensors

/// Online DPO against TRL 1.16 on fixed completions (Fixtures/trl/make_online_dpo_fixtures.py wrote
/// expected_online_dpo.json by overriding TRL's generation and running its own `training_step`): for the same prompts,
/// completions and scores, one step's loss agrees within 1e-4 and its gradient norm and logged statistics within 1e-4
/// relative — sigmoid and IPO, β 0.1/0.3/0.5, missing_eos_penalty, a tie, completions of equal and unequal lengths —
/// and a judge that ranks the pairs as the scores do gives the same loss.
final class OnlineDPOParityTests: XCTestCase {
    static let fixtures = DPOParityTests.fixtures
    /// The statistics TRL sums over padding too (see the fixture script); compared with the padding-free values.
    static let paddingSensitive: Set<String> = ["objective/kl", "objective/entropy", "objective/non_score_reward", "objective/rlhf_reward"]

    struct Scenario {
        var name: String
        var object: [String: Any]
        var completions: [[[Int32]]]
        var rewards: [[Float]]

        var equalLengths: Bool { Set(completions.flatMap { $0.map(\.count) }).count == 1 }
    }

    static func load() throws -> (object: [String: Any], scenarios: [Scenario]) {
        let url = fixtures.appendingPathComponent("expected_online_dpo.json")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let scenarios = try XCTUnwrap(object["scenarios"] as? [String: [String: Any]]).sorted { $0.key < $1.key }.map { name, value in
            Scenario(name: name, object: value,
                     completions: try XCTUnwrap(value["completions"] as? [[[Int]]]).map { $0.map { $0.map(Int32.init) } },
                     rewards: try XCTUnwrap(value["rewards"] as? [[Double]]).map { $0.map(Float.init) })
        }
        return (object, scenarios)
    }

    /// The fixture's trainer: policy/ against reference/, one micro-batch of every prompt.
    static func trainer(_ scenario: Scenario, object: [String: Any], judge: PairwiseJudge? = nil) throws -> OnlineDPOTrainer {
        let settings = try XCTUnwrap(scenario.object["config"] as? [String: Any])
        var configuration = OnlineDPOConfiguration()
        let prompts = try XCTUnwrap(object["prompts"] as? [String])
        configuration.training.batchSize = prompts.count
        configuration.training.gradientAccumulationSteps = 1
        configuration.maximumNewTokens = try XCTUnwrap(object["max_new_tokens"] as? Int)
        configuration.beta = try XCTUnwrap(settings["beta"] as? [Double]).map(Float.init)
        configuration.lossType = try XCTUnwrap(settings["loss_type"] as? String)
        configuration.missingEOSPenalty = (settings["missing_eos_penalty"] as? Double).map(Float.init)
        let policyFolder = fixtures.appendingPathComponent("policy")
        let table = Dictionary(uniqueKeysWithValues: zip(scenario.completions.flatMap { $0 }, scenario.rewards.flatMap { $0 }))
        let rewards = judge != nil ? [] : [NamedReward(name: "fixed", function: ClosureReward { rollout in
            guard let score = table[rollout.responseIds] else { throw TrainingError.data("no fixed score for \(rollout.responseIds)") }
            return score
        })]
        return try OnlineDPOTrainer(configuration: configuration, policy: try TrainableModel(directory: policyFolder),
                                    reference: .model(try ReferencePolicy.frozenModel(fixtures.appendingPathComponent("reference"))),
                                    rewards: rewards, judge: judge, encoder: try ExampleEncoder.load(directory: policyFolder),
                                    prompts: prompts.map { Example(.promptOnly(prompt: .standard($0))) })
    }

    /// One step on the fixture's completions: scores (or the judge), ranking, reference log-probs, loss and gradient.
    static func step(_ core: GroupRolloutTrainer, _ scenario: Scenario, promptIds: [[Int32]]) throws -> (loss: Double, norm: Double, metrics: [String: Double]) {
        let sequences = scenario.completions.enumerated().flatMap { pair, completions in completions.map { promptIds[pair] + $0 } }
        var rollouts = GroupRollouts(sequences: sequences, promptLengths: sequences.indices.map { promptIds[$0 / 2].count }, groupSize: 2,
                                     endOfSequence: 0, maskTruncated: false)
        let contexts = [GroupRolloutTrainer.PromptContext](repeating: .init(columns: [], messages: nil), count: rollouts.count)
        if let judge = core.judge {
            rollouts.firstIsChosen = try core.judge(rollouts, with: judge, contexts: contexts)
        } else {
            rollouts.rewardsPerFunction = try core.score(rollouts, contexts: contexts)
        }
        _ = try core.prepare(&rollouts)
        for parameter in core.policy.trainableParameters { parameter.grad = nil }
        let (loss, metrics) = core.microBatchLoss(rollouts, indices: Array(0..<rollouts.count), generationBatchTokens: 0)
        loss.backward()
        let norm = core.policy.trainableParameters.reduce(0.0) { total, parameter in
            total + (parameter.grad?.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } ?? 0)
        }.squareRoot()
        return (Double(loss.item), norm, metrics)
    }

    func testOneStepMatchesTRL() throws {
        let (object, scenarios) = try Self.load()
        XCTAssertEqual(scenarios.count, 5)
        let promptIds = try XCTUnwrap(object["prompt_ids"] as? [[Int]]).map { $0.map(Int32.init) }
        let encoder = try ExampleEncoder.load(directory: Self.fixtures.appendingPathComponent("policy"))
        XCTAssertEqual(try XCTUnwrap(object["prompts"] as? [String]).map { encoder.encode($0) }, promptIds, "Charter tokenizes the prompts as TRL")
        for scenario in scenarios {
            let trainer = try Self.trainer(scenario, object: object)
            let (loss, norm, metrics) = try Self.step(trainer.core, scenario, promptIds: promptIds)
            let trlLoss = try XCTUnwrap(scenario.object["loss"] as? Double)
            XCTAssertEqual(loss, trlLoss, accuracy: 1e-4 * max(1, abs(trlLoss)), "\(scenario.name): loss")
            let trlNorm = try XCTUnwrap(scenario.object["grad_norm"] as? Double)
            XCTAssertEqual(norm, trlNorm, accuracy: 1e-4 * trlNorm, "\(scenario.name): grad_norm")
            let masked = try XCTUnwrap(scenario.object["masked"] as? [String: Double])
            var report = [String(format: "loss %.1e grad_norm %.1e", abs(loss - trlLoss), abs(norm - trlNorm) / trlNorm)]
            for (key, logged) in try XCTUnwrap(scenario.object["metrics"] as? [String: Double]).sorted(by: { $0.key < $1.key }) {
                let value = Self.paddingSensitive.contains(key) && !scenario.equalLengths ? try XCTUnwrap(masked[key]) : logged
                guard let mine = metrics[key] else { XCTFail("\(scenario.name): Charter has no \(key)"); continue }
                XCTAssertEqual(mine, value, accuracy: 1e-4 * max(1, abs(value)), "\(scenario.name): \(key)")
                report.append("\(key) \(String(format: "%.1e", abs(mine - value)))")
            }
            if scenario.equalLengths {
                for key in Self.paddingSensitive { XCTAssertEqual(masked[key] ?? .nan, metrics[key] ?? 0, accuracy: 1e-4 * max(1, abs(masked[key] ?? 0)), "\(scenario.name): \(key) without padding") }
            }
            print("parity online dpo \(scenario.name): \(report.joined(separator: ", "))")
        }
    }

    /// A judge that prefers what the fixed scores prefer gives TRL's loss and statistics, without the score ones.
    func testJudgeRankingAsTheScoresGivesTRLLoss() throws {
        let (object, scenarios) = try Self.load()
        let promptIds = try XCTUnwrap(object["prompt_ids"] as? [[Int]]).map { $0.map(Int32.init) }
        let scenario = try XCTUnwrap(scenarios.first { $0.name == "sigmoid" })
        let table = Dictionary(uniqueKeysWithValues: zip(scenario.completions.flatMap { $0 }, scenario.rewards.flatMap { $0 }))
        var asked = 0
        let judge = ClosureJudge(name: "fixed") { pair in
            asked += 1
            XCTAssertFalse(pair.first.prompt.isEmpty)
            return table[pair.first.responseIds]! >= table[pair.second.responseIds]! ? 0.8 : 0.3
        }
        let (loss, _, metrics) = try Self.step(try Self.trainer(scenario, object: object, judge: judge).core, scenario, promptIds: promptIds)
        XCTAssertEqual(asked, 3)
        XCTAssertEqual(loss, try XCTUnwrap(scenario.object["loss"] as? Double), accuracy: 1e-4)
        let logged = try XCTUnwrap(scenario.object["metrics"] as? [String: Double])
        XCTAssertEqual(try XCTUnwrap(metrics["rewards/margins"]), try XCTUnwrap(logged["rewards/margins"]), accuracy: 1e-4)
        XCTAssertNil(metrics["objective/scores"], "a judge gives no scores")

        // The opposite judge swaps every pair: the margins change sign.
        let contrary = ClosureJudge { pair in table[pair.first.responseIds]! >= table[pair.second.responseIds]! ? 0.2 : 0.9 }
        let (_, _, swapped) = try Self.step(try Self.trainer(scenario, object: object, judge: contrary).core, scenario, promptIds: promptIds)
        XCTAssertEqual(try XCTUnwrap(swapped["rewards/margins"]), -(try XCTUnwrap(logged["rewards/margins"])), accuracy: 1e-4)
    }

    func testDefaultsAreTRLs() throws {
        let (object, _) = try Self.load()
        let defaults = try XCTUnwrap(object["defaults"] as? [String: Any])
        let configuration = OnlineDPOConfiguration()
        XCTAssertEqual(Double(configuration.training.learningRate), try XCTUnwrap(defaults["learning_rate"] as? Double), accuracy: 1e-12)
        XCTAssertEqual(configuration.maximumNewTokens, defaults["max_new_tokens"] as? Int)
        XCTAssertEqual(configuration.maximumLength, defaults["max_length"] as? Int)
        XCTAssertEqual(Double(configuration.temperature), try XCTUnwrap(defaults["temperature"] as? Double), accuracy: 1e-7)
        XCTAssertEqual(Double(configuration.topP), try XCTUnwrap(defaults["top_p"] as? Double))
        XCTAssertEqual(configuration.topK, defaults["top_k"] as? Int)
        XCTAssertTrue(defaults["min_p"] is NSNull && configuration.minP == nil)
        XCTAssertTrue(defaults["missing_eos_penalty"] is NSNull && configuration.missingEOSPenalty == nil)
        XCTAssertEqual(configuration.beta.map(Double.init).map { ($0 * 1e6).rounded() }, [try XCTUnwrap(defaults["beta"] as? Double) * 1e6])
        XCTAssertEqual(configuration.lossType, defaults["loss_type"] as? String)
        XCTAssertEqual(configuration.disableDropout, defaults["disable_dropout"] as? Bool)
        XCTAssertTrue(defaults["reward_weights"] is NSNull && configuration.rewardWeights == nil)
        XCTAssertEqual(configuration.training.loggingSteps, defaults["logging_steps"] as? Int)
        XCTAssertEqual(configuration.training.batchSize, defaults["per_device_train_batch_size"] as? Int)
        XCTAssertEqual(configuration.training.gradientAccumulationSteps, defaults["gradient_accumulation_steps"] as? Int)
        XCTAssertEqual(Double(configuration.training.maximumGradientNorm), try XCTUnwrap(defaults["max_grad_norm"] as? Double))
        XCTAssertEqual(configuration.training.seed, UInt64(try XCTUnwrap(defaults["seed"] as? Int)))
    }
}
