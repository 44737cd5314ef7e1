import Foundation
import XCTest

/// Hostile recipe values and diverging runs end with a non-zero exit and a message naming the key, value or step
/// (issue 24 items 7 and 8).
extension CLITests {
    func testMistypedAndRunawayRecipeValuesAreErrors() throws {
        let data = try write([#"{"prompt": "say 1:", "completion": " 1 1"}"#], to: "sft.jsonl")
        let cases: [([String], [String])] = [
            (["--set", "lora_r=x"], ["lora_r", "\"x\""]), (["--set", "lora_r=1.5"], ["lora_r", "1.5"]),
            (["--lora-r", "100000"], ["lora_r", "must be at most 1024"]), (["--set", "lora_dropout=1"], ["lora_dropout", "1.0"]),
            (["--set", "per_device_train_batch_size=1e12"], ["per_device_train_batch_size", "must be at most 1024"]),
            (["--set", "per_device_train_batch_size=1.5"], ["per_device_train_batch_size", "1.5"]),
            (["--set", "max_length=-1"], ["max_length", "(got -1)"]), (["--set", "warmup_steps=-5"], ["warmup_steps", "(got -5)"]),
            (["--set", "weight_decay=-1"], ["weight_decay", "(got -1.0)"]), (["--set", "max_grad_norm=-1"], ["max_grad_norm", "(got -1.0)"]),
            (["--set", "save_steps=-1"], ["save_steps", "(got -1)"]), (["--learning-rate", "1e6"], ["learning_rate", "must be at most 10"]),
        ]
        for (flags, mentions) in cases {
            let (status, _, message) = try charter(["sft", "--model", folder.path, "--dataset", data, "--max-steps", "1",
                                                    "--output-dir", folder.appendingPathComponent("out").path] + flags)
            XCTAssertNotEqual(status, 0, "\(flags)")
            for text in mentions { XCTAssertTrue(message.contains(text), "\(flags): \(message) should mention \(text)") }
        }
    }

    func testACollapsedRunExitsNonZeroNamingTheStepAndCheckpoint() throws {
        let data = try write((0..<8).map { #"{"prompt": "say \#($0):", "completion": " \#($0) \#($0)"}"# }, to: "sft.jsonl")
        let output = folder.appendingPathComponent("diverged").path
        let (status, _, message) = try charter(["sft", "--model", folder.path, "--dataset", data, "--output-dir", output, "--max-steps", "40",
                                                "--batch-size", "2", "--learning-rate", "10", "--save-steps", "4", "--logging-steps", "1"])
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(message.contains("training has collapsed"), message)
        XCTAssertTrue(message.contains(output + "/checkpoint-"), message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output + "/model.safetensors"), "no final model")
    }
}
