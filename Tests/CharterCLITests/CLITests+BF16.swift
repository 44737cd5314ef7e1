import Foundation
import XCTest

extension CLITests {
    /// `--bf16` (or `bf16: true` in the recipe) turns on bf16 matmuls in a trainer: the run says so, keeps bf16 in
    /// its effective config, and its losses differ from the fp32 run's (same seed and data) by rounding only.
    func testTrainerBF16SwitchesTheMatmulPrecision() throws {
        let data = try write((0..<4).map { #"{"prompt": "say \#($0):", "completion": " \#($0) \#($0)"}"# }, to: "sft.jsonl")
        func losses(_ extra: [String], _ name: String) throws -> (errors: String, losses: [Double], config: String) {
            let output = folder.appendingPathComponent(name)
            let (status, _, errors) = try charter(["sft", "--model", folder.path, "--dataset", data, "--max-steps", "3", "--batch-size", "2",
                                                   "--logging-steps", "1", "--output-dir", output.path] + extra)
            XCTAssertEqual(status, 0, errors)
            let metrics = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            let values = try metrics.split(separator: "\n").compactMap { line -> Double? in
                guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
                return object["loss"] as? Double
            }
            let config = try String(contentsOf: output.appendingPathComponent("training_config.json"), encoding: .utf8)
            return (errors, values, config)
        }
        let fp32 = try losses([], "fp32"), flag = try losses(["--bf16"], "flag"), key = try losses(["--set", "bf16=true"], "key")
        XCTAssertTrue(flag.errors.contains("bf16: true: matmul operands rounded to bfloat16"), flag.errors)
        XCTAssertFalse(fp32.errors.contains("bf16: true"), fp32.errors)
        XCTAssertTrue(flag.config.replacingOccurrences(of: " ", with: "").contains(#""bf16":true"#), flag.config)
        XCTAssertEqual(flag.losses, key.losses, "the flag and the recipe key are the same setting")
        XCTAssertEqual(fp32.losses.count, 3)
        XCTAssertEqual(flag.losses.count, 3)
        XCTAssertNotEqual(flag.losses, fp32.losses, "bf16 must change the arithmetic")
        for (a, b) in zip(fp32.losses, flag.losses) { XCTAssertEqual(a, b, accuracy: 0.02 * abs(a)) }
        let (refused, _, message) = try charter(["sft", "--model", folder.path, "--dataset", data, "--max-steps", "1",
                                                 "--output-dir", folder.appendingPathComponent("refused").path, "--set", "bf16=maybe"])
        XCTAssertNotEqual(refused, 0)
        XCTAssertTrue(message.contains("bf16") && message.contains("true or false"), message)
    }
}
