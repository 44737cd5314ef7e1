import Foundation
import XCTest
@testable import LanguageModels

/// A batch of unrelated requests (different prompts, lengths, sampling settings and seeds) in one forward pass per
/// token gives each request what it gets alone.
final class BatchedCompletionTests: XCTestCase {
    func testBatchEqualsRequestsAlone() async throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("AlignmentTests/Fixtures/trl/policy")
        let model = try LocalLanguageModel.load(directory: folder)
        let requests = [
            CompletionRequest(prompt: "The weather today", options: SamplingOptions(maximumTokens: 6, temperature: 0)),
            CompletionRequest(prompt: "Hi", options: SamplingOptions(maximumTokens: 9, temperature: 0.9, topK: 20, seed: 7, topLogProbabilities: 2)),
            CompletionRequest(prompt: "A much longer prompt about cats and dogs", options: SamplingOptions(maximumTokens: 4, temperature: 1.2, topP: 0.9, seed: 3)),
        ]
        let batched = try await model.completeBatch(requests)
        for (request, result) in zip(requests, batched) {
            let alone = try await model.complete(request)
            XCTAssertEqual(result.text, alone.text, request.prompt)
            XCTAssertEqual(result.completionTokenCount, alone.completionTokenCount)
            XCTAssertEqual(result.tokens?.map(\.token), alone.tokens?.map(\.token))
            for (a, b) in zip(result.tokens ?? [], alone.tokens ?? []) { XCTAssertEqual(a.logProbability, b.logProbability, accuracy: 1e-4) }
        }
        XCTAssertEqual(batched[0].completionTokenCount, 6)
        XCTAssertLessThanOrEqual(batched[2].completionTokenCount, 4)
    }
}

/// Streamed pieces concatenate to exactly the text `complete` returns, stop strings included.
final class StreamedCompletionTests: XCTestCase {
    func testPiecesConcatenateToTheCompletion() async throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("AlignmentTests/Fixtures/trl/policy")
        let model = try LocalLanguageModel.load(directory: folder)
        for options in [SamplingOptions(maximumTokens: 12, temperature: 0), SamplingOptions(maximumTokens: 16, temperature: 1, seed: 4),
                        SamplingOptions(maximumTokens: 16, temperature: 1, stop: ["e", " the"], seed: 5)] {
            let whole = try await model.complete(CompletionRequest(prompt: "The weather today", options: options))
            var pieces: [String] = []
            let streamed = try await model.stream(prompt: "The weather today", chat: nil, options: options) { text, logProbability in
                pieces.append(text)
                XCTAssertLessThanOrEqual(logProbability, 0)
            }
            XCTAssertEqual(pieces.joined(), whole.text)
            XCTAssertEqual(streamed, whole)
            for stop in options.stop { XCTAssertFalse(pieces.joined().contains(stop)) }
        }
    }
}
