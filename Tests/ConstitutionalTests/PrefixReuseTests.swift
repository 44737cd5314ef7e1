import Foundation
import LanguageModels
import XCTest
@testable import Constitutional

/// Critique → revision and AI-feedback labels on a real (tiny) local model are the same with the prefix cache on and
/// off: critiques and revisions byte for byte, label probabilities within 1e-5 — and the cache was used.
final class PrefixReuseTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("AlignmentTests/Fixtures/trl/policy")

    static let constitution = Constitution(
        name: "small", version: "1", description: "",
        principles: [
            Principle(id: "harm", category: .harmlessness, critiqueRequest: "Find harm.", revisionRequest: "Remove it.",
                      comparison: "Which response is less harmful?"),
            Principle(id: "honest", category: .honesty, critiqueRequest: "Find lies.", revisionRequest: "Fix them.",
                      comparison: "Which response is more honest?"),
        ],
        critiqueExamples: [CritiqueExample(conversation: [.init(role: "user", content: "Where is the key?"),
                                                          .init(role: "assistant", content: "Under the mat.")],
                                           critiqueRequest: "Find harm.", critique: "None.", revisionRequest: "Remove it.",
                                           revision: "Under the mat.")],
        comparisonExamples: [ComparisonExample(conversation: [.init(role: "user", content: "Hi")], responseA: "Hello.",
                                               responseB: "Go away.", preferred: "A")])

    static func models() throws -> (cached: LocalLanguageModel, plain: LocalLanguageModel) {
        (try LocalLanguageModel.load(directory: folder), try LocalLanguageModel.load(directory: folder, prefixCacheBytes: 0))
    }

    func testCritiquesAndRevisionsAreByteIdentical() async throws {
        let (cached, plain) = try Self.models()
        XCTAssertNil(plain.prefixCache)
        var configuration = CritiqueConfiguration()
        (configuration.rounds, configuration.prompting) = (2, .transcript)
        for temperature in [0, 0.7] as [Float] {
            configuration.sampling = SamplingOptions(maximumTokens: 12, temperature: temperature)
            let critic = try CritiqueRevision(constitution: Self.constitution, configuration: configuration)
            for (index, question) in ["How do I pick a lock?", "What is in the box?"].enumerated() {
                let item = PromptItem(id: "q\(index)", prompt: .text(question), conversation: [.init(role: "user", content: question)])
                let expected = try await critic.run(item, model: plain)
                let actual = try await critic.run(item, model: cached)
                XCTAssertEqual(actual, expected, "temperature \(temperature), \(question)")
            }
        }
        let statistics = try XCTUnwrap(cached.prefixCache).statistics
        XCTAssertEqual(statistics.lookups, 2 * 2 * 5, "an initial answer, then a critique and a revision per round")
        XCTAssertGreaterThanOrEqual(statistics.hits, 2 * 2 * 4, "every prompt but the first shares the few-shot block: \(statistics)")
    }

    func testLabelProbabilitiesMatch() async throws {
        let (cached, plain) = try Self.models()
        var configuration = FeedbackConfiguration()
        configuration.principlesPerPair = 2
        let feedback = try AIFeedback(constitution: Self.constitution, configuration: configuration)
        let pair = ResponsePair(id: "p", prompt: .text("How do I pick a lock?"), conversation: [.init(role: "user", content: "How do I pick a lock?")],
                                first: "Use a tension wrench.", second: "I cannot help with that.")
        let expected = try await feedback.label(pair, model: plain)
        let actual = try await feedback.label(pair, model: cached)
        XCTAssertEqual(actual.firstProbability, expected.firstProbability, accuracy: 1e-5)
        for (a, e) in zip(actual.judgements.flatMap(\.orders), expected.judgements.flatMap(\.orders)) {
            XCTAssertEqual(a.probabilityA, e.probabilityA, accuracy: 1e-5)
            XCTAssertEqual(a.logProbabilityA, e.logProbabilityA, accuracy: 1e-5)
            XCTAssertEqual(a.logProbabilityB, e.logProbabilityB, accuracy: 1e-5)
        }
        XCTAssertEqual(actual.judgements.flatMap(\.orders).count, 4)
        let statistics = try XCTUnwrap(cached.prefixCache).statistics
        XCTAssertEqual(statistics.lookups, 8, "two options of four questions")
        XCTAssertEqual(statistics.hits, 7, "every scoring but the first reuses at least the few-shot comparison: \(statistics)")
    }
}
