import Foundation
import XCTest

/// Defaults that fit real runs (issue 23 item 3): prompting follows the model's chat template, checkpoints every
/// 500 steps as TRL, and a run without --output-dir says where it writes.
extension CLITests {
    func testCritiquePromptsInChatWhenTheModelHasAChatTemplateAndSaysSo() throws {
        let prompts = try write([#"{"id": "a", "prompt": "Hi"}"#], to: "prompts.jsonl")
        func critique(_ name: String, _ extra: [String]) throws -> (errors: String, record: String, sft: String) {
            let output = folder.appendingPathComponent("\(name).jsonl")
            let (status, _, errors) = try charter(["critique", "--model", folder.path, "--prompts", prompts, "--output", output.path,
                                                   "--rounds", "1", "--few-shot", "0", "--max-tokens", "2", "--retries", "0",
                                                   "--concurrency", "1", "--quiet"] + extra)
            XCTAssertEqual(status, 0, errors)
            return (errors, try String(contentsOf: output, encoding: .utf8),
                    try String(contentsOf: folder.appendingPathComponent("\(name).sft.jsonl"), encoding: .utf8))
        }
        // The test folder's tokenizer_config.json has no chat_template: transcripts, as the paper.
        let base = try critique("base", [])
        XCTAssertTrue(base.errors.contains("critique: transcript prompting, because \(folder.lastPathComponent) has no chat template"), base.errors)
        XCTAssertTrue(base.record.contains(#""prompting":"transcript""#), base.record)
        XCTAssertTrue(base.sft.contains(#""prompt": "\n\nHuman: Hi\n\nAssistant:""#), base.sft)
        // With a chat template, chat prompting, and the SFT data comes out as conversations.
        let instruct = try critique("instruct", ["--chat-template", "chatml"])
        XCTAssertTrue(instruct.errors.contains("critique: chat prompting, because \(folder.lastPathComponent) has a chat template"), instruct.errors)
        XCTAssertTrue(instruct.record.contains(#""prompting":"chat""#), instruct.record)
        XCTAssertTrue(instruct.sft.contains(#""prompt": [{"role": "user", "content": "Hi"}]"#), instruct.sft)
        // An explicit choice is kept, and says nothing about the choice.
        let explicit = try critique("explicit", ["--chat-template", "chatml", "--prompting", "transcript"])
        XCTAssertFalse(explicit.errors.contains("prompting, because"), explicit.errors)
        XCTAssertTrue(explicit.record.contains(#""prompting":"transcript""#), explicit.record)
        let (bad, _, message) = try charter(["critique", "--model", folder.path, "--prompts", prompts, "--output",
                                             folder.appendingPathComponent("bad.jsonl").path, "--prompting", "chatty"])
        XCTAssertNotEqual(bad, 0)
        XCTAssertTrue(message.contains("--prompting chatty: use auto, transcript or chat"), message)
    }

    func testLabelSamplesInChatWhenThePolicyHasAChatTemplate() throws {
        let prompts = try write([#"{"id": "a", "prompt": "Hi"}"#], to: "prompts.jsonl")
        let output = folder.appendingPathComponent("labels.jsonl")
        let (status, _, errors) = try charter(["label", "--model", folder.path, "--chat-template", "chatml", "--prompts", prompts,
                                               "--sample-from", folder.path, "-k", "2", "--sample-max-tokens", "2", "--principles", "1",
                                               "--few-shot", "0", "--output", output.path, "--quiet"])
        XCTAssertEqual(status, 0, errors)
        XCTAssertTrue(errors.contains("sample: chat prompting, because \(folder.lastPathComponent) has a chat template"), errors)
        let pairs = try String(contentsOf: folder.appendingPathComponent("labels.pairs.jsonl"), encoding: .utf8)
        XCTAssertTrue(pairs.contains(#""prompting":"chat""#), pairs)
    }

    func testTrainingWithoutOutputDirSaysWhereAndCheckpointsEvery500Steps() throws {
        let data = try write((0..<4).map { #"{"prompt": "say \#($0):", "completion": " \#($0)"}"# }, to: "sft.jsonl")
        let (status, _, errors) = try charter(["sft", "--model", folder.path, "--dataset", data, "--max-steps", "1", "--batch-size", "2"],
                                              directory: folder)
        XCTAssertEqual(status, 0, errors)
        XCTAssertTrue(errors.contains("writing to runs/train (output_dir's default; give --output-dir DIR to choose)"), errors)
        let configuration = try String(contentsOf: folder.appendingPathComponent("runs/train/training_config.json"), encoding: .utf8)
        XCTAssertTrue(configuration.contains(#""save_steps": 500"#) || configuration.contains(#""save_steps" : 500"#), configuration)
        XCTAssertTrue(configuration.contains("save_strategy"), configuration)
        let chosen = folder.appendingPathComponent("chosen").path
        let (named, _, namedErrors) = try charter(["sft", "--model", folder.path, "--dataset", data, "--max-steps", "1", "--batch-size", "2",
                                                   "--output-dir", chosen])
        XCTAssertEqual(named, 0, namedErrors)
        XCTAssertFalse(namedErrors.contains("writing to"), namedErrors)
        let (refused, _, message) = try charter(["sft", "--model", folder.path, "--dataset", data, "--max-steps", "1",
                                                 "--output-dir", chosen, "--set", "save_strategy=hourly"])
        XCTAssertNotEqual(refused, 0)
        XCTAssertTrue(message.contains("save_strategy"), message)
    }
}

extension CLITests {
    /// `critique --batch` (the default) generates the turns of the items in flight together; with float32 weights
    /// every text, seed and principle is what the items give one at a time (`--no-batch`), in chat and transcripts.
    func testBatchedCritiqueWritesWhatOneAtATimeWrites() throws {
        let prompts = try write((1...6).map { #"{"id": "p\#($0)", "prompt": "Question \#($0): how do I \#(String(repeating: "do this ", count: $0))?"}"# },
                                to: "prompts.jsonl")
        for style in ["chat", "transcript"] {
            var trails: [[String]] = []
            for batch in ["--batch", "--no-batch"] {
                let output = folder.appendingPathComponent("\(style)\(batch).jsonl")
                let (status, _, errors) = try charter(["critique", "--model", folder.path, "--chat-template", "chatml", "--prompting", style,
                                                       "--prompts", prompts, "--output", output.path, "--rounds", "2", "--few-shot", "1",
                                                       "--max-tokens", "12", "--retries", "0", "--concurrency", "4", "--quiet", batch])
                XCTAssertEqual(status, 0, errors)
                // Items are written as they finish, so the order of the lines may differ.
                trails.append(try String(contentsOf: output, encoding: .utf8).split(separator: "\n").map(String.init).sorted())
            }
            XCTAssertEqual(trails[0].count, 6)
            XCTAssertEqual(trails[0], trails[1], style)
        }
    }
}
