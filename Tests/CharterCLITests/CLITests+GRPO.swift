import Foundation
import XCTest

/// `charter grpo` and `charter rloo` end to end on the tiny TRL fixture policy: built-in and command rewards, the
/// output folder every trainer writes, and errors that name the problem.
extension CLITests {
    func testGRPOAndRLOOTrainWithBuiltInAndCommandRewards() throws {
        let policy = Self.repository.appendingPathComponent("Tests/AlignmentTests/Fixtures/trl/policy").path
        let prompts = try write((0..<4).map { #"{"prompt": "\#($0)+2=", "answer": \#($0 + 2)}"# }, to: "sums.jsonl")
        let script = try write(["while IFS= read -r line; do echo 0.5; done"], to: "half.sh")
        for command in ["grpo", "rloo"] {
            let output = folder.appendingPathComponent(command)
            let (status, printed, errors) = try charter([command, "--model", policy, "--dataset", prompts, "--reward", "exact-match",
                                                        "--reward", "cmd:/bin/sh \(script)", "--reward-weights", "1,0.5",
                                                        "--num-generations", "2", "--batch-size", "4", "--max-completion-length", "3",
                                                        "--max-steps", "2", "--beta", "0.1", "--output-dir", output.path])
            XCTAssertEqual(status, 0, errors)
            let metrics = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [String: Double], printed)
            XCTAssertEqual(metrics["rewards/command/mean"], 0.5, printed)
            XCTAssertNotNil(metrics["rewards/exact_match/mean"], printed)
            XCTAssertNotNil(metrics["kl"], printed)
            for file in ["model.safetensors", "config.json", "tokenizer.json", "metrics.jsonl", "trainer_state.json", "training_config.json", "README.md"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent(file).path), "\(command): \(file) missing")
            }
            let recipe = try String(contentsOf: output.appendingPathComponent("training_config.json"), encoding: .utf8)
            XCTAssertTrue(recipe.contains("\"reward_funcs\"") && recipe.contains("exact-match"), recipe)
        }
        let (status, _, errors) = try charter(["grpo", "--model", policy, "--dataset", prompts, "--reward", "exactly",
                                               "--output-dir", folder.appendingPathComponent("bad").path])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(errors.contains("unknown reward \"exactly\""), errors)
        let unanswered = try write([#"{"prompt": "1+1="}"#], to: "unanswered.jsonl")
        let (missing, _, missingErrors) = try charter(["grpo", "--model", policy, "--dataset", unanswered, "--reward", "exact-match",
                                                       "--output-dir", folder.appendingPathComponent("bad").path])
        XCTAssertNotEqual(missing, 0)
        XCTAssertTrue(missingErrors.contains("unanswered.jsonl:1: no answer or solution column"), missingErrors)
    }
}
