import Constitutional
import Foundation
import LanguageModels
import Runtime
import TestSupport
import XCTest
@testable import ModelEvaluation

final class PairwiseEvaluationTests: XCTestCase {
    /// Models whose responses are "good" to a known share of prompts (deterministic per prompt).
    static func models(qualities: [Double], prompts: Int) -> [ModelResponses] {
        qualities.enumerated().map { index, quality in
            ModelResponses(name: "model-\(index)", items: (0..<prompts).map { prompt in
                // A per-model, per-prompt draw: the response is good with probability `quality`.
                var random = SplitMix64(seed: UInt64(1000 * index + prompt))
                let good = Double(random.next() % 1000) / 1000 < quality
                return PromptItem(id: "p\(prompt)", prompt: .text("question \(prompt)?"), conversation: [ChatMessage(role: "user", content: "question \(prompt)?")],
                                  response: good ? "a good answer" : "a poor answer")
            })
        }
    }

    static func feedback(principles: Int = 1) throws -> AIFeedback {
        var configuration = FeedbackConfiguration()
        configuration.principlesPerPair = principles
        return try AIFeedback(constitution: try Constitution.charterDefault, configuration: configuration)
    }

    func testWinnerNeedsBothOrders() {
        XCTAssertEqual(PairwiseJudge.winner(shownFirst: 0.8, shownSecond: 0.7), .a)
        XCTAssertEqual(PairwiseJudge.winner(shownFirst: 0.2, shownSecond: 0.4), .b)
        XCTAssertEqual(PairwiseJudge.winner(shownFirst: 0.8, shownSecond: 0.3), .tie)
        XCTAssertEqual(PairwiseJudge.winner(shownFirst: 0.5, shownSecond: 0.9), .tie)
        XCTAssertEqual(PairwiseJudge.winner(shownFirst: 0.6, shownSecond: nil), .a)
    }

    /// A judge that prefers good answers ranks models by how often they answer well, the run resumes, and the page and
    /// results are written.
    func testRatingsRecoverTheQualityOrderAndResume() async throws {
        let directory = try TinyModels.temporaryDirectory("evaluate-ratings")
        defer { try? FileManager.default.removeItem(at: directory) }
        let models = Self.models(qualities: [0.2, 0.5, 0.85], prompts: 30)
        let judge = PairwiseJudge(feedback: try Self.feedback())
        let output = directory.appendingPathComponent("battles.jsonl")
        let options = RunOptions(concurrency: 2, retries: 0, showProgress: false)
        let first = try await EvaluationRun.battles(models: models, judge: judge, judges: [ScriptedJudge.prefersGood()], output: output, run: options)
        XCTAssertEqual(first.battles.count, 90)
        XCTAssertEqual(first.report.completed, 90)
        let again = try await EvaluationRun.battles(models: models, judge: judge, judges: [ScriptedJudge.prefersGood()], output: output, run: options)
        XCTAssertEqual(again.report.alreadyDone, 90, "a second run resumes instead of judging again")
        XCTAssertEqual(again.battles, first.battles)

        // Pairs of equally good (or bad) answers give the judge nothing to prefer: both orders at ½ → a tie.
        for battle in first.battles {
            let a = models.first { $0.name == battle.modelA }!.items.first { $0.id == battle.promptID }!.response!
            let b = models.first { $0.name == battle.modelB }!.items.first { $0.id == battle.promptID }!.response!
            let expected: Battle.Winner = a == b ? .tie : (a.contains("good") ? .a : .b)
            XCTAssertEqual(battle.winner, expected, battle.id)
        }
        let results = try ComparisonResults(kind: "ratings", models: models.map(\.name), battles: first.battles, judge: "scripted", feedback: judge.feedback,
                                            prompts: 30, run: first.report, bootstrapRounds: 200, seed: 0)
        XCTAssertEqual(results.ratings.ratings.map(\.model), ["model-2", "model-1", "model-0"])
        let best = try XCTUnwrap(results.pairwise.first { $0.modelA == "model-0" && $0.modelB == "model-2" })
        XCTAssertLessThan(best.winRate.mean, 0.35, "the weakest model should lose to the strongest")
        XCTAssertEqual(best.wins + best.losses + best.ties, 30)
        try EvaluationReport.write(results, battles: first.battles, models: models, to: directory)
        let page = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("<svg") && page.contains("model-2") && page.contains("length-controlled"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("results.json"))) as? [String: Any]
        XCTAssertEqual(json?["battles"] as? Int, 90)
    }

    /// A judge that always answers (A) prefers a position: every battle is a tie and the win rate is ½.
    func testPositionBiasedJudgeGivesTies() async throws {
        let directory = try TinyModels.temporaryDirectory("evaluate-position")
        defer { try? FileManager.default.removeItem(at: directory) }
        let models = Self.models(qualities: [0.1, 0.9], prompts: 8)
        let alwaysA = ScriptedJudge { _, completion in completion == " (A)" ? -0.1 : -3 }
        let judged = try await EvaluationRun.battles(models: models, judge: PairwiseJudge(feedback: try Self.feedback()), judges: [alwaysA],
                                                     output: directory.appendingPathComponent("battles.jsonl"), run: RunOptions(concurrency: 1, retries: 0, showProgress: false))
        XCTAssertTrue(judged.battles.allSatisfy { $0.winner == .tie })
        let summary = try PairwiseSummary(battles: judged.battles, modelA: "model-0", modelB: "model-1")
        XCTAssertEqual(summary.winRate.mean, 0.5, accuracy: 1e-9)
        XCTAssertEqual(summary.ties, 8)
    }

    func testResponsesWithoutACompletionAreAnError() throws {
        let directory = try TinyModels.temporaryDirectory("evaluate-read")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("a.jsonl")
        try "{\"id\": \"x\", \"prompt\": \"hi\", \"completion\": \"hello\"}\n{\"id\": \"y\", \"prompt\": \"hi\"}\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ModelResponses.read(name: "a", url: file)) { XCTAssertTrue("\($0)".contains("item y has no response"), "\($0)") }
    }
}
