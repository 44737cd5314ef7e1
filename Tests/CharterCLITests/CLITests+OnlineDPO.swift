import Foundation
import XCTest

/// `charter online-dpo` end to end on the tiny TRL fixture models: a reward-model folder ranks the pairs (TRL's
/// statistics printed, the output folder every trainer writes), and a run with nothing to rank by says what to give.
extension CLITests {
    func testOnlineDPOTrainsAgainstARewardModelAndNeedsAJudge() throws {
        let fixtures = Self.repository.appendingPathComponent("Tests/AlignmentTests/Fixtures/trl")
        let policy = fixtures.appendingPathComponent("policy").path
        let prompts = try write(["What is 2 + 3?", "Name a colour.", "Add 1 and 1.", "Say hi."].map { #"{"prompt": "\#($0)"}"# }, to: "prompts.jsonl")
        let output = folder.appendingPathComponent("online-dpo")
        let (status, printed, errors) = try charter(["online-dpo", "--model", policy, "--dataset", prompts,
                                                    "--reward-model", fixtures.appendingPathComponent("reward").path,
                                                    "--missing-eos-penalty", "1", "--beta", "0.2", "--batch-size", "2",
                                                    "--max-new-tokens", "4", "--max-steps", "2", "--output-dir", output.path])
        XCTAssertEqual(status, 0, errors)
        let metrics = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [String: Double], printed)
        for key in ["objective/scores", "objective/kl", "rewards/margins", "logps/chosen", "val/contain_eos_token"] { XCTAssertNotNil(metrics[key], "\(key): \(printed)") }
        XCTAssertEqual(metrics["beta"], 0.2, printed)
        for file in ["model.safetensors", "config.json", "tokenizer.json", "metrics.jsonl", "trainer_state.json", "training_config.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent(file).path), "\(file) missing")
        }
        let recipe = try String(contentsOf: output.appendingPathComponent("training_config.json"), encoding: .utf8)
        XCTAssertTrue(recipe.contains("\"reward_model_path\""), recipe)

        let (unranked, _, unrankedErrors) = try charter(["online-dpo", "--model", policy, "--dataset", prompts,
                                                         "--output-dir", folder.appendingPathComponent("bad").path])
        XCTAssertNotEqual(unranked, 0)
        XCTAssertTrue(unrankedErrors.contains("reward_model_path") && unrankedErrors.contains("judge: constitution"), unrankedErrors)
    }
}
