import Foundation
import TestSupport
import XCTest
@testable import Pipelines

/// A critique or sample stage without `prompting:` prompts in chat when its model has a chat template, in the
/// paper's transcript style otherwise, and says which in the log; an explicit `prompting:` is kept (issue 23).
final class PipelinePromptingTests: XCTestCase {
    func testStagesWithoutPromptingFollowTheModelsChatTemplate() async throws {
        let directory = try TinyModels.temporaryDirectory("prompting")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try TinyModels.folder(in: directory, name: "m", seed: 5)
        try #"{"id": "a", "prompt": "Hi"}"#.write(to: directory.appendingPathComponent("prompts.jsonl"), atomically: true, encoding: .utf8)
        let common = "prompts: prompts.jsonl, sampling: {max_tokens: 2}, progress: false"
        let yaml = """
        seed: 3
        stages:
          - {name: base, type: critique, model: m, rounds: 1, few_shot: 0, \(common)}
          - {name: instruct, type: critique, model: {path: m, chat_template: chatml}, rounds: 1, few_shot: 0, \(common)}
          - {name: explicit, type: critique, model: {path: m, chat_template: chatml}, prompting: transcript, rounds: 1, few_shot: 0, \(common)}
          - {name: sampled, type: sample, model: {path: m, chat_template: chatml}, \(common)}
        """
        let recipe = try PipelineRecipe.parse(yaml: yaml, file: "r.yaml", baseDirectory: directory)
        XCTAssertEqual(recipe.stages.map(\.automaticPrompting), [true, true, false, true])
        let log = LogLines()
        let run = directory.appendingPathComponent("run")
        _ = try await Pipeline(recipe: recipe, runDirectory: run).run(log: { log.append($0) })
        func prompting(_ stage: String, _ file: String) throws -> String {
            let line = try XCTUnwrap(try String(contentsOf: run.appendingPathComponent(stage).appendingPathComponent(file), encoding: .utf8)
                .split(separator: "\n").first)
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return try XCTUnwrap(object["prompting"] as? String)
        }
        XCTAssertEqual(try prompting("base", "revisions.jsonl"), "transcript")
        XCTAssertEqual(try prompting("instruct", "revisions.jsonl"), "chat")
        XCTAssertEqual(try prompting("explicit", "revisions.jsonl"), "transcript")
        XCTAssertEqual(try prompting("sampled", "samples.jsonl"), "chat")
        let lines = log.all
        XCTAssertTrue(lines.contains("base: transcript prompting, because m has no chat template (prompting: chat|transcript chooses)"), "\(lines)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("instruct: chat prompting, because m has a chat template") }, "\(lines)")
        XCTAssertFalse(lines.contains { $0.hasPrefix("explicit:") && $0.contains("prompting, because") }, "\(lines)")
    }
}
