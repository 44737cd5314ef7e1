import Foundation
import TestSupport
import XCTest
@testable import Constitutional
@testable import Pipelines

/// `backend: trl`: a training stage writes `charter export trl`'s folder, runs the launcher as a subprocess with
/// its output in trl/trl.log, and hands the model the launcher left in the stage's model folder to the next stage.
/// The launcher here stands in for TRL (swift test runs no Python): it checks the config it was given and copies a
/// model into output_dir. Benchmarks/trl/export_parity.py and the README run the real TRL.
final class PipelineTRLBackendTests: XCTestCase {
    func workspace() throws -> URL {
        let directory = try TinyModels.temporaryDirectory("trl-backend")
        _ = try TinyModels.folder(in: directory, name: "m", seed: 1)
        _ = try TinyModels.folder(in: directory, name: "trained", seed: 2)
        try #"{"prompt": "p", "chosen": " a", "rejected": " b"}\#n{"prompt": "q", "chosen": " c", "rejected": " d"}\#n"#
            .write(to: directory.appendingPathComponent("pairs.jsonl"), atomically: true, encoding: .utf8)
        try #"{"prompt": "p"}\#n"#.write(to: directory.appendingPathComponent("prompts.jsonl"), atomically: true, encoding: .utf8)
        return directory
    }

    func testLauncherTrainsTheStageAndTheNextStageReadsItsModel() async throws {
        let directory = try workspace()
        defer { try? FileManager.default.removeItem(at: directory) }
        let trained = directory.appendingPathComponent("trained").path
        // Stand-in for `trl dpo --config {config}`: reads output_dir from the config and copies a model there.
        let launcher = #"grep -q '^max_steps: 2$' {config} && out=$(sed -n 's/^output_dir: "\(.*\)"$/\1/p' {config}) && mkdir -p "$out" && cp \#(trained)/* "$out"/ && echo trained into $out"#
        let yaml = """
            stages:
              - name: dpo
                type: dpo
                model: m
                dataset: pairs.jsonl
                backend: trl
                training: {max_steps: 2, bf16: false}
                launcher: |
                  \(launcher)
              - {name: samples, type: sample, model: stage:dpo, prompts: prompts.jsonl, sampling: {max_tokens: 2}, progress: false}
            """
        let lines = LogLines()
        let manifest = try await Pipeline(recipe: try PipelineRecipe.parse(yaml: yaml, file: "r.yaml", baseDirectory: directory),
                                          runDirectory: directory.appendingPathComponent("run"), trainers: [:]).run(log: { lines.append($0) })
        XCTAssertEqual(manifest.stages.map(\.status), ["complete", "complete"])
        let stage = directory.appendingPathComponent("run/dpo")
        let config = try String(contentsOf: stage.appendingPathComponent("trl/config.yaml"), encoding: .utf8)
        XCTAssertTrue(config.contains("output_dir: \"\(stage.appendingPathComponent("model").path)\""), config)
        XCTAssertTrue(config.contains("report_to: \"tensorboard\""), config)
        XCTAssertEqual(try String(contentsOf: stage.appendingPathComponent("trl/data/train.jsonl"), encoding: .utf8).split(separator: "\n").count, 2)
        let log = try String(contentsOf: stage.appendingPathComponent("trl/trl.log"), encoding: .utf8)
        XCTAssertTrue(log.contains("trained into"), log)
        XCTAssertTrue(lines.all.contains { $0.contains("trl: trained into") }, "the launcher's output is streamed to the log")
        XCTAssertTrue(FileManager.default.fileExists(atPath: stage.appendingPathComponent("model/model.safetensors").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("run/samples/samples.jsonl").path))
    }

    /// A grpo stage with `backend: trl`: its prompts become the export's data, `reward_funcs` charter_rewards.py and
    /// `reward_model:` TRL's reward_model_name_or_path, which TRL scores first, so reward_weights are reordered.
    func testGRPOStageExportsItsRewards() async throws {
        let directory = try workspace()
        defer { try? FileManager.default.removeItem(at: directory) }
        try #"{"prompt": "2 + 2 =", "answer": 4}\#n{"prompt": "3 + 3 =", "answer": 6}\#n"#
            .write(to: directory.appendingPathComponent("arithmetic.jsonl"), atomically: true, encoding: .utf8)
        let trained = directory.appendingPathComponent("trained").path
        let launcher = #"out=$(sed -n 's/^output_dir: "\(.*\)"$/\1/p' {config}) && mkdir -p "$out" && cp \#(trained)/* "$out"/"#
        let yaml = """
            stages:
              - name: grpo
                type: grpo
                model: m
                prompts: arithmetic.jsonl
                reward_model: trained
                backend: trl
                training: {max_steps: 2, num_generations: 2, per_device_train_batch_size: 2, reward_funcs: [exact-match, length], reward_weights: [1.0, 0.5, 2.0]}
                launcher: |
                  \(launcher)
            """
        let manifest = try await Pipeline(recipe: try PipelineRecipe.parse(yaml: yaml, file: "r.yaml", baseDirectory: directory),
                                          runDirectory: directory.appendingPathComponent("run"), trainers: [:]).run(log: { _ in })
        XCTAssertEqual(manifest.stages.map(\.status), ["complete"])
        let export = directory.appendingPathComponent("run/grpo/trl")
        let config = try String(contentsOf: export.appendingPathComponent("config.yaml"), encoding: .utf8)
        XCTAssertTrue(config.contains("\nreward_funcs: [\"charter_rewards.exact_match\", \"charter_rewards.length\"]\n"), config)
        XCTAssertTrue(config.contains("\nreward_model_name_or_path: \"\(trained)\"\n"), config)
        XCTAssertTrue(config.contains("\nreward_weights: [2, 1, 0.5]\n"), "the model's weight first, as TRL orders the rewards: \(config)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: export.appendingPathComponent("charter_rewards.py").path))
        let rows = try String(contentsOf: export.appendingPathComponent("data/train.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.first.map(String.init), #"{"prompt":"2 + 2 =","answer":4}"#)
    }

    func testFailingLauncherStopsTheStageWithItsLastLines() async throws {
        let directory = try workspace()
        defer { try? FileManager.default.removeItem(at: directory) }
        let yaml = "stages:\n  - {type: dpo, model: m, dataset: pairs.jsonl, backend: trl, launcher: 'echo CUDA out of memory; exit 3'}\n"
        do {
            _ = try await Pipeline(recipe: try PipelineRecipe.parse(yaml: yaml, file: "r.yaml", baseDirectory: directory),
                                   runDirectory: directory.appendingPathComponent("run"), trainers: [:]).run(log: { _ in })
            XCTFail("a failing launcher must fail the stage")
        } catch {
            XCTAssertTrue("\(error)".contains("exited with status 3"), "\(error)")
            XCTAssertTrue("\(error)".contains("CUDA out of memory"), "\(error)")
        }
    }

    func testRecipeErrorsNameTheKey() {
        func path(_ stage: String) -> String? {
            do { _ = try PipelineRecipe.parse(yaml: "stages:\n  - \(stage)\n", file: "r.yaml", baseDirectory: URL(fileURLWithPath: "/tmp")) } catch let error as ConstitutionError {
                return error.problems.first?.path
            } catch { return "\(error)" }
            return nil
        }
        XCTAssertEqual(path("{type: dpo, model: m, dataset: d, backend: torch}"), "stages[0].backend")
        XCTAssertEqual(path("{type: dpo, model: m, dataset: d, launcher: 'trl dpo'}"), "stages[0].launcher", "launcher needs backend: trl")
        XCTAssertEqual(path("{type: ppo, model: m, prompts: p, reward_model: r, backend: trl}"), "stages[0].backend", "ppo has no TRL script")
    }
}

/// grpo and rloo stages: RL-CAI with group-relative advantages, rewarded by the preference model of `reward_model:`
/// and/or the verifiable rewards of `reward_funcs`; a stage without a reward is refused when the recipe is read.
final class PipelineGroupRolloutStageTests: XCTestCase {
    func testGRPOAndRLOOStagesTrainAgainstThePreferenceModelAndVerifiableRewards() async throws {
        let directory = try TinyModels.temporaryDirectory("grpo-stage")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try TinyModels.folder(in: directory, name: "policy", seed: 3)
        try #"{"prompt": "What is 2+2?", "answer": 4}\#n{"prompt": "What is 3+3?", "answer": 6}\#n"#
            .write(to: directory.appendingPathComponent("prompts.jsonl"), atomically: true, encoding: .utf8)
        try #"{"prompt": "p", "chosen": " a", "rejected": " b"}\#n{"prompt": "q", "chosen": " c", "rejected": " d"}\#n"#
            .write(to: directory.appendingPathComponent("pairs.jsonl"), atomically: true, encoding: .utf8)
        let yaml = """
            stages:
              - {name: rm, type: reward, model: policy, dataset: pairs.jsonl, training: {max_steps: 1, per_device_train_batch_size: 2}}
              - {name: grpo, type: grpo, model: policy, prompts: prompts.jsonl, reward_model: stage:rm,
                 training: {max_steps: 1, per_device_train_batch_size: 4, num_generations: 2, max_completion_length: 4, reward_funcs: [exact-match, length]}}
              - {name: rloo, type: rloo, model: stage:grpo, prompts: prompts.jsonl, reward_model: stage:rm,
                 training: {max_steps: 1, per_device_train_batch_size: 4, num_generations: 2, max_completion_length: 4}}
            """
        let manifest = try await Pipeline(recipe: try PipelineRecipe.parse(yaml: yaml, file: "r.yaml", baseDirectory: directory),
                                          runDirectory: directory.appendingPathComponent("run")).run(log: { _ in })
        XCTAssertEqual(manifest.stages.map(\.status), ["complete", "complete", "complete"])
        let grpo = try XCTUnwrap(manifest.stages.first { $0.name == "grpo" })
        for metric in ["rewards/exact_match/mean", "rewards/length/mean", "rewards/reward_model/mean"] {
            XCTAssertNotNil(grpo.counts[metric], "\(metric) in \(grpo.counts.keys.sorted())")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("run/rloo/model/model.safetensors").path))
    }

    /// An ensemble folder (ensemble.json) goes wherever a reward model folder goes: ppo combines its members by
    /// `reward_aggregation` and logs their spread, and so does grpo (under its reward's name).
    func testStagesTakeARewardModelEnsembleFolder() async throws {
        let directory = try TinyModels.temporaryDirectory("ensemble-stage")
        defer { try? FileManager.default.removeItem(at: directory) }
        let policy = try TinyModels.folder(in: directory, name: "policy", seed: 3)
        try #"{"prompt": "What is 2+2?"}\#n{"prompt": "What is 3+3?"}\#n"#
            .write(to: directory.appendingPathComponent("prompts.jsonl"), atomically: true, encoding: .utf8)
        // Two members from the same causal LM folder: each draws its own score head from the seed it is loaded with.
        let ensemble = directory.appendingPathComponent("rm-ensemble")
        try FileManager.default.createDirectory(at: ensemble, withIntermediateDirectories: true)
        let member = #"{"path": "\#(policy.path)", "seed": 1, "training_pairs": 0, "bootstrap": false, "reward_mean": 0, "reward_std": 2}"#
        try #"{"members": [\#(member), \#(member)]}"#.write(to: ensemble.appendingPathComponent("ensemble.json"), atomically: true, encoding: .utf8)
        let yaml = """
            stages:
              - {name: ppo, type: ppo, model: policy, prompts: prompts.jsonl, reward_model: rm-ensemble,
                 training: {max_steps: 1, per_device_train_batch_size: 2, response_length: 4, reward_aggregation: min, logging_steps: 1}}
              - {name: grpo, type: grpo, model: policy, prompts: prompts.jsonl, reward_model: rm-ensemble,
                 training: {max_steps: 1, per_device_train_batch_size: 4, num_generations: 2, max_completion_length: 4, reward_aggregation: min}}
            """
        let manifest = try await Pipeline(recipe: try PipelineRecipe.parse(yaml: yaml, file: "r.yaml", baseDirectory: directory),
                                          runDirectory: directory.appendingPathComponent("run")).run(log: { _ in })
        XCTAssertEqual(manifest.stages.map(\.status), ["complete", "complete"])
        XCTAssertNotNil(manifest.stages[0].counts["objective/ensemble_std"], "\(manifest.stages[0].counts.keys.sorted())")
        XCTAssertNotNil(manifest.stages[1].counts["rewards/reward_model/mean"], "\(manifest.stages[1].counts.keys.sorted())")
        XCTAssertNotNil(manifest.stages[1].counts["rewards/reward_model/ensemble_std"], "\(manifest.stages[1].counts.keys.sorted())")
    }

    func testORPOAndKTOStagesTrainOnLabelledPairs() async throws {
        let directory = try TinyModels.temporaryDirectory("orpo-kto-stage")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try TinyModels.folder(in: directory, name: "policy", seed: 4)
        try #"{"prompt": "p", "chosen": " a", "rejected": " b"}\#n{"prompt": "q", "chosen": " c", "rejected": " d"}\#n"#
            .write(to: directory.appendingPathComponent("pairs.jsonl"), atomically: true, encoding: .utf8)
        let yaml = """
            stages:
              - {name: orpo, type: orpo, model: policy, dataset: pairs.jsonl, training: {max_steps: 2, per_device_train_batch_size: 2, logging_steps: 1}}
              - {name: kto, type: kto, model: stage:orpo, dataset: pairs.jsonl, training: {max_steps: 1, per_device_train_batch_size: 4, logging_steps: 1}}
            """
        let manifest = try await Pipeline(recipe: try PipelineRecipe.parse(yaml: yaml, file: "r.yaml", baseDirectory: directory),
                                          runDirectory: directory.appendingPathComponent("run")).run(log: { _ in })
        XCTAssertEqual(manifest.stages.map(\.status), ["complete", "complete"])
        XCTAssertNotNil(manifest.stages[0].counts["log_odds_ratio"], "\(manifest.stages[0].counts)")
        XCTAssertNotNil(manifest.stages[1].counts["kl"], "\(manifest.stages[1].counts)")
        XCTAssertEqual(manifest.stages[0].counts["steps"], 2)
    }

    func testStageWithoutARewardIsRefusedByKey() {
        XCTAssertThrowsError(try PipelineRecipe.parse(yaml: "stages:\n  - {type: grpo, model: m, prompts: p.jsonl}\n", file: "r.yaml",
                                                      baseDirectory: URL(fileURLWithPath: "/tmp"))) { error in
            XCTAssertEqual((error as? ConstitutionError)?.problems.first?.path, "stages[0].reward_model", "\(error)")
        }
    }
}
