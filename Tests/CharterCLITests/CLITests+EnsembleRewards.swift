import Foundation
import XCTest

extension CLITests {
    /// `charter grpo`, `rloo` and `online-dpo` take a folder of heads as `charter ppo` does: `--reward FOLDER` (or
    /// `--reward-model FOLDER`) with `--principle-weights` / `--principle-groups`, each head's mean logged under the
    /// trainer's names for rewards; a weight list that misses a head, an aggregation key given to the wrong
    /// aggregation and an aggregation with no ensemble to combine are refused before training, naming the key.
    func testGroupRolloutCommandsCombineHeadsAsPPODoes() throws {
        let base = try tinyGPT(named: "base", contextLength: 64, seed: 5)
        // Two heads whose members are the causal LM itself (each draws its score layer from its seed).
        let heads = folder.appendingPathComponent("heads")
        try FileManager.default.createDirectory(at: heads, withIntermediateDirectories: true)
        let members = ["kind", "blunt"].enumerated().map { index, head in
            #"{"path": "\#(base.path)", "seed": \#(index + 1), "training_pairs": 0, "bootstrap": false, "reward_mean": 0, "reward_std": 1, "head": "\#(head)"}"#
        }
        try #"{"members": [\#(members.joined(separator: ", "))]}"#.write(to: heads.appendingPathComponent("ensemble.json"), atomically: true, encoding: .utf8)
        let prompts = try write((1...4).map { #"{"prompt": "Question \#($0):"}"# }, to: "prompts.jsonl")
        let common = ["--model", base.path, "--dataset", prompts, "--max-steps", "1"]

        let (status, printed, errors) = try charter(["grpo"] + common + ["--reward", heads.path, "--principle-weights", "kind=0.7,blunt=0.3",
                                                     "--num-generations", "2", "--batch-size", "4", "--max-completion-length", "3",
                                                     "--output-dir", folder.appendingPathComponent("grpo").path])
        XCTAssertEqual(status, 0, errors)
        let metrics = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [String: Double], printed)
        for key in ["rewards/heads/mean", "rewards/heads/head/kind/mean", "rewards/heads/head/blunt/mean", "rewards/heads/ensemble_std"] {
            XCTAssertNotNil(metrics[key], "\(key) missing: \(printed)")
        }
        let recipe = try String(contentsOf: folder.appendingPathComponent("grpo/training_config.json"), encoding: .utf8)
        XCTAssertTrue(recipe.contains("\"principle_weights\"") && recipe.contains("\"weighted\""), recipe)

        let (dpoStatus, dpoPrinted, dpoErrors) = try charter(["online-dpo"] + common + ["--reward-model", heads.path, "--principle-groups", "kind,blunt",
                                                             "--batch-size", "2", "--max-new-tokens", "3",
                                                             "--output-dir", folder.appendingPathComponent("online-dpo").path])
        XCTAssertEqual(dpoStatus, 0, dpoErrors)
        let dpoMetrics = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(dpoPrinted.utf8)) as? [String: Double], dpoPrinted)
        XCTAssertNotNil(dpoMetrics["objective/head/kind"], dpoPrinted)
        XCTAssertNotNil(dpoMetrics["objective/head/blunt"], dpoPrinted)

        let refusals: [([String], String)] = [
            (["rloo", "--reward", heads.path, "--principle-weights", "kind=1"], "does not name head(s) blunt"),
            (["grpo", "--reward", heads.path, "--reward-aggregation", "min", "--principle-weights", "kind=1"],
             "principle_weights: applies to reward_aggregation: weighted (got \"min\")"),
            (["grpo", "--reward", "length", "--reward-aggregation", "min"], "reward_aggregation: is min, but no reward is a reward-model ensemble folder"),
            (["online-dpo", "--reward-model", base.path, "--reward-aggregation", "uncertainty"], "reward_aggregation: is uncertainty (λ = 1.0), but"),
        ]
        for (arguments, message) in refusals {
            let output = folder.appendingPathComponent("refused")
            let (refused, _, refusedErrors) = try charter(arguments + common + ["--output-dir", output.path])
            XCTAssertNotEqual(refused, 0, "\(arguments)")
            XCTAssertTrue(refusedErrors.contains(message), "\(arguments): \(refusedErrors)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: output.appendingPathComponent("model.safetensors").path), "refused before training")
        }
    }
}
