import Constitutional
import Foundation
import Pipelines
import TestSupport
import XCTest

/// online_dpo stages: pairs ranked by the preference model (`reward_model:`) or by the pipeline's constitution asked of
/// `feedback_model:` (RL-CAI with on-policy pairs); a stage without a way to rank, or with two, is refused by key.
final class PipelineOnlineDPOStageTests: XCTestCase {
    func testStagesRankByThePreferenceModelAndByTheConstitution() async throws {
        let directory = try TinyModels.temporaryDirectory("online-dpo-stage")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try TinyModels.folder(in: directory, name: "policy", seed: 3)
        try #"{"prompt": "How do I greet a neighbour?"}\#n{"prompt": "Say something kind."}\#n"#
            .write(to: directory.appendingPathComponent("prompts.jsonl"), atomically: true, encoding: .utf8)
        try #"{"prompt": "p", "chosen": " a", "rejected": " b"}\#n{"prompt": "q", "chosen": " c", "rejected": " d"}\#n"#
            .write(to: directory.appendingPathComponent("pairs.jsonl"), atomically: true, encoding: .utf8)
        let yaml = """
            stages:
              - {name: rm, type: reward, model: policy, dataset: pairs.jsonl, training: {max_steps: 1, per_device_train_batch_size: 2}}
              - {name: scored, type: online_dpo, model: policy, prompts: prompts.jsonl, reward_model: stage:rm,
                 training: {max_steps: 1, per_device_train_batch_size: 2, max_new_tokens: 4, missing_eos_penalty: 1.0, logging_steps: 1}}
              - {name: judged, type: online_dpo, model: stage:scored, prompts: prompts.jsonl, judge: constitution, feedback_model: policy,
                 training: {max_steps: 1, per_device_train_batch_size: 2, max_new_tokens: 4, principles_per_pair: 1, logging_steps: 1}}
            """
        let manifest = try await Pipeline(recipe: try PipelineRecipe.parse(yaml: yaml, file: "r.yaml", baseDirectory: directory),
                                          runDirectory: directory.appendingPathComponent("run")).run(log: { _ in })
        XCTAssertEqual(manifest.stages.map(\.status), ["complete", "complete", "complete"])
        let scored = manifest.stages[1].counts, judged = manifest.stages[2].counts
        for key in ["objective/scores", "objective/kl", "rewards/margins", "val/contain_eos_token"] { XCTAssertNotNil(scored[key], "\(key) in \(scored.keys.sorted())") }
        XCTAssertNotNil(judged["rewards/margins"], "\(judged.keys.sorted())")
        XCTAssertNil(judged["objective/scores"], "a judge gives no scores")
        XCTAssertNotNil(manifest.stages[2].inputs["constitution"], "the constitution is part of a judged stage's key")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("run/judged/model/model.safetensors").path))
    }

    func testStageWithoutOrWithTwoRankingsIsRefusedByKey() {
        func problems(_ stage: String) -> [String] {
            do {
                _ = try PipelineRecipe.parse(yaml: "stages:\n  - \(stage)\n", file: "r.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
                return []
            } catch {
                return (error as? ConstitutionError)?.problems.map { "\($0.path): \($0.message)" } ?? ["\(error)"]
            }
        }
        XCTAssertEqual(problems("{type: online_dpo, model: m, prompts: p.jsonl}").first?.hasPrefix("stages[0].judge: missing"), true)
        XCTAssertEqual(problems("{type: online_dpo, model: m, prompts: p.jsonl, judge: constitution}").first?.hasPrefix("stages[0].feedback_model"), true)
        XCTAssertEqual(problems("{type: online_dpo, model: m, prompts: p.jsonl, judge: pairrm, feedback_model: m}").first?.contains("not a judge"), true)
        XCTAssertEqual(problems("{type: online_dpo, model: m, prompts: p.jsonl, judge: constitution, feedback_model: m, reward_model: r}")
                        .first?.contains("not both"), true)
        XCTAssertEqual(problems("{type: online_dpo, model: m, prompts: p.jsonl, reward_model: r, training: {loss_type: hinge}}")
                        .first?.hasPrefix("stages[0].training"), true)
    }
}
