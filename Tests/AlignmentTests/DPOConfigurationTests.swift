import Foundation
import XCTest
@testable import Alignment
import Settings

/// Recipes: TRL keys from YAML, flags over the file, unknown keys and wrong types named.
final class DPOConfigurationTests: XCTestCase {
    /// The recipes each test writes, removed when it ends.
    var written: [URL] = []

    override func tearDown() {
        for url in written { try? FileManager.default.removeItem(at: url) }
        written = []
        super.tearDown()
    }

    func write(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("recipe-\(UUID().uuidString).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        written.append(url)
        return url.path
    }

    func testRecipeKeysFlagsAndDefaults() throws {
        let path = try write("""
            beta: 0.25
            learning_rate: 5e-7
            loss_type: [sigmoid, sft]
            loss_weights: [1.0, 0.5]
            max_length: null
            per_device_train_batch_size: 2
            lora_r: 8
            """)
        var recipe = try TrainingRecipe(file: path, allowedKeys: DPOConfiguration.keys + TrainingRecipe.modelKeys)
        try recipe.override(["per_device_train_batch_size": 4])
        try recipe.override(assignment: "label_smoothing=0.1")
        let configuration = try recipe.decode(DPOConfiguration.self)
        XCTAssertEqual(configuration.beta, 0.25)
        XCTAssertEqual(configuration.training.learningRate, 5e-7, "1e-6 style numbers are numbers, not YAML 1.1 strings")
        XCTAssertEqual(configuration.lossTypes, [.sigmoid, .sft])
        XCTAssertEqual(configuration.lossWeights, [1, 0.5])
        XCTAssertNil(configuration.maximumLength, "null turns the limit off")
        XCTAssertEqual(configuration.training.batchSize, 4, "flags override the file")
        XCTAssertEqual(configuration.labelSmoothing, 0.1)
        XCTAssertEqual(recipe["lora_r"] as? Int, 8)
        // TRL's defaults where the recipe is silent.
        let defaults = try TrainingRecipe(allowedKeys: DPOConfiguration.keys).decode(DPOConfiguration.self)
        XCTAssertEqual(defaults.training.learningRate, 1e-6)
        XCTAssertEqual(defaults.beta, 0.1)
        XCTAssertEqual(defaults.maximumLength, 1024)
        XCTAssertEqual(try TrainingRecipe(allowedKeys: RewardConfiguration.keys).decode(RewardConfiguration.self).training.learningRate, 1e-4)
        // The effective configuration round-trips through the same decoder.
        let effective = try recipe.effective(configuration)
        XCTAssertEqual(effective["lora_r"] as? Int, 8)
        let again = try JSONDecoder().decode(DPOConfiguration.self, from: JSONSerialization.data(withJSONObject: effective))
        XCTAssertEqual(again, configuration)
    }

    func testUnknownKeysAndWrongTypesAreNamed() throws {
        let unknown = try write("beta: 0.1\nbetta: 0.2\n")
        XCTAssertThrowsError(try TrainingRecipe(file: unknown, allowedKeys: DPOConfiguration.keys)) { error in
            XCTAssertEqual((error as? SettingsError)?.key, "betta")
            XCTAssertTrue("\(error)".contains(unknown), "\(error)")
        }
        let wrong = try write("beta: high\n")
        let recipe = try TrainingRecipe(file: wrong, allowedKeys: DPOConfiguration.keys)
        XCTAssertThrowsError(try recipe.decode(DPOConfiguration.self)) { XCTAssertEqual(($0 as? SettingsError)?.key, "beta", "\($0)") }
        let badLoss = try write("loss_type: kto\n")
        XCTAssertThrowsError(try TrainingRecipe(file: badLoss, allowedKeys: DPOConfiguration.keys).decode(DPOConfiguration.self)) {
            XCTAssertTrue("\($0)".contains("loss_type") && "\($0)".contains("kto"), "\($0)")
        }
        var configuration = DPOConfiguration()
        configuration.lossWeights = [1, 2]
        XCTAssertThrowsError(try configuration.validate()) { XCTAssertEqual(($0 as? SettingsError)?.key, "loss_weights") }
        configuration = DPOConfiguration()
        configuration.labelSmoothing = 0.5
        XCTAssertThrowsError(try configuration.validate()) { XCTAssertEqual(($0 as? SettingsError)?.key, "label_smoothing") }
    }
}
