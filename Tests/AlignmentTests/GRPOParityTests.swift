import Datasets
import Foundation
import XCTest
@testable import Alignment
import LanguageModels
import Tensors

/// GRPO and RLOO against TRL 1.16 on fixed completions (Fixtures/trl/make_grpo_rloo_fixtures.py wrote
/// expected_grpo_rloo.json by overriding TRL's generation and running its own scoring, advantage and loss code): for
/// the same prompts, completions and rewards, the advantages and one step's loss agree within 1e-4, the gradient norm
/// and the logged metrics within 1e-4 relative, for every loss_type with β = 0 and β > 0, each reward scaling, clipped
/// ratios, and RLOO with and without the KL penalty and advantage normalisation.
final class GRPOParityTests: XCTestCase {
    static let fixtures = DPOParityTests.fixtures

    struct Fixture {
        var object: [String: Any]
        var promptIds: [[Int32]]
        var completionIds: [[Int32]]
        var rewards: [[Float]]
        var offsets: [[Float]]
        var groupSize: Int

        init() throws {
            let url = GRPOParityTests.fixtures.appendingPathComponent("expected_grpo_rloo.json")
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            self.object = object
            func ids(_ key: String) throws -> [[Int32]] { try XCTUnwrap(object[key] as? [[Int]]).map { $0.map(Int32.init) } }
            promptIds = try ids("prompt_ids")
            completionIds = try ids("completion_ids")
            let table = try XCTUnwrap(object["rewards"] as? [String: [Double]])
            rewards = try ["exact", "format"].map { try XCTUnwrap(table[$0]).map(Float.init) }
            offsets = try XCTUnwrap(object["old_logp_offsets"] as? [[Double]]).map { $0.map(Float.init) }
            groupSize = try XCTUnwrap(object["num_generations"] as? Int)
        }

        func scenarios(_ method: String) throws -> [String: [String: Any]] {
            try XCTUnwrap(object[method] as? [String: [String: Any]])
        }

        /// Prompt i's ids followed by each of its completions, group by group.
        var rollouts: GroupRollouts {
            let sequences = completionIds.enumerated().map { promptIds[$0.offset / groupSize] + $0.element }
            var rollouts = GroupRollouts(sequences: sequences, promptLengths: completionIds.indices.map { promptIds[$0 / groupSize].count },
                                         groupSize: groupSize, endOfSequence: 0, maskTruncated: false)
            rollouts.rewardsPerFunction = rewards
            return rollouts
        }
    }

    /// Training settings of the fixture: one generation batch of 9 completions, one micro-batch.
    static func training() -> TrainingArguments {
        var arguments = TrainingArguments()
        arguments.batchSize = 9
        arguments.gradientAccumulationSteps = 1
        return arguments
    }

    static func rewards() -> [NamedReward] {
        ["exact", "format"].map { NamedReward(name: $0, function: ClosureReward { _ in 0 }) }
    }

    static func reference(beta: Double) throws -> PPOReference? {
        beta > 0 ? .model(try ReferencePolicy.frozenModel(fixtures.appendingPathComponent("reference"))) : nil
    }

    /// Runs the fixture's batch through `core` (advantages, one loss and its gradient) and compares with TRL.
    static func assertMatches(_ core: GroupRolloutTrainer, fixture: Fixture, expected: [String: Any], scenario: String,
                              file: StaticString = #filePath, line: UInt = #line) throws {
        var rollouts = fixture.rollouts
        let current = core.logProbabilities(rollouts, of: nil)
        var metrics = try core.prepare(&rollouts)
        if expected["clipped"] as? Bool == true {
            rollouts.oldLogProbabilities = zip(current, fixture.offsets).map { zip($0, $1).map(+) }
        }
        let tokens = (0..<rollouts.count).reduce(0) { $0 + rollouts.lossTokens($1) }
        for parameter in core.policy.trainableParameters { parameter.grad = nil }
        let (loss, statistics) = core.microBatchLoss(rollouts, indices: Array(0..<rollouts.count), generationBatchTokens: tokens)
        loss.backward()
        metrics.merge(statistics) { $1 }
        let gradientNorm = core.policy.trainableParameters.reduce(0.0) { total, parameter in
            total + (parameter.grad?.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } ?? 0)
        }.squareRoot()

        let advantages = try XCTUnwrap(expected["advantages"] as? [Double], file: file, line: line)
        XCTAssertEqual(rollouts.advantages.count, advantages.count, scenario, file: file, line: line)
        for (index, (mine, theirs)) in zip(rollouts.advantages, advantages).enumerated() {
            XCTAssertEqual(Double(mine), theirs, accuracy: 1e-4, "\(scenario): advantage \(index)", file: file, line: line)
        }
        let trlLoss = try XCTUnwrap(expected["loss"] as? Double, file: file, line: line)
        XCTAssertEqual(Double(loss.item), trlLoss, accuracy: 1e-4 * max(1, abs(trlLoss)), "\(scenario): loss", file: file, line: line)
        let trlNorm = try XCTUnwrap(expected["grad_norm"] as? Double, file: file, line: line)
        XCTAssertEqual(gradientNorm, trlNorm, accuracy: 1e-4 * trlNorm, "\(scenario): grad_norm", file: file, line: line)
        var report = [String(format: "loss %.2e grad_norm %.2e", abs(Double(loss.item) - trlLoss), abs(gradientNorm - trlNorm) / trlNorm)]
        for (key, value) in try XCTUnwrap(expected["metrics"] as? [String: Double], file: file, line: line).sorted(by: { $0.key < $1.key }) {
            guard let mine = metrics[key] else { XCTFail("\(scenario): Charter has no \(key)", file: file, line: line); continue }
            XCTAssertEqual(mine, value, accuracy: 1e-4 * max(1, abs(value)), "\(scenario): \(key)", file: file, line: line)
            report.append("\(key) \(String(format: "%.1e", abs(mine - value)))")
        }
        print("parity \(scenario): \(report.joined(separator: ", "))")
    }

    func testGRPOMatchesTRL() throws {
        let fixture = try Fixture()
        let policyFolder = Self.fixtures.appendingPathComponent("policy")
        let encoder = try ExampleEncoder.load(directory: policyFolder)
        let prompts = try XCTUnwrap(fixture.object["prompts"] as? [String])
        XCTAssertEqual(prompts.map { encoder.encode($0) }, fixture.promptIds, "Charter tokenizes the prompts as TRL")
        let scenarios = try fixture.scenarios("grpo")
        XCTAssertEqual(scenarios.count, 15)
        for (name, expected) in scenarios.sorted(by: { $0.key < $1.key }) {
            let settings = try XCTUnwrap(expected["config"] as? [String: Any])
            var configuration = GRPOConfiguration()
            configuration.training = Self.training()
            configuration.generationCount = fixture.groupSize
            configuration.temperature = Float(try XCTUnwrap(fixture.object["temperature"] as? Double))
            configuration.maximumCompletionLength = try XCTUnwrap(fixture.object["max_completion_length"] as? Int)
            configuration.rewardWeights = try XCTUnwrap(fixture.object["reward_weights"] as? [Double]).map(Float.init)
            configuration.lossType = try XCTUnwrap(settings["loss_type"] as? String)
            let beta = try XCTUnwrap(settings["beta"] as? Double)
            configuration.beta = Float(beta)
            if let scale = settings["scale_rewards"] as? String { configuration.scaleRewards = scale }
            if let epsilon = settings["epsilon"] as? Double { configuration.epsilon = Float(epsilon) }
            if let high = settings["epsilon_high"] as? Double { configuration.epsilonHigh = Float(high) }
            if let correction = settings["use_bias_correction_kl"] as? Bool { configuration.useBiasCorrectionKL = correction }
            let trainer = try GRPOTrainer(configuration: configuration, policy: try TrainableModel(directory: policyFolder),
                                          reference: try Self.reference(beta: beta), rewards: Self.rewards(), encoder: encoder,
                                          prompts: prompts.map { Example(.promptOnly(prompt: .standard($0))) })
            try Self.assertMatches(trainer.core, fixture: fixture, expected: expected, scenario: "grpo " + name)
        }
    }

    func testRLOOMatchesTRL() throws {
        let fixture = try Fixture()
        let policyFolder = Self.fixtures.appendingPathComponent("policy")
        let encoder = try ExampleEncoder.load(directory: policyFolder)
        let prompts = try XCTUnwrap(fixture.object["prompts"] as? [String])
        let scenarios = try fixture.scenarios("rloo")
        XCTAssertEqual(scenarios.count, 4)
        for (name, expected) in scenarios.sorted(by: { $0.key < $1.key }) {
            let settings = try XCTUnwrap(expected["config"] as? [String: Any])
            var configuration = RLOOConfiguration()
            configuration.training = Self.training()
            configuration.generationCount = fixture.groupSize
            configuration.temperature = Float(try XCTUnwrap(fixture.object["temperature"] as? Double))
            configuration.maximumCompletionLength = try XCTUnwrap(fixture.object["max_completion_length"] as? Int)
            configuration.rewardWeights = try XCTUnwrap(fixture.object["reward_weights"] as? [Double]).map(Float.init)
            let beta = try XCTUnwrap(settings["beta"] as? Double)
            configuration.beta = Float(beta)
            configuration.normalizeAdvantages = settings["normalize_advantages"] as? Bool ?? false
            if let epsilon = settings["epsilon"] as? Double { configuration.epsilon = Float(epsilon) }
            if let high = settings["epsilon_high"] as? Double { configuration.epsilonHigh = Float(high) }
            let trainer = try RLOOTrainer(configuration: configuration, policy: try TrainableModel(directory: policyFolder),
                                          reference: try Self.reference(beta: beta), rewards: Self.rewards(), encoder: encoder,
                                          prompts: prompts.map { Example(.promptOnly(prompt: .standard($0))) })
            try Self.assertMatches(trainer.core, fixture: fixture, expected: expected, scenario: "rloo " + name)
        }
    }
}
