import Alignment
import Foundation
import LanguageModels
import TestSupport
import XCTest
@testable import Constitutional
@testable import Pipelines

/// A reward stage trains one reward model per head (`heads_from_labels`, `heads:`), as `charter reward
/// --heads-from-labels --head NAME=FILE` does, and later stages combine the heads by `reward_aggregation`.
final class PipelineRewardHeadsTests: XCTestCase {
    /// Two comparison principles, so that every pair is judged by both and the heads are known.
    static let constitution = """
        name: two-principles
        version: "1"
        principles:
          - {id: harmless, category: harmlessness, comparison: "Which response is less harmful?"}
          - {id: helpful, category: helpfulness, comparison: "Which response is more helpful?"}
        """

    /// label → reward (a head per principle of the labels, plus one from a file) → ppo with `weighted` and grpo with
    /// `maxmin`: the reward stage's folder is an ensemble of the three heads, and each later stage's log has every
    /// head's metric under its trainer's name.
    func testLabelTrainsHeadsThatPPOWeighsAndGRPOCombinesByMaxMin() async throws {
        let directory = try TinyModels.temporaryDirectory("reward-heads")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try TinyModels.folder(in: directory, name: "policy", seed: 11)
        _ = try TinyModels.folder(in: directory, name: "feedback", seed: 12)
        func write(_ text: String, _ name: String) throws {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try write(Self.constitution, "two.yaml")
        try write("""
            {"id": "a", "prompt": "hi", "response_a": " hello there", "response_b": " go away"}
            {"id": "b", "prompt": "help me", "response_a": " sure", "response_b": " no"}
            """, "pairs.jsonl")
        try write(#"{"prompt": "hi", "chosen": " ok", "rejected": " hello there friend"}\#n{"prompt": "help me", "chosen": " yes", "rejected": " sure, gladly"}\#n"#,
                  "terse.jsonl")
        try write(#"{"prompt": "\n\nHuman: hi\n\nAssistant:"}\#n{"prompt": "\n\nHuman: help me\n\nAssistant:"}\#n"#, "prompts.jsonl")
        let yaml = """
            seed: 3
            constitution: two.yaml
            stages:
              - {name: label, type: label, model: feedback, pairs: pairs.jsonl, principles_per_pair: 2, few_shot: 0, progress: false}
              - {name: heads, type: reward, model: policy, dataset: stage:label, heads_from_labels: true, heads: {terse: terse.jsonl},
                 training: {max_steps: 1, per_device_train_batch_size: 2, logging_steps: 1}}
              - {name: ppo, type: ppo, model: policy, prompts: prompts.jsonl, reward_model: stage:heads,
                 training: {total_episodes: 2, per_device_train_batch_size: 2, response_length: 3, num_ppo_epochs: 1, logging_steps: 1,
                            reward_aggregation: weighted, principle_weights: "harmless=0.6,helpful=0.3,terse=0.1"}}
              - {name: grpo, type: grpo, model: policy, prompts: prompts.jsonl, reward_model: stage:heads,
                 training: {max_steps: 1, per_device_train_batch_size: 4, num_generations: 2, max_completion_length: 3, logging_steps: 1,
                            reward_aggregation: maxmin, principle_groups: "harmless+helpful,terse"}}
            """
        let recipe = try PipelineRecipe.parse(yaml: yaml, file: "r.yaml", baseDirectory: directory)
        XCTAssertTrue(recipe.stages[1].headsFromLabels)
        XCTAssertEqual(recipe.stages[1].heads, ["terse"])
        let run = directory.appendingPathComponent("run")
        let manifest = try await Pipeline(recipe: recipe, runDirectory: run).run(log: { _ in })
        XCTAssertEqual(manifest.stages.map(\.status), ["complete", "complete", "complete", "complete"])
        XCTAssertNotNil(manifest.stages[1].inputs["heads.terse"], "a head's file is an input of the stage's cache key")

        let ensemble = try RewardEnsembleManifest.load(directory: run.appendingPathComponent("heads/model"))
        // The principles' heads come in the order the labels first name them (the label stage draws each pair's order), then terse.
        XCTAssertEqual(Set(ensemble.heads.prefix(2)), ["harmless", "helpful"])
        XCTAssertEqual(ensemble.heads.last, "terse")
        XCTAssertEqual(ensemble.members.map(\.trainingPairs), [2, 2, 2])
        XCTAssertEqual(manifest.stages[1].counts["heads"], 3)
        XCTAssertEqual(manifest.stages[1].counts["terse/steps"], 1, "\(manifest.stages[1].counts.keys.sorted())")

        let ppoLog = try String(contentsOf: run.appendingPathComponent("ppo/model/metrics.jsonl"), encoding: .utf8)
        let grpoLog = try String(contentsOf: run.appendingPathComponent("grpo/model/metrics.jsonl"), encoding: .utf8)
        for head in ["harmless", "helpful", "terse"] {
            XCTAssertNotNil(manifest.stages[2].counts["objective/head/\(head)"], "\(manifest.stages[2].counts.keys.sorted())")
            XCTAssertTrue(ppoLog.contains("\"objective/head/\(head)\""), ppoLog)
            XCTAssertNotNil(manifest.stages[3].counts["rewards/reward_model/head/\(head)/mean"], "\(manifest.stages[3].counts.keys.sorted())")
            XCTAssertTrue(grpoLog.contains("\"rewards/reward_model/head/\(head)/mean\""), grpoLog)
        }
        let effective = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("grpo/model/training_config.json"))) as? [String: Any])
        XCTAssertEqual(effective["reward_aggregation"] as? String, "maxmin")
        XCTAssertEqual(effective["principle_groups"] as? String, "harmless+helpful,terse")
    }

    /// The head keys' mistakes are reported by path when the recipe is read, before any stage runs.
    func testHeadKeysAreCheckedWhenTheRecipeIsRead() throws {
        func paths(_ stage: String) -> [String] {
            do {
                _ = try PipelineRecipe.parse(yaml: "stages:\n  - \(stage)\n", file: "r.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
                return []
            } catch { return (error as? ConstitutionError)?.problems.map(\.path) ?? ["\(error)"] }
        }
        XCTAssertEqual(paths("{type: reward, model: m, heads: {harmless: h.jsonl, helpful: stage:label}}"), ["stages[0].heads.helpful"],
                       "a stage reference must name an earlier stage")
        XCTAssertEqual(paths("{type: reward, model: m, heads: {harmless: h.jsonl}}"), [], "heads alone need no dataset")
        XCTAssertEqual(paths("{type: reward, model: m, heads_from_labels: true}"), ["stages[0].dataset"])
        XCTAssertEqual(paths("{type: reward, model: m, dataset: d.jsonl, heads_from_labels: maybe}"), ["stages[0].heads_from_labels"])
        XCTAssertEqual(paths("{type: reward, model: m, dataset: d.jsonl, heads: [h.jsonl]}"), ["stages[0].heads"])
        XCTAssertEqual(paths("{type: reward, model: m, dataset: d.jsonl, heads: {\"a/b\": h.jsonl}}"), ["stages[0].heads.a/b"])
        XCTAssertEqual(paths("{type: reward, model: m, dataset: d.jsonl, heads: {a: h.jsonl}}"), ["stages[0].dataset"])
        XCTAssertEqual(paths("{type: reward, model: m, dataset: d.jsonl, mix_in: x.jsonl, heads_from_labels: true}"), ["stages[0].mix_in"])
        XCTAssertEqual(paths("{type: reward, model: m, dataset: d.jsonl, backend: trl, heads_from_labels: true}"), ["stages[0].backend"])
        XCTAssertEqual(paths("{type: dpo, model: m, dataset: d.jsonl, heads_from_labels: true}"), ["stages[0].heads_from_labels"],
                       "only a reward stage trains heads")
        XCTAssertEqual(paths("{type: grpo, model: m, prompts: p.jsonl, training: {reward_funcs: [length], principle_weights: \"a=1\"}}"),
                       ["stages[0].training.principle_weights"], "an aggregation key is checked as PPO checks it")
        XCTAssertEqual(paths("{type: grpo, model: m, prompts: p.jsonl, training: {reward_funcs: [length], monitor_reward_model: rm}}"),
                       ["stages[0].training.monitor_reward_model"], "a PPO key GRPO does not read is reported")
    }
}
