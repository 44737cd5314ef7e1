import Datasets
import Foundation
import XCTest
@testable import Alignment
import LanguageModels
import Settings

/// GRPO, RLOO and online DPO read a reward-model ensemble as PPO reads it: the `reward_aggregation`,
/// `reward_uncertainty_penalty`, `principle_weights` and `principle_groups` keys, with PPO's checks and messages, and
/// per-head metrics under the trainers' names for rewards.
final class GroupRolloutEnsembleTests: XCTestCase {
    /// Three named heads that score a completion differently; the first records the rollouts it is asked about.
    final class Heads {
        var seen: [ScoredRollout] = []
        let names = ["kind", "blunt", "terse"]
        let standardisation: [(mean: Double, deviation: Double)] = [(0.3, 0.5), (4, 2), (1, 1.5)]

        var members: [RewardFunction] {
            [ClosureReward { [unowned self] rollout -> Float in
                 seen.append(rollout)
                 return Float(rollout.responseIds.filter { $0 % 3 == 0 }.count)
             },
             ClosureReward { Float($0.responseIds.count) },
             ClosureReward { Float(($0.responseIds.first ?? 0) % 5) }]
        }

        func ensemble(_ aggregation: RewardAggregation) -> EnsembleReward {
            EnsembleReward(members: members, standardisation: standardisation, aggregation: aggregation, heads: names)
        }
    }

    /// One GRPO step per aggregation on the same rollouts (same seed, and the update comes after the scoring): the
    /// reward the step logs (mean and standard deviation over completions) is `EnsembleReward.aggregate` of the
    /// members' standardised scores of exactly the completions the step scored, each head's mean is logged as
    /// `rewards/<name>/head/<HEAD>/mean`, and the aggregations give different rewards.
    func testEachAggregationIsTheRewardAGRPOStepSees() throws {
        let folder = try PPOTrainerTests.peakedModelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let specifications: [(name: String, weights: String?, groups: String?, penalty: Double)] = [
            ("mean", nil, nil, 1), ("min", nil, nil, 1), ("uncertainty", nil, nil, 0.5),
            ("weighted", "kind=0.7,blunt=0.3,terse=0", nil, 1), ("maxmin", nil, "kind+blunt,terse", 1),
        ]
        let aggregations: [(RewardAggregationSettings, RewardAggregation)] = try specifications.map { name, weights, groups, penalty in
            var settings = RewardAggregationSettings()
            (settings.name, settings.principleWeights, settings.principleGroups, settings.uncertaintyPenalty) = (name, weights, groups, penalty)
            return (settings, try settings.aggregation)
        }
        XCTAssertEqual(aggregations.map(\.1), [.mean, .worstCase, .uncertaintyWeighted(penalty: 0.5),
                                               .weighted(["kind": 0.7, "blunt": 0.3, "terse": 0]), .maxMin([["kind", "blunt"], ["terse"]])])
        var rewardMeans: [Double] = []
        var firstRollouts: [String]?
        for (settings, aggregation) in aggregations {
            let heads = Heads()
            let ensemble = heads.ensemble(aggregation)
            var configuration = GRPOTrainerTests.configuration(folder, iterations: 1)
            configuration.beta = 0
            configuration.training.outputDirectory = folder.appendingPathComponent("grpo-\(settings.name)").path
            configuration.ensemble = settings
            let trainer = try GRPOTrainer(configuration: configuration, policy: try TrainableModel(directory: folder), reference: nil,
                                          rewards: [NamedReward(name: "ensemble", function: ensemble)],
                                          encoder: try TrainingFixtures.encoder(folder), prompts: PPOTrainerTests.prompts(2))
            let metrics = try XCTUnwrap(try trainer.train().history.first)
            let seen = heads.seen
            XCTAssertEqual(seen.count, 8, "one scoring of the 2 prompts × 4 completions")
            let responses = seen.map { $0.responseIds.map(String.init).joined(separator: " ") }
            XCTAssertEqual(responses, firstRollouts ?? responses, "every aggregation scores the same completions")
            firstRollouts = responses

            let scores = try ensemble.memberScores(seen)
            let expected = EnsembleReward.aggregate(scores, aggregation, heads: heads.names).values.map { Double(Float($0)) }
            let mean = expected.reduce(0, +) / Double(expected.count)
            XCTAssertEqual(try XCTUnwrap(metrics["rewards/ensemble/mean"]), mean, accuracy: 1e-9, "\(aggregation)")
            XCTAssertEqual(try XCTUnwrap(metrics["rewards/ensemble/std"]), GRPOLoss.standardDeviation(expected[...]), accuracy: 1e-9, "\(aggregation)")
            XCTAssertEqual(try XCTUnwrap(metrics["reward"]), mean, accuracy: 1e-9, "the only reward, weight 1")
            for (head, column) in zip(heads.names, scores) {
                XCTAssertEqual(try XCTUnwrap(metrics["rewards/ensemble/head/\(head)/mean"], "\(metrics.keys.sorted())"),
                               column.reduce(0, +) / Double(column.count), accuracy: 1e-12)
            }
            XCTAssertNotNil(metrics["rewards/ensemble/ensemble_std"], "\(metrics.keys.sorted())")
            rewardMeans.append(mean)
        }
        XCTAssertEqual(Set(rewardMeans.map { ($0 * 1e6).rounded() }).count, aggregations.count, "each aggregation gives its own reward: \(rewardMeans)")
    }

    /// The ensemble keys reach every group-rollout trainer's configuration with PPO's checks and messages.
    func testTheEnsembleKeysAreCheckedAsPPOChecksThem() throws {
        func problem<T: KeyedSettings>(_ type: T.Type, _ values: [String: Any], validate: (T) throws -> Void) -> String {
            do {
                var recipe = TrainingRecipe(allowedKeys: T.keys)
                try recipe.override(values)
                try validate(try recipe.decode(type))
                return "accepted"
            } catch { return "\(error)" }
        }
        let cases: [([String: Any], String)] = [
            (["reward_aggregation": "min", "principle_weights": "kind=1"], "principle_weights: applies to reward_aggregation: weighted (got \"min\")"),
            (["reward_aggregation": "weighted"], "principle_weights: reward_aggregation: weighted needs the heads' weights"),
            (["principle_groups": "kind+blunt"], "principle_groups: applies to reward_aggregation: maxmin (got \"mean\")"),
            (["reward_aggregation": "median"], "reward_aggregation: must be one of mean, min, uncertainty, weighted, maxmin"),
            (["reward_aggregation": "weighted", "principle_weights": "kind=-1"], "principle_weights: must be head=weight"),
        ]
        for (values, message) in cases {
            let ppo = problem(PPOConfiguration.self, values) { try $0.validate() }
            XCTAssertTrue(ppo.contains(message), "PPO: \(ppo)")
            for found in [problem(GRPOConfiguration.self, values) { try $0.validate() }, problem(RLOOConfiguration.self, values) { try $0.validate() },
                          problem(OnlineDPOConfiguration.self, values) { try $0.validate() }] {
                XCTAssertEqual(found, ppo, "the same message as PPO's for \(values)")
            }
        }
        var weighted = GRPOConfiguration()
        (weighted.ensemble.name, weighted.ensemble.principleWeights) = ("weighted", "kind=1")
        XCTAssertEqual(try weighted.ensemble.aggregation, .weighted(["kind": 1]))
        XCTAssertEqual(try JSONDecoder().decode(GRPOConfiguration.self, from: JSONEncoder().encode(weighted)), weighted, "written keys read back")
    }

    /// An aggregation is refused where there is nothing to aggregate (no ensemble among the rewards, or a single
    /// reward model folder), and a head-combining one that leaves out a head or names an unknown one is refused
    /// before training, naming `reward_aggregation` and the head.
    func testAggregationsWithoutAnEnsembleOrWithAMissingHeadAreRefused() throws {
        let folder = try PPOTrainerTests.peakedModelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = GRPOTrainerTests.configuration(folder, iterations: 1)
        configuration.beta = 0
        configuration.ensemble.name = "min"
        XCTAssertThrowsError(try GRPOTrainer(configuration: configuration, policy: try TrainableModel(directory: folder), reference: nil,
                                             rewards: GRPOTrainerTests.reward(), encoder: try TrainingFixtures.encoder(folder),
                                             prompts: PPOTrainerTests.prompts(2))) {
            XCTAssertEqual(($0 as? SettingsError)?.key, "reward_aggregation", "\($0)")
            XCTAssertTrue("\($0)".contains("no reward is a reward-model ensemble folder"), "\($0)")
        }
        XCTAssertThrowsError(try PPOModelFolders(policy: folder, rewardModel: folder).rewardFunction(aggregation: .worstCase, seed: 1)) {
            XCTAssertEqual(($0 as? SettingsError)?.key, "reward_aggregation", "\($0)")
            XCTAssertTrue("\($0)".contains("is one reward model, not an ensemble folder"), "\($0)")
        }
        // Two heads whose members are the fixture causal LM (each draws its score layer from its seed).
        let ensemble = folder.appendingPathComponent("heads")
        try FileManager.default.createDirectory(at: ensemble, withIntermediateDirectories: true)
        try RewardEnsembleManifest(members: ["kind", "blunt"].enumerated().map { index, head in
            .init(path: folder.path, seed: UInt64(index), trainingPairs: 0, bootstrap: false, rewardMean: 0, rewardStandardDeviation: 1, head: head)
        }).write(to: ensemble)
        let folders = PPOModelFolders(policy: folder, rewardModel: ensemble)
        XCTAssertThrowsError(try folders.rewardFunction(aggregation: .weighted(["kind": 1]), seed: 1)) {
            XCTAssertTrue("\($0)".contains("reward_aggregation weighted (kind=1.0) does not name head(s) blunt"), "\($0)")
        }
        XCTAssertThrowsError(try folders.rewardFunction(aggregation: .maxMin([["kind"], ["blunt", "honest"]]), seed: 1)) {
            XCTAssertTrue("\($0)".contains("no head named honest"), "\($0)")
        }
        let loaded = try XCTUnwrap(try folders.rewardFunction(aggregation: .weighted(["kind": 0.7, "blunt": 0.3]), seed: 1) as? EnsembleReward)
        XCTAssertEqual(loaded.heads, ["kind", "blunt"])
        XCTAssertEqual(loaded.aggregation, .weighted(["kind": 0.7, "blunt": 0.3]))
    }
}
