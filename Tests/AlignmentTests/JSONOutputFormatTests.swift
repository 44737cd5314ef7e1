import Foundation
import XCTest
@testable import Alignment
import JSON

/// metrics.jsonl records are written by the JSON target as JSONSerialization wrote them (the pinned text is
/// JSONSerialization's output for the same values, from the code before the change) except that "/" is no longer
/// escaped as "\/" (the same JSON value; Python writes it so too). training_config.json, like config.json, is laid
/// out as Python's `json.dumps(…, indent=2, sort_keys=True)`.
final class JSONOutputFormatTests: XCTestCase {
    func testMetricsRecordsKeepTheirFormat() throws {
        let record: [String: Any] = ["loss": Double(Float(0.123456789)), "learning_rate": Double(Float(5e-05)), "step": 3.0, "epoch": 0.5,
                                     "rewards/margins": -0.25, "num_tokens": 1234.0, "tiny": 1e-7, "big": 1e20,
                                     "grad_norm": Double(Float(1.8831623792648315)), "int": 7, "text": "a/b \"q\" é", "flag": true]
        let pinned = #"{"big":1e+20,"epoch":0.5,"flag":true,"grad_norm":1.8831623792648315,"int":7,"learning_rate":4.999999873689376e-05,"loss":0.12345679104328156,"num_tokens":1234,"rewards\/margins":-0.25,"step":3,"text":"a\/b \"q\" é","tiny":1e-07}"#
        XCTAssertEqual(try JSONLines.line(record), pinned.replacingOccurrences(of: "\\/", with: "/"))
        // A metric with no JSON number (NaN) is written as null instead of dropping the whole record.
        XCTAssertEqual(try JSONLines.line(["loss": Double.nan, "step": 2]), #"{"loss":null,"step":2}"#)
    }

    func testTrainingConfigurationFileKeepsItsFormat() throws {
        var effective = try TrainingRecipe(allowedKeys: SFTConfiguration.keys).effective(SFTConfiguration())
        effective["lora_target_modules"] = NSNull()
        effective["lora_r"] = 8
        effective["lora_dropout"] = Float(0.05)  // a Float setting is written as its shortest decimal
        let text = String(decoding: try TrainingLoop.configurationFile(effective), as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 36, "the settings and the braces (save_strategy added with save_steps 500, issue 23; train_sampling_strategy, logging_first_step and report_to, issue 20; gradient_checkpointing, packing_strategy and padding_free, issue 21)")
        // Python's json.dumps(config, indent=2, sort_keys=True) + "\n", as transformers writes its JSON files.
        XCTAssertTrue(text.hasSuffix("}\n"))
        for line in ["{", #"  "adam_epsilon": 1e-08,"#, #"  "learning_rate": 2e-05,"#, #"  "lora_dropout": 0.05,"#,
                     #"  "lora_target_modules": null,"#, #"  "max_steps": -1,"#, #"  "output_dir": "runs/train","#, #"  "save_steps": 500,"#, #"  "save_strategy": "steps","#,
                     #"  "packing_strategy": "bfd","#, #"  "padding_free": false,"#,
                     #"  "weight_decay": 0"#, "}"] {
            XCTAssertTrue(lines.contains(line), "\(line) missing from\n\(text)")
        }
        XCTAssertEqual(lines.dropFirst().dropLast().map { $0.split(separator: "\"")[1] }, effective.keys.sorted().map { Substring($0) })
    }
}
