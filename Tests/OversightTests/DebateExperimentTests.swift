import Foundation
import Reports
import XCTest
@testable import Oversight

final class DebateExperimentTests: XCTestCase {
    /// The quoting policy's quotes always verify; arguing for the truth it quotes the answering sentence, arguing for
    /// the distractor a sentence about someone else.
    func testQuotingPolicyQuotesTheAnswerOrAnotherPerson() async throws {
        for task in ReadingTask.generate(seed: 11, passages: 5) {
            let name = task.question.components(separatedBy: " ").first { $0.first?.isUppercase == true && !["Where", "What", "Which"].contains($0) }!
                .replacingOccurrences(of: "'s", with: "").replacingOccurrences(of: "?", with: "")
            for option in 0..<2 {
                let argument = try await QuotingArguer().argue(task, option: option, protocolName: .debate, seen: [], sampling: .greedy, seed: 0)
                let quotes = QuoteVerification.quotes(in: argument, source: task.passage)
                XCTAssertEqual(quotes.count, 1)
                XCTAssertTrue(quotes[0].verified, argument)
                XCTAssertTrue(quotes[0].text.contains(task.options[option]))
                XCTAssertEqual(quotes[0].text.hasPrefix(name + " "), option == task.correctOption, "\(task.question): \(argument)")
            }
        }
    }

    /// The fabricating policy's true side quotes the answer (verified); its false side puts its answer into that
    /// sentence about the right person, which fails verification.
    func testFabricatingPolicyMakesUpUnverifiedQuotes() async throws {
        for task in ReadingTask.generate(seed: 12, passages: 5) {
            for option in 0..<2 {
                let argument = try await QuotingArguer(fabricates: true).argue(task, option: option, protocolName: .debate, seen: [], sampling: .greedy, seed: 0)
                let quotes = QuoteVerification.quotes(in: argument, source: task.passage)
                XCTAssertEqual(quotes.count, 1)
                XCTAssertTrue(quotes[0].text.contains(task.options[option]))
                XCTAssertEqual(quotes[0].verified, option == task.correctOption, "\(task.question): \(argument)")
            }
        }
    }

    /// The reduced experiment end to end. At this size (a 1-layer judge, 40 steps) the judge has not learnt to read
    /// quotes, so no protocol ordering is asserted — only what must hold: the judge's loss falls, every protocol is
    /// judged on every held-out task, and the files round-trip.
    func testReducedExperimentRunsEveryProtocol() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("debate-experiment-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let configuration = DebateExperimentConfiguration.reduced
        let outcome = try await DebateExperiment.run(configuration, seed: 1, folder: folder.appendingPathComponent("seed-1"))
        XCTAssertEqual(outcome.testTasks, configuration.testPassages * 3)
        XCTAssertEqual(outcome.trainingExamples, configuration.trainingPassages * 3 * 2, "every training debate in both orders")
        XCTAssertLessThan(try XCTUnwrap(outcome.finalLoss), try XCTUnwrap(outcome.firstLoss))
        XCTAssertEqual(Set(outcome.accuracy.keys), ["blind", "consultancy", "debate"])
        for summary in outcome.results.protocols { XCTAssertEqual(summary.tasks, outcome.testTasks) }
        XCTAssertEqual(outcome.examples.count, 3)
        let results = DebateExperimentResults(configuration: configuration, outcomes: [outcome])
        try DebateExperimentReport.write(results, to: folder)
        let decoded = try JSONDecoder().decode(DebateExperimentResults.self, from: Data(contentsOf: folder.appendingPathComponent(ResultsFile.name)))
        XCTAssertEqual(decoded, results)
        XCTAssertFalse(results.targetMet, "one seed has no interval, so the target cannot be met")
        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("Per seed"))
    }
}
