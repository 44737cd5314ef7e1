import Foundation
import LanguageModels
import TestSupport
import XCTest
@testable import ModelEvaluation

final class ChoiceEvaluationTests: XCTestCase {
    func write(_ text: String, _ name: String, in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testReadsTheThreeHHHShapesAndTRLPairs() throws {
        let directory = try TinyModels.temporaryDirectory("choice-read")
        defer { try? FileManager.default.removeItem(at: directory) }
        let lines = """
            {"input": "Human: hi\\n\\nAssistant:", "targets": [{"text": "Hello!", "score": 1}, {"text": "Go away.", "score": 0}]}
            {"input": "Q", "targets": {"choices": ["yes", "no"], "labels": [0, 1]}}
            {"id": 7, "input": "Q ", "target_scores": {"a": 0, "b": 1}}
            """
        let (format, items) = try ChoiceItem.read(try write(lines, "hhh.jsonl", in: directory))
        XCTAssertEqual(format, .hhh)
        XCTAssertEqual(items.map(\.id), ["line-1", "line-2", "7"])
        XCTAssertEqual(items[0].targets, [" Hello!", " Go away."], "one space after the input, as lm-evaluation-harness joins them")
        XCTAssertEqual(items[1].scores, [0, 1])
        XCTAssertEqual(items[2].targets, ["a", "b"], "no space added after an input ending in white space")
        let pairs = try ChoiceItem.read(try write(#"{"prompt": "2+2=", "chosen": "4", "rejected": "5"}"#, "pairs.jsonl", in: directory))
        XCTAssertEqual(pairs.format, .preference)
        XCTAssertEqual(pairs.items[0].targets, ["4", "5"])
        XCTAssertEqual(pairs.items[0].scores, [1, 0])
        let implicit = try ChoiceItem.read(try write(#"{"chosen": "\n\nHuman: Hi\n\nAssistant: Hello!", "rejected": "\n\nHuman: Hi\n\nAssistant: Go away."}"#, "hh.jsonl", in: directory))
        XCTAssertEqual(implicit.items[0].context, "\n\nHuman: Hi\n\nAssistant:", "HH-RLHF's implicit prompt, split as TRL splits it")
        XCTAssertEqual(implicit.items[0].targets, [" Hello!", " Go away."])
    }

    func testBadItemsNameTheirLineAndField() throws {
        let directory = try TinyModels.temporaryDirectory("choice-errors")
        defer { try? FileManager.default.removeItem(at: directory) }
        let bad = try write("{\"input\": \"Q\", \"targets\": [{\"text\": \"a\", \"score\": 1}, {\"text\": \"b\", \"score\": 0}]}\n{\"input\": \"Q\", \"targets\": [{\"text\": \"a\"}]}\n", "bad.jsonl", in: directory)
        XCTAssertThrowsError(try ChoiceItem.read(bad)) { XCTAssertTrue("\($0)".contains("bad.jsonl:2: targets[0] needs \"text\""), "\($0)") }
        let conversational = try write(#"{"prompt": [{"role": "user", "content": "hi"}], "chosen": "a", "rejected": "b"}"#, "chat.jsonl", in: directory)
        XCTAssertThrowsError(try ChoiceItem.read(conversational)) { XCTAssertTrue("\($0)".contains("chat.jsonl:1: \"prompt\" is a conversation"), "\($0)") }
    }

    /// Summed and per-token accuracy differ exactly where length decides: a long right answer has a lower sum but a
    /// higher mean.
    func testSumAndMeanAccuracy() async throws {
        // log p = −0.1 per character for "right…", −0.5 per character otherwise.
        let model = ScriptedJudge { _, completion in Double(completion.count) * (completion.hasPrefix("right") ? -0.1 : -0.5) }
        let item = ChoiceItem(id: "long", context: "Q", targets: ["right answer with many words", "no"], scores: [1, 0])
        let record = try await ChoiceEvaluation.score(item, model: model)
        XCTAssertFalse(record.correctBySum, "−2.8 summed loses to −1.0")
        XCTAssertTrue(record.correctByMean, "−0.1 per character beats −0.5")
        let short = try await ChoiceEvaluation.score(ChoiceItem(id: "short", context: "Q", targets: ["no", "right"], scores: [0, 1]), model: model)
        XCTAssertTrue(short.correctBySum && short.correctByMean)
        let summary = ChoiceEvaluation.Summary([record, short])
        XCTAssertEqual(summary.accuracyBySum, 0.5)
        XCTAssertEqual(summary.accuracyByMean, 1)
        XCTAssertEqual(summary.chance, 0.5)
    }

    /// With a real (tiny, local) model the sums are `LanguageModel.score`'s: the same numbers `charter logprobs` prints.
    func testLocalModelSumsAreItsScores() async throws {
        let directory = try TinyModels.temporaryDirectory("choice-local")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try LocalLanguageModel.load(directory: try TinyModels.folder(in: directory, name: "tiny", seed: 3))
        let item = ChoiceItem(id: "x", context: "Human: hi\n\nAssistant:", targets: [" Hello there", " No"], scores: [1, 0])
        let record = try await ChoiceEvaluation.score(item, model: model)
        for (index, target) in item.targets.enumerated() {
            let score = try await model.score(prompt: item.context, completion: target)
            XCTAssertEqual(record.sums[index], score.totalLogProbability, accuracy: 1e-9)
            XCTAssertEqual(record.tokens[index], score.tokens.count)
        }
    }
}
