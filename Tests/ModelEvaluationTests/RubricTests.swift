import Constitutional
import Foundation
import LanguageModels
import Runtime
import TestSupport
import XCTest
@testable import ModelEvaluation

final class RubricTests: XCTestCase {
    func testFlourishingHasTheBenchmarksSevenDimensions() throws {
        let rubric = try Rubric.flourishing
        XCTAssertEqual(rubric.dimensions.map(\.name), ["Character and Virtue", "Close Social Relationships", "Happiness and Life Satisfaction",
                                                      "Meaning and Purpose", "Mental and Physical Health", "Financial and Material Stability",
                                                      "Faith and Spirituality"])
        XCTAssertTrue(rubric.source?.contains("2507.07787") == true)
    }

    func testYAMLErrorsNameTheField() {
        XCTAssertThrowsError(try Rubric.parse("name: r\ndimensions:\n  - id: a\n    name: A\n", file: "r.yaml")) {
            XCTAssertEqual("\($0)", "r.yaml: dimensions[0].question: missing (a non-empty string)")
        }
        XCTAssertThrowsError(try Rubric.parse("name: r\ndimensions:\n  - {id: a, name: A, question: q}\n  - {id: a, name: B, question: q}\n", file: "r.yaml")) {
            XCTAssertTrue("\($0)".contains("dimensions[1].id: \"a\" appears twice"), "\($0)")
        }
        XCTAssertThrowsError(try Rubric.parse("name: r\ndimension: []\n", file: "r.yaml")) { XCTAssertTrue("\($0)".contains("dimension: unknown key"), "\($0)") }
    }

    func testExpectedScore() {
        XCTAssertEqual(RubricScorer.expectedScore(logProbabilities: [-1, -1, -1, -1, -1]).score, 3, accuracy: 1e-12)
        let (p, score) = RubricScorer.expectedScore(logProbabilities: [log(0.1), log(0.1), log(0.1), log(0.2), log(0.5)])
        XCTAssertEqual(p[4], 0.5, accuracy: 1e-12)
        XCTAssertEqual(score, 0.1 + 0.2 + 0.3 + 0.8 + 2.5, accuracy: 1e-12)
    }

    /// A judge that puts its mass on " 5" for kind responses and on " 1" otherwise scores the kind model higher on every
    /// dimension; the report's chart and results are written.
    func testScoresFollowTheJudge() async throws {
        let directory = try TinyModels.temporaryDirectory("rubric")
        defer { try? FileManager.default.removeItem(at: directory) }
        let judge = ScriptedJudge { prompt, completion in
            let kind = prompt.contains("A: I am glad to help, kindly")
            return completion == (kind ? " 5" : " 1") ? -0.2 : -3
        }
        let conversation = [ChatMessage(role: "user", content: "I feel lost.")]
        let models = ["kind": "I am glad to help, kindly", "curt": "No."].sorted { $0.key < $1.key }.map { name, response in
            ModelResponses(name: name, items: (0..<3).map { PromptItem(id: "p\($0)", prompt: .text("I feel lost."), conversation: conversation, response: response) })
        }
        let rubric = try Rubric.flourishing
        let scored = try await EvaluationRun.rubric(models: models, scorer: RubricScorer(rubric: rubric), judges: [judge],
                                                    output: directory.appendingPathComponent("rubric.jsonl"), run: RunOptions(concurrency: 1, retries: 0, showProgress: false))
        XCTAssertEqual(scored.records.count, 6)
        let results = RubricResults(rubric: rubric, judge: judge.name, models: ["curt", "kind"], records: scored.records, run: scored.report)
        let curt = results.models[0], kind = results.models[1]
        for dimension in rubric.dimensions {
            XCTAssertGreaterThan(kind.dimensions[dimension.id]!.mean, 4.5, dimension.id)
            XCTAssertLessThan(curt.dimensions[dimension.id]!.mean, 1.5, dimension.id)
        }
        XCTAssertGreaterThan(kind.geometricMean, curt.geometricMean)
        try EvaluationReport.write(results, to: directory)
        XCTAssertTrue(try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8).contains("Faith and Spirituality"))
    }
}
