import Constitutional
import Foundation
import Settings
import XCTest
@testable import Pipelines

/// Stage names, the recipe's name and `stage:NAME/FILE` references cannot reach outside the run folder (issue 24
/// item 1: `name: ../victim` moved a folder outside the run folder and deleted an existing `victim.previous/`).
final class PipelinePathSafetyTests: XCTestCase {
    /// What the model factory throws: a refused recipe never gets as far as building models.
    struct NoModels: Error {}

    var base: URL!

    override func setUpWithError() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("charter-pipeline-paths-\(UUID().uuidString)")
        // Folders a hostile recipe aims at, beside the run folder.
        for folder in ["victim", "victim.previous", "outside"] {
            try FileManager.default.createDirectory(at: base.appendingPathComponent(folder), withIntermediateDirectories: true)
            try "keep me\n".write(to: base.appendingPathComponent("\(folder)/keep.txt"), atomically: true, encoding: .utf8)
        }
        // The recipe's inputs (the stages never get to read them).
        try FileManager.default.createDirectory(at: base.appendingPathComponent("helpful"), withIntermediateDirectories: true)
        try "{\"prompt\": \"hi\"}\n".write(to: base.appendingPathComponent("prompts.jsonl"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: base) }

    static func recipe(stageName: String, extra: String = "") -> String {
        """
        name: safety
        stages:
          - {name: "\(stageName)", type: sample, model: helpful, prompts: prompts.jsonl}
        \(extra)
        """
    }

    /// Everything outside the run folder, as (relative path, contents) pairs.
    func outsideState() throws -> [String: String] {
        var state: [String: String] = [:]
        for folder in ["victim", "victim.previous", "outside"] {
            let url = base.appendingPathComponent(folder)
            for name in try FileManager.default.contentsOfDirectory(atPath: url.path) {
                state["\(folder)/\(name)"] = try String(contentsOf: url.appendingPathComponent(name), encoding: .utf8)
            }
        }
        return state
    }

    func problems(_ yaml: String) -> [String] {
        do {
            _ = try PipelineRecipe.parse(yaml: yaml, file: "recipe.yaml", baseDirectory: base)
        } catch let error as ConstitutionError {
            return error.problems.map(\.description)
        } catch {
            return ["\(error)"]
        }
        return []
    }

    func testHostileStageNamesAreRefusedWhenTheRecipeIsRead() {
        let escaped = base.appendingPathComponent("victim").path
        for name in ["../victim", "..", ".", "", "a/b", escaped, "..\\\\victim", "manifest.json", "sft.previous", "tab\\there"] {
            let found = problems(Self.recipe(stageName: name))
            XCTAssertTrue(found.contains { $0.hasPrefix("stages[0].name: ") }, "\(name): \(found)")
        }
        XCTAssertEqual(problems(Self.recipe(stageName: "sample-1")), [])
        XCTAssertTrue(problems(Self.recipe(stageName: "Sample") + "  - {name: sample, type: sample, model: helpful, prompts: p.jsonl}")
            .contains { $0.contains("must be unique (ignoring case") })
    }

    func testHostileRecipeNamesAndStageReferencesAreRefused() {
        let named = problems(Self.recipe(stageName: "ok").replacingOccurrences(of: "name: safety", with: "name: ../victim"))
        XCTAssertTrue(named.contains { $0.hasPrefix("name: ") }, "\(named)")
        for reference in ["stage:ok/../../victim/keep.txt", "stage:ok//etc/passwd", "stage:ok/./x"] {
            let found = problems(Self.recipe(stageName: "ok", extra: "  - {name: sft, type: sft, model: helpful, dataset: \"\(reference)\"}"))
            XCTAssertTrue(found.contains { $0.hasPrefix("stages[1].dataset: ") }, "\(reference): \(found)")
        }
    }

    /// A recipe built in code (not read from YAML) is checked by the pipeline itself before it touches anything.
    func testThePipelineRefusesNamesLeavingTheRunFolderAndTouchesNothing() async throws {
        let before = try outsideState()
        let run = base.appendingPathComponent("run")
        for name in ["../victim", "..", base.appendingPathComponent("victim").path, "../victim.previous"] {
            var recipe = try PipelineRecipe.parse(yaml: Self.recipe(stageName: "ok"), file: "recipe.yaml", baseDirectory: base)
            recipe.stages[0].name = name
            let pipeline = Pipeline(recipe: recipe, runDirectory: run) { _ in throw NoModels() }
            do {
                try await pipeline.run(log: { _ in })
                XCTFail("\(name) was accepted")
            } catch {
                XCTAssertTrue((error as? SettingsError)?.key.contains("stage") == true, "\(name): \(error)")
            }
            XCTAssertEqual(try outsideState(), before, name)
            XCTAssertFalse(FileManager.default.fileExists(atPath: run.path), "nothing is created for a refused recipe")
        }
    }

    /// A stage folder that is a link out of the run folder is refused; the link and its target stay as they were.
    func testAStageFolderLinkingOutsideIsRefused() async throws {
        let run = base.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: run.appendingPathComponent("victim"), withDestinationURL: base.appendingPathComponent("victim"))
        try FileManager.default.createSymbolicLink(at: run.appendingPathComponent("ok.previous"), withDestinationURL: base.appendingPathComponent("outside"))
        let before = try outsideState()
        for name in ["victim", "ok"] {
            var recipe = try PipelineRecipe.parse(yaml: Self.recipe(stageName: "ok"), file: "recipe.yaml", baseDirectory: base)
            recipe.stages[0].name = name
            if name == "ok" {
                // Replacing `ok` would delete `ok.previous`, a link to a folder outside: make the stage folder exist.
                try FileManager.default.createDirectory(at: run.appendingPathComponent("ok"), withIntermediateDirectories: true)
            }
            let pipeline = Pipeline(recipe: recipe, runDirectory: run) { _ in throw NoModels() }
            do {
                try await pipeline.run(log: { _ in })
                XCTFail("\(name) was accepted")
            } catch {
                XCTAssertTrue((error as? SettingsError)?.message.contains("outside") == true, "\(name): \(error)")
            }
            XCTAssertEqual(try outsideState(), before, name)
        }
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: run.appendingPathComponent("victim").path),
                       base.appendingPathComponent("victim").path)
    }
}
