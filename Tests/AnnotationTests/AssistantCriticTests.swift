import Constitutional
import Foundation
import JSON
import LanguageModels
import XCTest
@testable import Annotation

/// AI assistance: critiques written with Constitutional AI's critique prompt, stored per task, shown to a random
/// share of assignments, and recorded per judgement.
final class AssistantCriticTests: XCTestCase {
    /// A critic that answers every critique prompt with a fixed critique naming the response it was shown, and
    /// remembers the prompts.
    final class RecordingCritic: LanguageModel, @unchecked Sendable {
        let name = "recording-critic"
        private let lock = NSLock()
        private(set) var prompts: [String] = []

        func complete(_ request: CompletionRequest) async throws -> Completion {
            lock.withLock { prompts.append(request.prompt) }
            // The response under critique is the last "Assistant:" turn before the critique request.
            let turn = request.prompt.components(separatedBy: "\n\nAssistant: ").last?.components(separatedBy: "\n\nCritiqueRequest:").first ?? ""
            return Completion(text: " <script>alert(1)</script> About \"\(turn)\": fine. ", finishReason: .stop, promptTokenCount: 0, completionTokenCount: 0)
        }

        func chat(_ request: ChatRequest) async throws -> Completion {
            try await complete(CompletionRequest(prompt: request.messages.map(\.content).joined(separator: "\n")))
        }

        func score(prompt: String, completion: String) async throws -> Score { Score(tokens: []) }
    }

    func critic() throws -> AssistantCritic {
        try AssistantCritic(constitution: Constitution.charterDefault, principleID: "no-dangerous-instructions", prompting: .transcript,
                            sampling: SamplingOptions(maximumTokens: 32, temperature: 0), fewShot: 0)
    }

    func testCritiquesUseThePrincipleAndResume() async throws {
        let scratch = try Scratch()
        let store = try scratch.store()
        try store.importTasks(from: scratch.pairs("pairs.jsonl", count: 3))
        let model = RecordingCritic()
        let critic = try critic()
        let first = try await critic.run(store, model: model, limit: 2)
        XCTAssertEqual(first, 2)
        XCTAssertEqual(try store.critiquedTaskCount(), 2)
        let second = try await critic.run(store, model: model), third = try await critic.run(store, model: model)
        XCTAssertEqual(second, 1, "a second run critiques only the task left")
        XCTAssertEqual(third, 0)
        XCTAssertEqual(model.prompts.count, 6, "two responses per task")
        let request = try XCTUnwrap(critic.principle.critiqueRequest)
        XCTAssertTrue(model.prompts.allSatisfy { $0.contains(request) && $0.hasSuffix("Critique:") }, model.prompts[0])
        XCTAssertTrue(model.prompts.contains { $0.contains("Human: prompt 0\n\nAssistant: good 0\n\nCritiqueRequest:") }, model.prompts.joined(separator: "\n---\n"))
        XCTAssertThrowsError(try AssistantCritic(constitution: Constitution.charterDefault, principleID: "nope", prompting: .chat,
                                                 sampling: SamplingOptions())) { error in
            XCTAssertTrue("\(error)".contains("no-dangerous-instructions"), "\(error)")
        }
    }

    func testAssistanceIsDrawnShownAndRecorded() async throws {
        let scratch = try Scratch()
        let store = try scratch.store()
        try store.importTasks(from: scratch.pairs("pairs.jsonl", count: 40))
        _ = try await critic().run(store, model: RecordingCritic(), limit: 30)
        let annotators = try ["ann", "bo"].map { try store.invite($0).annotator.id }
        var assisted = 0, critiquedButNot = 0
        for annotator in annotators {
            while let assignment = try store.next(for: annotator, overlap: 2, goldEvery: 0, assistShare: 0.5).assignment {
                if let assistance = assignment.assistance {
                    assisted += 1
                    XCTAssertEqual(assistance.principleID, "no-dangerous-instructions")
                    // Each critique is of its own response (first = chosen "good i", second = "bad i").
                    XCTAssertTrue(assistance.first.contains("\"good ") && assistance.second.contains("\"bad "), "\(assistance)")
                } else if AnnotationStore.assistanceDraw(annotator: annotator, task: assignment.task.id) < 0.5 {
                    critiquedButNot += 1  // drawn, but the task has no critiques
                }
                try store.record(Judgement(taskID: assignment.task.id, verdict: .prefer, strength: 1), annotator: annotator)
            }
        }
        XCTAssertTrue((15...45).contains(assisted), "about half of the 60 critiqued assignments (\(assisted))")
        XCTAssertGreaterThan(critiquedButNot, 0, "the 10 tasks without critiques are never assisted")
        let judgements = try store.judgements()
        XCTAssertEqual(judgements.filter(\.assisted).count, assisted, "assistance is recorded with each judgement")
        let statistics = LabelStatistics(judgements)
        XCTAssertEqual(statistics.assistance.map(\.assisted), [false, true])
        XCTAssertEqual(statistics.assistance.map(\.labels), [80 - assisted, assisted])
        XCTAssertEqual(statistics.assistance.map(\.majorityCompared).reduce(0, +), 80, "two annotators agreeing on 40 tasks")
        // Share 0 shows none.
        let cy = try store.invite("cy").annotator.id
        XCTAssertNil(try store.next(for: cy, overlap: 3, goldEvery: 0, assistShare: 0).assignment?.assistance)
    }
}
