import Foundation
import Runtime
import XCTest
@testable import LanguageModels

/// Generation reports every token it produces to the task's `TokenProgress` listener, also through a model's actor.
final class TokenProgressTests: XCTestCase {
    /// Sums what the listener receives (it may be called from the model's actor).
    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var reports: [Int] = []
        func add(_ count: Int) { lock.withLock { reports.append(count) } }
        var all: [Int] { lock.withLock { reports } }
    }

    private let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("AlignmentTests/Fixtures/trl/policy")

    func testGeneratorReportsEachStepsTokens() throws {
        let model = try PretrainedModel.load(directory: folder)
        // Rows of different lengths: the second stops after 3 tokens, so later steps report one token, not two.
        let configurations = [GenerationConfiguration(sampling: SamplingOptions(maximumTokens: 7, temperature: 0)),
                              GenerationConfiguration(sampling: SamplingOptions(maximumTokens: 3, temperature: 0))]
        let counter = Counter()
        let results = TokenProgress.$listener.withValue({ counter.add($0) }) {
            Generator(model: model).generate(prompts: [[5, 6, 7], [8]], configurations: configurations)
        }
        XCTAssertEqual(results.map(\.tokens.count), [7, 3])
        XCTAssertEqual(counter.all, [2, 2, 2, 1, 1, 1, 1])
        _ = Generator(model: model).generate(prompts: [[5]], configuration: configurations[0])
        XCTAssertEqual(counter.all.count, 7, "nothing is reported where no listener is bound")
    }

    func testALocalModelsCompletionsReachTheCallersListener() async throws {
        let model = try LocalLanguageModel.load(directory: folder)
        let counter = Counter()
        let completion = try await TokenProgress.$listener.withValue({ counter.add($0) }) {
            try await model.complete(CompletionRequest(prompt: "The weather today", options: SamplingOptions(maximumTokens: 9, temperature: 0)))
        }
        XCTAssertGreaterThan(completion.completionTokenCount, 0)
        XCTAssertEqual(counter.all.reduce(0, +), completion.completionTokenCount)
    }
}
