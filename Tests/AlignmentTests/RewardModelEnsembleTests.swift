import Datasets
import Foundation
import JSON
import XCTest
@testable import Alignment
import LanguageModels
import Settings
import Tensors

final class RewardModelEnsembleTests: XCTestCase {
    func testAggregationsFollowCosteEtAl() throws {
        let scores = [1.0, -1.0, 3.0]  // mean 1, population variance 8/3
        XCTAssertEqual(RewardAggregation.mean.aggregate(scores), 1, accuracy: 1e-12)
        XCTAssertEqual(RewardAggregation.worstCase.aggregate(scores), -1)
        XCTAssertEqual(try RewardAggregation(name: "uncertainty", penalty: 0.5).aggregate(scores), 1 - 0.5 * 8 / 3, accuracy: 1e-12)
        XCTAssertEqual(try RewardAggregation(name: "min"), .worstCase)
        XCTAssertEqual(RewardAggregation.worstCase.aggregate([2]), 2, "one member is itself")
        XCTAssertThrowsError(try RewardAggregation(name: "median")) { error in
            XCTAssertTrue("\(error)".contains("reward_aggregation"), "\(error)")
            XCTAssertTrue("\(error)".contains("mean, min, uncertainty"), "\(error)")
        }
        XCTAssertThrowsError(try RewardAggregation(name: "uncertainty", penalty: -1)) { XCTAssertTrue("\($0)".contains("reward_uncertainty_penalty")) }
        // Member-major input: per column the aggregate and the members' standard deviation.
        let (values, spread) = EnsembleReward.aggregate([[0, 2], [2, 2]], .worstCase)
        XCTAssertEqual(values, [0, 2])
        XCTAssertEqual(spread, [1, 0])
    }

    func testRecipeKeysReachPPO() throws {
        func recipe(_ values: [String: Any]) throws -> TrainingRecipe {
            var recipe = TrainingRecipe(allowedKeys: PPOConfiguration.keys)
            try recipe.override(values)
            return recipe
        }
        let configuration = try recipe(["reward_aggregation": "uncertainty", "reward_uncertainty_penalty": 2.5]).decode(PPOConfiguration.self)
        XCTAssertEqual(try configuration.ensemble.aggregation, RewardAggregation.uncertaintyWeighted(penalty: 2.5))
        XCTAssertEqual(try PPOConfiguration().ensemble.aggregation, RewardAggregation.mean)
        XCTAssertThrowsError(try recipe(["reward_aggregation": "avg"]).decode(PPOConfiguration.self).validate()) {
            XCTAssertTrue("\($0)".contains("reward_aggregation"), "\($0)")
        }
    }

    /// Three members trained with different seeds: the manifest standardises each (its rewards on its training
    /// responses have mean 0 and deviation 1 after rescaling), the members differ, and the ensemble scores as the
    /// aggregate of the standardised members.
    func testTrainedEnsembleStandardisesItsMembersAndAggregates() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = RewardConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 6)
        configuration.training.learningRate = 1e-3
        configuration.training.outputDirectory = folder.appendingPathComponent("ensemble").path
        let examples = separablePreferences(count: 24, seed: 5)
        var trained: [UInt64] = []
        let manifest = try RewardEnsembleTraining.train(configuration: configuration, base: folder, chatTemplate: nil, examples: examples,
                                                        size: 3, bootstrap: true, log: { _ in }) { trainer, arguments in
            trained.append(arguments.seed)
            _ = try TrainingLoop(arguments: arguments).run(trainer)
        }
        XCTAssertEqual(trained, [configuration.training.seed, configuration.training.seed + 1, configuration.training.seed + 2])
        let directory = URL(fileURLWithPath: configuration.training.outputDirectory)
        XCTAssertEqual(try RewardEnsembleManifest.load(directory: directory), manifest)
        XCTAssertEqual(manifest.members.map(\.path), ["member-1", "member-2", "member-3"])
        XCTAssertTrue(manifest.members.allSatisfy { $0.bootstrap && $0.trainingPairs == 24 })

        let encoder = try TrainingFixtures.encoder(folder)
        let rollouts = ["tell me about sun:", "tell me about dog:"].flatMap { prompt in
            [" a kind clear reply", " a rude vague reply"].map { response in
                ScoredRollout(promptIds: encoder.encode(prompt), responseIds: encoder.encode(response), prompt: prompt, response: response,
                              endsWithStopToken: false)
            }
        }
        let ensemble = try EnsembleReward.load(directory: directory, aggregation: .worstCase, sharesTokenizer: true)
        let members = try ensemble.memberScores(rollouts)
        XCTAssertEqual(members.count, 3)
        XCTAssertNotEqual(members[0], members[1], "members trained from different seeds must differ")
        for (index, member) in manifest.members.enumerated() {
            let raw = try SequenceClassifier.load(directory: directory.appendingPathComponent(member.path)).scores(rollouts.map { $0.promptIds + $0.responseIds })
            for (standardised, value) in zip(members[index], raw) {
                XCTAssertEqual(standardised, (Double(value) - member.rewardMean) / member.rewardStandardDeviation, accuracy: 1e-5)
            }
        }
        let scores = try ensemble.scores(rollouts)
        for column in rollouts.indices {
            XCTAssertEqual(Double(scores[column]), members.map { $0[column] }.min()!, accuracy: 1e-5)
        }
        XCTAssertGreaterThan(try XCTUnwrap(ensemble.lastMetrics["objective/ensemble_std"]), 0)
    }

    /// PPO given an ensemble folder as its reward model combines the members as `reward_aggregation` says and logs
    /// their spread.
    func testPPOTakesAnEnsembleFolderAndLogsItsSpread() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = RewardConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 3)
        configuration.training.outputDirectory = folder.appendingPathComponent("ensemble").path
        _ = try RewardEnsembleTraining.train(configuration: configuration, base: folder, chatTemplate: nil,
                                             examples: separablePreferences(count: 8, seed: 7), size: 2, bootstrap: false, log: { _ in }) {
            _ = try TrainingLoop(arguments: $1).run($0)
        }
        var ppo = PPOTrainerTests.configuration(folder, output: "ppo", iterations: 1)
        ppo.ensemble.name = "min"
        let trainer = try PPOTrainer(configuration: ppo, policy: try TrainableModel(directory: folder),
                                     folders: PPOModelFolders(policy: folder, rewardModel: URL(fileURLWithPath: configuration.training.outputDirectory)),
                                     encoder: try TrainingFixtures.encoder(folder), prompts: PPOTrainerTests.prompts(8))
        let ensemble = try XCTUnwrap(trainer.reward as? EnsembleReward)
        XCTAssertEqual(ensemble.aggregation, .worstCase)
        XCTAssertEqual(ensemble.memberCount, 2)
        let history = try trainer.train().history
        XCTAssertGreaterThan(try XCTUnwrap(history.last?["objective/ensemble_std"]), 0)
    }

    /// Weighted and MaxMin combine named heads: Σ wₕ sₕ / Σ wₕ, and the lowest group mean.
    func testHeadAggregationsWeightAndTakeTheWorstGroup() throws {
        let heads: [String?] = ["harmless", "helpful", "honest"]
        let scores = [2.0, -1.0, 0.0]
        let weighted = try RewardAggregation(name: "weighted", weights: "harmless=0.75, helpful=0.25,honest=0")
        XCTAssertEqual(weighted.aggregate(scores, heads: heads), (0.75 * 2 - 0.25) / 1.0, accuracy: 1e-12)
        let maxMin = try RewardAggregation(name: "maxmin", groups: "harmless+honest,helpful")
        XCTAssertEqual(maxMin, .maxMin([["harmless", "honest"], ["helpful"]]))
        XCTAssertEqual(maxMin.aggregate(scores, heads: heads), -1, "helpful's group (−1) is below harmless+honest's mean (1)")
        XCTAssertEqual(try RewardAggregation(name: "maxmin", groups: "harmless,helpful+honest").aggregate(scores, heads: heads), -0.5)
        let (values, _) = EnsembleReward.aggregate([[1, 3], [0, 1]], try RewardAggregation(name: "weighted", weights: "a=1,b=3"), heads: ["a", "b"])
        XCTAssertEqual(values, [0.25, 1.5])
        // Bad input names the key.
        for (weights, expected) in [("harmless", "not head=weight"), ("a=1,a=2", "given twice"), ("a=0", "positive"), ("a=-1", "≥ 0")] {
            XCTAssertThrowsError(try RewardAggregation(name: "weighted", weights: weights)) {
                XCTAssertTrue("\($0)".contains("principle_weights") && "\($0)".contains(expected), "\($0)")
            }
        }
        XCTAssertThrowsError(try RewardAggregation(name: "maxmin", groups: "a,a")) { XCTAssertTrue("\($0)".contains("two groups"), "\($0)") }
        XCTAssertThrowsError(try RewardAggregation(name: "weighted")) { XCTAssertTrue("\($0)".contains("principle_weights"), "\($0)") }
        XCTAssertThrowsError(try RewardAggregation(name: "mean", weights: "a=1")) { XCTAssertTrue("\($0)".contains("applies to reward_aggregation: weighted"), "\($0)") }
        // The heads must match the ensemble's exactly: nothing dropped without a word.
        XCTAssertNoThrow(try weighted.check(heads: heads, ensemble: "e"))
        XCTAssertThrowsError(try weighted.check(heads: ["harmless", "helpful"], ensemble: "e")) { XCTAssertTrue("\($0)".contains("no head named honest"), "\($0)") }
        XCTAssertThrowsError(try maxMin.check(heads: heads + ["fair"], ensemble: "e")) { XCTAssertTrue("\($0)".contains("does not name head(s) fair"), "\($0)") }
        XCTAssertThrowsError(try weighted.check(heads: [nil, nil], ensemble: "e")) { XCTAssertTrue("\($0)".contains("some members have no head"), "\($0)") }
        XCTAssertNoThrow(try RewardAggregation.mean.check(heads: [nil], ensemble: "e"))
    }

    /// Label records split into one preference set per principle, each ordered by that principle's own verdict.
    func testLabelRecordsSplitByPrinciple() throws {
        func record(line: Int, chosenIsFirst: Bool, verdicts: [(String, Double)]) -> Example {
            let judgements = JSONValue.array(verdicts.map { .object([.init("principle_id", .string($0.0)),
                                                                     .init("p_first", .number(JSONNumber($0.1)))]) })
            return Example(.preference(prompt: .standard("q\(line)"), chosen: .standard(" yes"), rejected: .standard(" no")), line: line,
                           chosenProbability: 0.6, extras: [.init("chosen_is_first", .bool(chosenIsFirst)), .init("judgements", judgements)])
        }
        let heads = try PrincipleHeads.pairs(fromLabels: [record(line: 1, chosenIsFirst: true, verdicts: [("harmless", 0.8), ("helpful", 0.3)]),
                                                          record(line: 2, chosenIsFirst: false, verdicts: [("helpful", 0.9)])], source: "labels.jsonl")
        XCTAssertEqual(heads.map(\.name), ["harmless", "helpful"])
        XCTAssertEqual(heads[0].examples.map { $0.preference?.chosen }, [.standard(" yes")])
        XCTAssertEqual(heads[0].examples[0].chosenProbability!, 0.8, accuracy: 1e-12)
        // helpful disagrees with record 1's label (p_first 0.3 with chosen first) and, on record 2, prefers the first
        // response, which is the rejected one: both flip.
        XCTAssertEqual(heads[1].examples.map { $0.preference?.chosen }, [.standard(" no"), .standard(" no")])
        XCTAssertEqual(heads[1].examples.map { $0.chosenProbability! }, [0.7, 0.9].map { $0 }, "")
        var broken = record(line: 7, chosenIsFirst: true, verdicts: [])
        broken.extras.removeAll { $0.key == "judgements" }
        XCTAssertThrowsError(try PrincipleHeads.pairs(fromLabels: [broken], source: "labels.jsonl")) {
            XCTAssertTrue("\($0)".contains("labels.jsonl:7") && "\($0)".contains("judgements"), "\($0)")
        }
        XCTAssertThrowsError(try PrincipleHeads.pairs(fromLabels: [record(line: 3, chosenIsFirst: true, verdicts: [("harmless", 1.5)])], source: "l")) {
            XCTAssertTrue("\($0)".contains("l:3") && "\($0)".contains("p_first"), "\($0)")
        }
    }

    /// Heads trained on their own pairs land in head-NAME folders with their names in ensemble.json; PPO combines them
    /// with principle_weights and logs each head's mean; weights naming a missing head stop the run before training.
    func testTrainedHeadsCombineInPPO() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = RewardConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 3)
        configuration.training.outputDirectory = folder.appendingPathComponent("heads").path
        let pairs = separablePreferences(count: 8, seed: 7)
        let flipped = pairs.map { example -> Example in
            let (prompt, chosen, rejected) = example.preference!
            return Example(.preference(prompt: prompt, chosen: rejected, rejected: chosen), line: example.line)
        }
        let manifest = try RewardEnsembleTraining.train(configuration: configuration, base: folder, chatTemplate: nil,
                                                        heads: [("kind", pairs), ("blunt", flipped)], log: { _ in }) {
            _ = try TrainingLoop(arguments: $1).run($0)
        }
        XCTAssertEqual(manifest.members.map(\.path), ["head-kind", "head-blunt"])
        XCTAssertEqual(manifest.heads, ["kind", "blunt"])
        let directory = URL(fileURLWithPath: configuration.training.outputDirectory)
        XCTAssertEqual(try RewardEnsembleManifest.load(directory: directory), manifest)
        XCTAssertThrowsError(try RewardEnsembleTraining.train(configuration: configuration, base: folder, chatTemplate: nil,
                                                              heads: [("a/b", pairs)], log: { _ in }) { _, _ in }) {
            XCTAssertTrue("\($0)".contains("a/b"), "\($0)")
        }

        var ppo = PPOTrainerTests.configuration(folder, output: "ppo", iterations: 1)
        ppo.ensemble.name = "weighted"
        ppo.ensemble.principleWeights = "kind=0.7,blunt=0.3"
        let trainer = try PPOTrainer(configuration: ppo, policy: try TrainableModel(directory: folder),
                                     folders: PPOModelFolders(policy: folder, rewardModel: directory),
                                     encoder: try TrainingFixtures.encoder(folder), prompts: PPOTrainerTests.prompts(8))
        XCTAssertEqual(try XCTUnwrap(trainer.reward as? EnsembleReward).heads, ["kind", "blunt"])
        let history = try trainer.train().history
        XCTAssertNotNil(history.last?["objective/head/kind"])
        XCTAssertNotNil(history.last?["objective/head/blunt"])

        ppo.ensemble.principleWeights = "kind=1"
        XCTAssertThrowsError(try PPOTrainer(configuration: ppo, policy: try TrainableModel(directory: folder),
                                            folders: PPOModelFolders(policy: folder, rewardModel: directory),
                                            encoder: try TrainingFixtures.encoder(folder), prompts: PPOTrainerTests.prompts(8))) {
            XCTAssertTrue("\($0)".contains("does not name head(s) blunt"), "\($0)")
        }
    }

    func testBrokenManifestsNameTheFileAndField() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ensemble-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent(RewardEnsembleManifest.fileName)
        for (text, expected) in [("{\"members\": []}", "members is empty"),
                                 ("{\"members\": [{\"path\": \"m\", \"seed\": 1, \"training_pairs\": 2, \"bootstrap\": false, \"reward_mean\": 0, \"reward_std\": 0}]}", "reward_std"),
                                 ("{\"members\": [{\"path\": \"m\", \"seed\": 1, \"training_pairs\": 2, \"bootstrap\": false, \"reward_mean\": 0, \"reward_std\": 1}]}", "no config.json"),
                                 ("[1]", "not a reward-model ensemble manifest")] {
            try Data(text.utf8).write(to: url)
            XCTAssertThrowsError(try RewardEnsembleManifest.load(directory: directory)) { error in
                XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains(expected), "\(error)")
            }
        }
    }
}

final class RewardHackingAlarmTests: XCTestCase {
    func testFiresWhenTheMonitorFallsWhileTheProxyRises() {
        var alarm = RewardHackingAlarm(tolerance: 0.5, smoothing: 1)  // no smoothing: the readings themselves
        // The monitor rises from 0 to 1 with the proxy, then falls while the proxy keeps rising.
        let readings: [(proxy: Double, monitor: Double)] = [(0, 0), (1, 0.5), (2, 1), (3, 0.8), (4, 0.6), (5, 0.4)]
        var fired: [Int] = []
        for (index, reading) in readings.enumerated() where alarm.observe(iteration: index + 1, proxy: reading.proxy, monitor: reading.monitor, monitorSpread: 0.1) {
            fired.append(index + 1)
        }
        // Threshold 0.5 × (1 − 0) = 0.5: the fall reaches 0.6 at iteration 6 (1 → 0.4); 0.4 at iteration 5 is not enough.
        XCTAssertEqual(fired, [6], "fires once, when the fall reaches the threshold")
        XCTAssertEqual(alarm.firedAt, 6)
        XCTAssertEqual(alarm.peakIteration, 3)
        XCTAssertTrue(alarm.warning?.contains("iteration 6") ?? false)
    }

    func testQuietWhenBothFallOrTheMonitorOnlyWobbles() {
        var together = RewardHackingAlarm(tolerance: 0.5, smoothing: 1)
        for (index, value) in [0.0, 1, 2, 1, 0, -1].enumerated() {
            XCTAssertFalse(together.observe(iteration: index + 1, proxy: value, monitor: value, monitorSpread: 0.1), "proxy fell too: not hacking")
        }
        var wobble = RewardHackingAlarm(tolerance: 0.5, smoothing: 1)
        for (index, monitor) in [0.0, 0.1, 0.05, 0.12, 0.08].enumerated() {
            // The spread of the first batch (1.0) sets the scale: a fall of 0.04 is noise.
            XCTAssertFalse(wobble.observe(iteration: index + 1, proxy: Double(index), monitor: monitor, monitorSpread: 1))
        }
    }

    /// `monitor_samples`: the monitor scores only the first k rollouts of each batch (a spot check), while the alarm's
    /// proxy reading stays the mean over all of them; `monitor_reward_model: cmd:PROGRAM` runs a judge program as the
    /// monitor.
    func testMonitorSpotChecksTheFirstRolloutsAndTakesAJudgeProgram() throws {
        let folder = try PPOTrainerTests.peakedModelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = PPOTrainerTests.configuration(folder, output: "ppo", iterations: 2)
        configuration.monitorSamples = 3
        let trainer = try PPOTrainerTests.trainer(folder, configuration: configuration)
        var sizes: [Int] = []
        let proxy = PPOTrainerTests.multipleOfThreeFraction()
        var checked: [Double] = []
        trainer.monitor = ClosureReward { rollout in
            sizes.append(1)
            let score = try proxy.scores([rollout])[0]
            checked.append(Double(score))
            return score
        }
        let history = try trainer.train().history
        XCTAssertEqual(sizes.count, 2 * 3, "3 rollouts of each batch of 4, in 2 iterations")
        for (index, record) in history.enumerated() {
            let judged = checked[(3 * index)..<(3 * index + 3)]
            XCTAssertEqual(try XCTUnwrap(record["monitor/reward"]), judged.reduce(0, +) / 3, accuracy: 1e-6)
            XCTAssertNotNil(record["monitor/proxy"])
        }

        let script = folder.appendingPathComponent("judge.sh")
        try "while IFS= read -r line; do echo 0.5; done\n".write(to: script, atomically: true, encoding: .utf8)
        var judged = PPOTrainerTests.configuration(folder, output: "ppo-judge", iterations: 1)
        judged.monitorRewardModel = "cmd:/bin/sh \(script.path)"
        judged.monitorSamples = 2
        let withJudge = try PPOTrainer(configuration: judged, policy: try TrainableModel(directory: folder),
                                       folders: PPOModelFolders(policy: folder, rewardModel: folder),
                                       encoder: try TrainingFixtures.encoder(folder), prompts: PPOTrainerTests.prompts(8))
        XCTAssertTrue(withJudge.monitor is CommandReward)
        XCTAssertEqual(try withJudge.train().history.first?["monitor/reward"], 0.5)
    }

    /// PPO with a monitor that disagrees with the proxy: the alarm fires, is logged, and with stop_on_divergence the run
    /// ends early with its model saved.
    func testPPOStopsOnDivergenceAndSavesTheModel() throws {
        let folder = try PPOTrainerTests.peakedModelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = PPOTrainerTests.configuration(folder, output: "ppo", iterations: 12)
        configuration.stopOnDivergence = true
        configuration.monitorTolerance = 0.1
        let trainer = try PPOTrainerTests.trainer(folder, configuration: configuration)
        // The monitor scores the opposite of the proxy (tokens that are multiples of 3 are what the proxy rewards).
        let proxy = PPOTrainerTests.multipleOfThreeFraction()
        trainer.monitor = ClosureReward { rollout in try -proxy.scores([rollout])[0] }
        let history = try trainer.train().history
        let alarm = try XCTUnwrap(history.firstIndex { $0["monitor/alarm"] == 1 }, "the alarm never fired: \(history.map { ($0["monitor/proxy"] ?? 0, $0["monitor/reward"] ?? 0) })")
        XCTAssertEqual(history.count, alarm + 1, "the run stops at the iteration the alarm fired")
        XCTAssertLessThan(history.count, 12)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("ppo/model.safetensors").path), "the model is saved at the stop")
    }
}
