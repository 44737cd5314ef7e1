import Foundation
import LanguageModels
import Runtime
import XCTest
@testable import Oversight

/// A model that can look one fact up in a passage but not chain two: it lists the two look-ups when asked to
/// decompose, answers single look-ups, chooses from facts, and is indifferent when asked a two-hop question directly.
private struct OneHopModel: LanguageModel {
    let name = "one-hop"
    func complete(_ request: CompletionRequest) async throws -> Completion {
        let prompt = request.prompt
        let sentences = prompt.components(separatedBy: "Passage:\n")[1].components(separatedBy: "\n\n")[0].components(separatedBy: ". ")
            .map { $0.hasSuffix(".") ? String($0.dropLast()) : $0 }
        func person(in town: String) -> String { sentences.first { $0.hasSuffix(" lives in \(town)") }!.components(separatedBy: " ")[0] }
        let text: String
        if prompt.hasSuffix("one per line:\n1.") {
            let question = prompt.components(separatedBy: "Question: ")[1].components(separatedBy: "\n")[0]
            let town = question.components(separatedBy: "lives in ")[1].components(separatedBy: " ")[0].replacingOccurrences(of: "?", with: "")
            let name = person(in: town)
            text = " Who lives in \(town)?\n2. " + (question.hasPrefix("What is the job") ? "What is \(name)'s job?" : "Which pet does \(name) keep?")
        } else {
            let question = prompt.components(separatedBy: "Question: ").last!.components(separatedBy: "\n")[0]
            if question.hasPrefix("Who lives in ") {
                text = " " + person(in: String(question.dropFirst("Who lives in ".count).dropLast()))
            } else if question.hasPrefix("What is ") {
                let name = question.dropFirst("What is ".count).components(separatedBy: "'s")[0]
                text = " " + sentences.first { $0.hasPrefix("\(name) works as a ") }!.components(separatedBy: " works as a ")[1]
            } else {
                let name = question.dropFirst("Which pet does ".count).components(separatedBy: " keep")[0]
                text = " " + sentences.first { $0.hasPrefix("\(name) keeps ") }!.components(separatedBy: " keeps ")[1]
            }
        }
        return Completion(text: text, finishReason: .stop, promptTokenCount: 0, completionTokenCount: 0)
    }
    func chat(_ request: ChatRequest) async throws -> Completion { throw OversightError("not used") }
    func score(prompt: String, completion: String) async throws -> Score {
        let letter = completion == " (A)" ? "A" : "B"
        let option = prompt.components(separatedBy: "\n(\(letter)) ")[1].components(separatedBy: "\n")[0]
        let facts = prompt.hasPrefix("Facts found") ? prompt.components(separatedBy: "\n").filter { $0.hasPrefix("Answer: ") } : []
        return Score(tokens: [TokenLogProbability(token: completion, logProbability: facts.contains("Answer: \(option)") ? -0.1 : -2)])
    }
}

final class DecompositionTests: XCTestCase {
    func testGeneratedTwoHopTasksHaveTheirReferenceSteps() {
        let tasks = MultiStepTask.generate(seed: 4, passages: 3)
        XCTAssertEqual(tasks.count, 9)
        XCTAssertEqual(MultiStepTask.generate(seed: 4, passages: 3), tasks)
        for task in tasks {
            XCTAssertEqual(task.steps.count, 2)
            XCTAssertTrue(task.passage.contains("\(task.steps[0].answer) lives in"), "step 1 finds the person")
            XCTAssertEqual(task.steps[1].answer, task.options[task.correctOption], "step 2's answer is the correct option")
            XCTAssertTrue(task.passage.contains(task.options[1 - task.correctOption]), "the distractor is in the passage")
            XCTAssertFalse(task.question.contains(task.steps[0].answer), "the question does not name the person")
        }
    }

    func testSubquestionListsAreParsed() {
        XCTAssertEqual(DecompositionSession.subquestions(in: "1. Who lives in Ashford?\n2) What is Kaldor's job?\n\n3.  \n4. x\n5. y", limit: 3),
                       ["Who lives in Ashford?", "What is Kaldor's job?", "x"])
    }

    /// A model that cannot chain look-ups is at chance directly and always right by decomposition, with its own
    /// sub-questions and the reference ones.
    func testDecompositionHelpsAModelThatCannotChain() async throws {
        let tasks = MultiStepTask.generate(seed: 9, passages: 4)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("decompose-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let session = try DecompositionSession(settings: DecompositionSettings(), decomposer: OneHopModel(), model: OneHopModel())
        let report = try await OversightRun.run(tasks, taskFile: nil, session: session, directory: directory,
                                                options: RunOptions(concurrency: 2, retries: 0, retryDelay: 0, showProgress: false))
        XCTAssertEqual(report.completed, tasks.count)
        let results = try OversightRun.summarise(directory: directory, samples: 100)
        let summary = try XCTUnwrap(results.decomposition)
        XCTAssertEqual(summary.direct.mean, 0.5)
        XCTAssertEqual(summary.decomposed.mean, 1)
        XCTAssertEqual(try XCTUnwrap(summary.reference).mean, 1)
        XCTAssertEqual(summary.difference.mean, 0.5, accuracy: 1e-12)
        XCTAssertEqual(summary.difference.lower, 0.5, accuracy: 1e-12, "every pair differs by ½, so every resample does")
        XCTAssertEqual(summary.meanSubquestions, 2)
        XCTAssertEqual(summary.referenceStepAccuracy, 1)
        XCTAssertTrue(results.protocols.isEmpty)
        let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("Decomposition against answering directly"))
    }
}
