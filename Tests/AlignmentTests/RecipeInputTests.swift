import Foundation
import XCTest
@testable import Alignment
import Settings

/// A recipe file's bad values are named by key and value (never Foundation's "not valid JSON" or "Code=3840"), and
/// hostile YAML is refused before it is parsed.
final class RecipeInputTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("charter-recipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// The error reading `yaml` as an SFT recipe and decoding its configuration gives.
    func failure(_ yaml: String) -> String {
        let url = folder.appendingPathComponent("recipe.yaml")
        do {
            try yaml.write(to: url, atomically: true, encoding: .utf8)
            let recipe = try TrainingRecipe(file: url.path, allowedKeys: SFTConfiguration.keys)
            _ = try recipe.decode(SFTConfiguration.self)
            return "accepted"
        } catch {
            return "\(error)".replacingOccurrences(of: folder.path + "/", with: "")
        }
    }

    func testWrongNumbersNameTheKeyAndTheValue() {
        XCTAssertEqual(failure("seed: -1"), "seed: must be a whole number (got -1.0)")
        XCTAssertEqual(failure("per_device_train_batch_size: 1.5"), "per_device_train_batch_size: must be a whole number (got 1.5)")
        XCTAssertEqual(failure("learning_rate: .nan"), "learning_rate: must be a finite number (got .nan)")
        XCTAssertEqual(failure("max_grad_norm: -.inf"), "max_grad_norm: must be a finite number (got -.inf)")
        XCTAssertEqual(failure("learning_rate: [1, .inf]"), "learning_rate: must be a finite number (got .inf)")
        XCTAssertEqual(failure("learning_rate: 2e-5\nseed: 3"), "accepted")
    }

    func testFlagsAreCheckedLikeTheFile() throws {
        var recipe = TrainingRecipe(allowedKeys: SFTConfiguration.keys)
        XCTAssertThrowsError(try recipe.override(assignment: "learning_rate=.nan")) { error in
            XCTAssertEqual("\(error)", "learning_rate: must be a finite number (got .nan)")
        }
        XCTAssertThrowsError(try recipe.override(assignment: "seed=" + String(repeating: "[", count: 5000))) { error in
            XCTAssertTrue("\(error)".hasPrefix("--set seed:1: YAML nests deeper than 128 levels"), "\(error)")
        }
    }

    func testHostileYAMLIsRefusedByFileAndLine() {
        let deep = "learning_rate: 1\nseed: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        XCTAssertTrue(failure(deep).hasPrefix("recipe.yaml:2: YAML nests deeper than 128 levels"), failure(deep))
        var laughs = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for level in 1...9 { laughs.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]") }
        XCTAssertTrue(failure(laughs.joined(separator: "\n")).hasPrefix("recipe.yaml:5: YAML aliases expand to more than 100000 nodes"),
                      failure(laughs.joined(separator: "\n")))
    }
}
