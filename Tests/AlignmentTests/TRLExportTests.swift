import Datasets
import Foundation
import XCTest
@testable import Alignment

/// `charter export trl`: config.yaml holds only keys TRL's script accepts, with every value the Charter run uses
/// (Charter's defaults are not all TRL's), renames or refuses Charter-only keys by name, and writes YAML that
/// PyYAML reads back as the same types. (Benchmarks/trl/export_parity.py runs the exported folders in TRL.)
final class TRLExportTests: XCTestCase {
    func effective(_ yaml: String) throws -> [String: Any] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("charter-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("recipe.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        let recipe = try TrainingRecipe(file: url.path, allowedKeys: DPOConfiguration.keys + TrainingRecipe.modelKeys)
        var values = try recipe.effective(try recipe.decode(DPOConfiguration.self))
        for (key, value) in recipe.values where TrainingRecipe.foreignKeys[key] != nil { values[key] = value }
        return values
    }

    func testConfigHoldsTRLKeysWithCharterValues() throws {
        let export = try TRLExport(trainer: "dpo", effective: try effective("""
            model_name_or_path: policy
            dataset_name: pairs.jsonl
            warmup_ratio: 0.1
            train_sampling_strategy: sequential
            gradient_checkpointing: true
            """), hasEvaluation: false, conversational: false, cpu: true)
        let accepted = try XCTUnwrap(TRLConfigKeys.keys(for: "dpo"))
        XCTAssertEqual(Set(export.config.keys).subtracting(accepted), [], "only keys trl dpo accepts")
        XCTAssertEqual(export.config["num_train_epochs"] as? Int, 1, "Charter's default, written because TRL's is 3")
        XCTAssertEqual(export.config["warmup_steps"] as? Double, 0.1, "warmup_ratio becomes a fractional warmup_steps")
        XCTAssertNil(export.config["warmup_ratio"])
        XCTAssertTrue(export.config["save_total_limit"] is NSNull, "Charter's 0 (keep all) is transformers' null")
        XCTAssertEqual(export.config["dataset_name"] as? String, "data")
        XCTAssertEqual(export.config["use_cpu"] as? Bool, true)
        XCTAssertEqual(export.config["bf16"] as? Bool, false)
        XCTAssertEqual(export.config["gradient_checkpointing"] as? Bool, true, "foreign keys pass through to TRL")
        XCTAssertNil(export.config["simpo_gamma"], "left out: only SimPO reads it")
        XCTAssertEqual(export.config["train_sampling_strategy"] as? String, "sequential")
    }

    /// `--cpu` writes bf16: false, unless the recipe asked for bf16: true (which TRL runs as CPU autocast).
    func testCPUExportKeepsARequestedBF16() throws {
        let export = try TRLExport(trainer: "dpo", effective: try effective("""
            model_name_or_path: policy
            dataset_name: pairs.jsonl
            bf16: true
            """), hasEvaluation: false, conversational: false, cpu: true)
        XCTAssertEqual(export.config["use_cpu"] as? Bool, true)
        XCTAssertEqual(export.config["bf16"] as? Bool, true)
    }

    func testCharterOnlyKeysWithoutATRLEquivalentAreRefusedByName() throws {
        XCTAssertThrowsError(try TRLExport(trainer: "dpo", effective: try effective("rpo_alpha: 0.5\nmax_prompt_length: 64"),
                                           hasEvaluation: false, conversational: false, cpu: false)) { error in
            XCTAssertTrue("\(error)".contains("no equivalent of max_prompt_length (64), rpo_alpha (0.5)"), "\(error)")
        }
        XCTAssertThrowsError(try TRLExport(trainer: "ppo", effective: [:], hasEvaluation: false, conversational: false, cpu: false))
    }

    func testEvaluationStrategyIsMadeExplicit() throws {
        let steps = try TRLExport(trainer: "dpo", effective: try effective("eval_steps: 5"), hasEvaluation: true, conversational: false, cpu: false)
        XCTAssertEqual(steps.config["eval_strategy"] as? String, "steps")
        XCTAssertEqual(steps.config["dataset_test_split"] as? String, "test")
        XCTAssertTrue(steps.notes.contains { $0.contains("Charter also evaluates at the end") })
        let none = try TRLExport(trainer: "dpo", effective: try effective(""), hasEvaluation: false, conversational: false, cpu: false)
        XCTAssertEqual(none.config["eval_strategy"] as? String, "no")
        XCTAssertTrue(none.config["eval_steps"] is NSNull)
    }

    func testYAMLValuesKeepTheirTypeUnderYAML11() {
        XCTAssertEqual(TRLExport.yamlValue(1e-6), "1.0e-06", "PyYAML reads 1e-06 (no dot) as a string")
        XCTAssertEqual(TRLExport.yamlValue(0.001), "0.001")
        XCTAssertEqual(TRLExport.yamlValue(3.0), "3.0")
        XCTAssertEqual(TRLExport.yamlValue(3), "3")
        XCTAssertEqual(TRLExport.yamlValue("no"), "\"no\"", "a bare no is a boolean in YAML 1.1")
        XCTAssertEqual(TRLExport.yamlValue(["sigmoid", "sft"] as [Any]), #"["sigmoid", "sft"]"#)
        XCTAssertEqual(TRLExport.yamlValue(NSNull()), "null")
    }

    func testWritesTheFolderTRLRuns() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("charter-export-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let export = try TRLExport(trainer: "dpo", effective: try effective(""), hasEvaluation: false, conversational: false, cpu: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let pairs = folder.appendingPathComponent("pairs.jsonl")
        let line = #"{"chosen": "Hi Hello.", "rejected": "Hi Go away.", "prompt": "Hi"}"#
        try "\(line)\n\(line)\n".write(to: pairs, atomically: true, encoding: .utf8)
        let dataset = try Dataset.load(pairs)
        try export.write(to: folder, model: "/models/policy", train: dataset, evaluation: nil)
        let config = try String(contentsOf: folder.appendingPathComponent("config.yaml"), encoding: .utf8)
        XCTAssertTrue(config.contains("\nmodel_name_or_path: \"/models/policy\"\n"), config)
        XCTAssertTrue(config.contains("\nuse_cpu: true\n"), config)
        let rows = try String(contentsOf: folder.appendingPathComponent("data/train.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(String(rows[0]), #"{"prompt":"Hi","chosen":"Hi Hello.","rejected":"Hi Go away."}"#)
        let launch = try String(contentsOf: folder.appendingPathComponent("launch.sh"), encoding: .utf8)
        XCTAssertTrue(launch.contains("exec trl dpo --config config.yaml"), launch)
        for file in ["accelerate/multi_gpu.yaml", "accelerate/deepspeed_zero3.yaml", "README.md"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), file)
        }
    }
}
