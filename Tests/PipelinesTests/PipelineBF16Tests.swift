import Foundation
import TestSupport
import Constitutional
import Tensors
import XCTest
@testable import Pipelines

/// `training.bf16: true` in a pipeline stage trains that stage with bf16 matmuls, as `--bf16` does for the trainer
/// commands, and only that stage.
final class PipelineBF16Tests: XCTestCase {
    func testBF16StagesTrainInBF16AndOnlyThem() async throws {
        let directory = try TinyModels.temporaryDirectory("pipeline-bf16")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try TinyModels.folder(in: directory, name: "m", seed: 5)
        try (0..<8).map { #"{"prompt": "question \#($0)?", "completion": " answer \#($0)."}"# }.joined(separator: "\n")
            .write(to: directory.appendingPathComponent("sft.jsonl"), atomically: true, encoding: .utf8)
        try #"{"prompt": "hi", "chosen": " hello there", "rejected": " go away"}\#n{"prompt": "help me", "chosen": " sure", "rejected": " no"}\#n"#
            .write(to: directory.appendingPathComponent("prefs.jsonl"), atomically: true, encoding: .utf8)
        let recipe = directory.appendingPathComponent("recipe.yaml")
        try """
        seed: 3
        stages:
          - {name: fp32, type: sft, model: m, dataset: sft.jsonl, training: {max_steps: 2, per_device_train_batch_size: 4, learning_rate: 0.001, logging_steps: 1}}
          - {name: bf16, type: sft, model: m, dataset: sft.jsonl, training: {max_steps: 2, per_device_train_batch_size: 4, learning_rate: 0.001, logging_steps: 1, bf16: true}}
          - {name: dpo, type: dpo, model: m, dataset: prefs.jsonl, training: {max_steps: 1, per_device_train_batch_size: 2, logging_steps: 1, bf16: true}}
        """.write(to: recipe, atomically: true, encoding: .utf8)
        let lines = LogLines()
        MatmulPrecision.current = .float32
        let manifest = try await Pipeline(recipe: try PipelineRecipe.load(recipe), runDirectory: directory.appendingPathComponent("run"),
                                          trainers: Stages.builtInTrainers).run(log: { lines.append($0) })
        XCTAssertEqual(manifest.stages.map(\.status), ["complete", "complete", "complete"])
        XCTAssertEqual(MatmulPrecision.current, .float32, "the precision before the pipeline comes back after each bf16 stage")
        func recorded(_ stage: String) throws -> Bool? {
            let url = directory.appendingPathComponent("run/\(stage)/model/training_config.json")
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])["bf16"] as? Bool
        }
        XCTAssertNil(try recorded("fp32"))
        XCTAssertEqual(try recorded("bf16"), true)
        XCTAssertEqual(try recorded("dpo"), true)
        // The same stage in bf16 computes other numbers (its operands are rounded).
        XCTAssertNotEqual(manifest.stages[0].counts["loss"], manifest.stages[1].counts["loss"], "\(manifest.stages.map(\.counts))")
        XCTAssertEqual(lines.all.filter { $0.contains("bf16: true: matmul operands rounded to bfloat16") }.count, 2, "\(lines.all)")
        XCTAssertFalse(lines.all.contains { $0.contains("bf16") && $0.contains("read and not used") }, "\(lines.all)")
    }

    func testBF16MustBeABoolean() throws {
        XCTAssertThrowsError(try PipelineRecipe.parse(yaml: "stages:\n  - {type: sft, model: m, dataset: d.jsonl, training: {bf16: maybe}}\n",
                                                      file: "r.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))) {
            XCTAssertEqual(($0 as? ConstitutionError)?.problems.map(\.path), ["stages[0].training.bf16"], "\($0)")
        }
    }
}

