import Foundation
import LanguageModels
import Pipelines
import Runtime
import TestSupport
import XCTest
@testable import Constitutional

/// A policy that answers its first `repeats` calls with the same refusal, then a text naming the call's seed; it
/// counts its calls.
final class RepeatingPolicy: LanguageModel, @unchecked Sendable {
    let name = "repeating"
    let repeats: Int
    private let lock = NSLock()
    private var calls = 0

    init(repeats: Int) { self.repeats = repeats }

    func complete(_ request: CompletionRequest) async throws -> Completion {
        let seed = request.options.seed ?? 0
        let text = lock.withLock {
            calls += 1
            return calls <= repeats ? " I can't help with that." : " Here is an answer (\(seed))."
        }
        return Completion(text: text, finishReason: .stop, promptTokenCount: 1, completionTokenCount: 6)
    }

    func chat(_ request: ChatRequest) async throws -> Completion { try await complete(CompletionRequest(prompt: "", options: request.options)) }
    func score(prompt: String, completion: String) async throws -> Score { Score(tokens: []) }
    var callCount: Int { lock.withLock { calls } }
}

/// `redraw_identical`: a pair's second response that repeats the first is drawn again with a fresh seed, up to the
/// limit; the record says how many draws each response took, and the stage counts what is left identical.
final class RedrawIdenticalTests: XCTestCase {
    let quiet = RunOptions(concurrency: 1, retries: 0, retryDelay: 0, showProgress: false)

    func sample(redraws: Int, repeats: Int) async throws -> (SampleRecord, [String: Double], Int) {
        let directory = try TinyModels.temporaryDirectory("redraw")
        defer { try? FileManager.default.removeItem(at: directory) }
        let prompts = directory.appendingPathComponent("prompts.jsonl")
        try #"{"id": "lock", "prompt": "How do I pick a lock?"}"#.appending("\n").write(to: prompts, atomically: true, encoding: .utf8)
        var configuration = SampleConfiguration(k: 2)
        configuration.prompting = .transcript
        configuration.redrawIdentical = redraws
        let policy = RepeatingPolicy(repeats: repeats)
        let output = directory.appendingPathComponent("pairs.jsonl")
        let outcome = try await Stages.sample(prompts: prompts, output: output, configuration: configuration, models: [policy], run: quiet)
        return (try XCTUnwrap(Stages.readRecords(SampleRecord.self, from: output).first), outcome.counts, policy.callCount)
    }

    func testARepeatedResponseIsDrawnAgainUntilItDiffers() async throws {
        // Calls 1–3 repeat the refusal: response 0 is call 1, response 1 is redrawn twice (calls 3 and 4).
        let (record, counts, calls) = try await sample(redraws: 4, repeats: 3)
        XCTAssertEqual(calls, 4)
        XCTAssertEqual(record.redraws, [0, 2])
        XCTAssertEqual(record.responses[0], "I can't help with that.")
        XCTAssertEqual(record.seeds[0], ItemRandom.seed(0, "lock", "sample-0"))
        XCTAssertEqual(record.seeds[1], ItemRandom.seed(0, "lock", "sample-1-redraw-2"), "the seed that drew the kept response")
        XCTAssertEqual(record.responses[1], "Here is an answer (\(record.seeds[1])).")
        XCTAssertEqual(counts["prompts_with_identical_responses"], 0)
        XCTAssertEqual(counts["redraws"], 2)
    }

    func testARepeatThatOutlastsTheLimitIsKeptAndCounted() async throws {
        let (record, counts, calls) = try await sample(redraws: 1, repeats: 10)
        XCTAssertEqual(calls, 3)
        XCTAssertEqual(record.responses, ["I can't help with that.", "I can't help with that."], "kept, never dropped")
        XCTAssertEqual(record.redraws, [0, 1])
        XCTAssertEqual(counts["prompts_with_identical_responses"], 1)
        XCTAssertEqual(counts["redraws"], 1)
    }

    func testWithoutRedrawsRecordsAreAsBefore() async throws {
        let (record, counts, calls) = try await sample(redraws: 0, repeats: 10)
        XCTAssertEqual(calls, 2)
        XCTAssertNil(record.redraws, "no redraws key in records when redrawing is off")
        XCTAssertEqual(record.seeds, [ItemRandom.seed(0, "lock", "sample-0"), ItemRandom.seed(0, "lock", "sample-1")])
        XCTAssertEqual(counts["prompts_with_identical_responses"], 1)
    }

    func testTheLimitIsChecked() throws {
        var configuration = SampleConfiguration(k: 2)
        configuration.redrawIdentical = 65
        XCTAssertThrowsError(try ResponseSampler(configuration: configuration)) { error in
            XCTAssertTrue("\(error)".contains("redraw_identical"), "\(error)")
        }
    }
}
