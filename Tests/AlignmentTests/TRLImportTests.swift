import Foundation
import XCTest
@testable import Alignment

/// `charter import trl`: a TRL config becomes a Charter recipe that trains as TRL would — the config's own keys
/// kept, TRL's defaults written where Charter's differ (and only there), a Hub dataset refused with what to do.
final class TRLImportTests: XCTestCase {
    func recipe(_ yaml: String, keys: [String]) throws -> TrainingRecipe {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("trl-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: url) }
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        return try TrainingRecipe(file: url.path, allowedKeys: keys + TrainingRecipe.modelKeys)
    }

    func testDifferingDefaultsAreWrittenOut() throws {
        let keys = SFTConfiguration.keys
        let defaults = try TrainingRecipe(allowedKeys: keys).effective(SFTConfiguration())
        let imported = try TRLImport(trainer: "sft", config: try recipe("learning_rate: 1.0e-4\nbf16: true", keys: keys), charterDefaults: defaults)
        XCTAssertEqual(imported.values["num_train_epochs"] as? Double, 3, "TRL's default, which Charter's (1) differs from")
        XCTAssertEqual(imported.values["assistant_only_loss"] as? Bool, false)
        XCTAssertEqual(imported.values["learning_rate"] as? Double, 1e-4, "the config's own value stays")
        XCTAssertNil(imported.values["logging_steps"], "equal defaults (10) are not written")
        XCTAssertNil(imported.values["completion_only_loss"], "TRL's null (decide from the data) is Charter's behaviour")
        XCTAssertEqual(imported.notes.count, 2, "\(imported.notes)")
        XCTAssertTrue(imported.yaml.contains("num_train_epochs: 3.0\n"), imported.yaml)
        // What the recipe trains with, read back by Charter.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("imported-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: url) }
        try imported.yaml.write(to: url, atomically: true, encoding: .utf8)
        let configuration = try TrainingRecipe(file: url.path, allowedKeys: keys + TrainingRecipe.modelKeys).decode(SFTConfiguration.self)
        XCTAssertEqual(configuration.training.epochs, 3)
        XCTAssertFalse(configuration.assistantOnlyLoss)
    }

    func testHubDatasetIsRefusedWithWhatToDo() throws {
        let keys = DPOConfiguration.keys
        XCTAssertThrowsError(try TRLImport(trainer: "dpo", config: try recipe("dataset_name: trl-lib/ultrafeedback_binarized", keys: keys),
                                           charterDefaults: [:])) { error in
            XCTAssertTrue("\(error)".contains("to_json(\"ultrafeedback_binarized/train.jsonl\")"), "\(error)")
        }
    }
}
