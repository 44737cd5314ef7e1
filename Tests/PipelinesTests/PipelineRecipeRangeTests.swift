import Constitutional
import Foundation
import XCTest
@testable import Pipelines

/// A pipeline recipe's values are checked when it is read — every stage's run options, its type's settings (and
/// their sampling), and a trainer stage's `training:` as its trainer reads it — each problem naming its path and
/// the value, before any stage runs (issue 24 item 7).
final class PipelineRecipeRangeTests: XCTestCase {
    func problems(_ stage: String) -> [String] {
        let yaml = """
        name: ranges
        stages:
          - \(stage)
        """
        do {
            _ = try PipelineRecipe.parse(yaml: yaml, file: "recipe.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
        } catch let error as ConstitutionError {
            return error.problems.map(\.description)
        } catch {
            return ["\(error)"]
        }
        return []
    }

    func testOutOfRangeStageValuesNameTheirPathAndValue() {
        let sample = "type: sample, model: m, prompts: p.jsonl"
        let critique = "type: critique, model: m, prompts: p.jsonl"
        let label = "type: label, model: m, pairs: p.jsonl"
        let cases: [(String, String, String)] = [
            ("{\(sample), k: 0}", "stages[0].k", "(got 0)"),
            ("{\(sample), k: 100000}", "stages[0].k", "(got 100000)"),
            ("{\(sample), k: x}", "stages[0].k", "\"x\""),
            ("{\(sample), sampling: {top_p: 2}}", "stages[0].sampling.top_p", "(got 2.0)"),
            ("{\(sample), concurrency: 0}", "stages[0].concurrency", "(got 0)"),
            ("{\(critique), rounds: 0}", "stages[0].rounds", "(got 0)"),
            ("{\(critique), rounds: 1000}", "stages[0].rounds", "(got 1000)"),
            ("{\(critique), few_shot: -1}", "stages[0].few_shot", "(got -1)"),
            ("{\(label), principles_per_pair: 0}", "stages[0].principles_per_pair", "(got 0)"),
            ("{\(label), clamp_low: -0.5}", "stages[0].clamp_low", "(got -0.5)"),
            ("{\(label), few_shot: -1}", "stages[0].few_shot", "(got -1)"),
            ("{type: sft, model: m, dataset: d.jsonl, training: {max_length: -1}}", "stages[0].training.max_length", "(got -1)"),
            ("{type: sft, model: m, dataset: d.jsonl, training: {per_device_train_batch_size: 1e12}}",
             "stages[0].training.per_device_train_batch_size", "1e12"),  // YAML 1.1 reads 1e12 (no dot) as a string
            ("{type: dpo, model: m, dataset: d.jsonl, training: {per_device_train_batch_size: 1e12}}",
             "stages[0].training.per_device_train_batch_size", "(got 1000000000000)"),  // TRL recipes read it as a number
            ("{type: sft, model: m, dataset: d.jsonl, training: {warmup_steps: -5}}", "stages[0].training.warmup_steps", "(got -5)"),
            ("{type: dpo, model: m, dataset: d.jsonl, training: {beta: 0}}", "stages[0].training.beta", "(got 0.0)"),
            ("{type: dpo, model: m, dataset: d.jsonl, training: {weight_decay: -1}}", "stages[0].training.weight_decay", "(got -1.0)"),
            ("{type: reward, model: m, dataset: d.jsonl, training: {max_grad_norm: -1}}", "stages[0].training.max_grad_norm", "(got -1.0)"),
            ("{type: reward, model: m, dataset: d.jsonl, training: {save_steps: -1}}", "stages[0].training.save_steps", "(got -1)"),
            ("{type: ppo, model: m, prompts: p.jsonl, reward_model: r, training: {response_length: 0}}",
             "stages[0].training.response_length", "(got 0)"),
            ("{type: ppo, model: m, prompts: p.jsonl, reward_model: r, training: {per_device_train_batch_size: 1.5}}",
             "stages[0].training.per_device_train_batch_size", "1.5"),
            ("{type: dpo, model: m, dataset: d.jsonl, training: {lora_r: 8}}", "stages[0].training", "LoRA training is not available"),
        ]
        for (stage, path, shows) in cases {
            let found = problems(stage)
            XCTAssertTrue(found.contains { $0.hasPrefix(path + ":") && $0.contains(shows) }, "\(stage): expected \(path) showing \(shows), got \(found)")
        }
        // In-range values of the same stages are accepted.
        for stage in ["{\(sample), k: 3, sampling: {top_p: 0.9}}", "{\(critique), rounds: 2, few_shot: 0}",
                      "{\(label), principles_per_pair: 2, clamp_low: 0.3}",
                      "{type: dpo, model: m, dataset: d.jsonl, training: {beta: 0.2, learning_rate: 1e-6}}",
                      "{type: ppo, model: m, prompts: p.jsonl, reward_model: r, training: {response_length: 8, kl_coef: 0.1}}"] {
            XCTAssertEqual(problems(stage), [], stage)
        }
    }
}
