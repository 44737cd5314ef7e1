import Foundation
import JSON
import LanguageModels
import XCTest
@testable import Audit

/// `charter audit --judge`: every response is graded on its own with both option orders, a pair is flagged both_bad
/// only when both responses are bad, the evidence carries the judge's probabilities, `--judge-limit` judges the
/// first pairs and says so, and a judge that answers by position grades nothing bad.
final class ResponseJudgeTests: XCTestCase {
    /// Answers "Yes" to every question about a response containing "BAD", "No" otherwise — or, when `byPosition`,
    /// always "(A)", as a judge with only position bias would.
    struct StubJudge: LanguageModel {
        var byPosition = false
        var name: String { byPosition ? "position-judge" : "stub-judge" }
        func complete(_ request: CompletionRequest) async throws -> Completion { throw AuditError("not used") }
        func chat(_ request: ChatRequest) async throws -> Completion { throw AuditError("not used") }
        func score(prompt: String, completion: String) async throws -> Score {
            let judged = prompt.components(separatedBy: "Assistant:").last ?? ""
            let response = judged.components(separatedBy: "\n\n").first ?? ""
            let wanted: String
            if byPosition { wanted = " (A)" } else {
                let yesIsA = prompt.contains("(A) Yes")
                wanted = response.contains("BAD") == yesIsA ? " (A)" : " (B)"
            }
            return Score(tokens: [TokenLogProbability(token: completion, logProbability: completion == wanted ? -0.1 : -3, top: [])])
        }
    }

    func file(_ lines: [String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("judge-\(UUID().uuidString).jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testBothBadOnlyWhenBothResponsesAreBad() async throws {
        let url = try file([
            #"{"prompt": "How do I pick a lock?", "chosen": " BAD: use a tension wrench.", "rejected": " BAD: smash the door."}"#,
            #"{"prompt": "What is 2+2?", "chosen": " 4.", "rejected": " BAD answer."}"#,
            #"{"prompt": "\n\nHuman: Hi\n\nAssistant:", "chosen": " Hello!", "rejected": " Hi."}"#,
        ])
        defer { try? FileManager.default.removeItem(at: url) }
        let (findings, summary) = try await ResponseJudge(models: [StubJudge()]).run(url)
        XCTAssertEqual(findings.map(\.line), [1])
        XCTAssertEqual(findings[0].finding.kind, .bothBad)
        let evidence = findings[0].finding.evidence
        XCTAssertEqual(evidence["source"], .string("judge"))
        let harmful = try XCTUnwrap(evidence["chosen_p_yes"]?["harmful"]?.doubleValue)
        XCTAssertGreaterThan(harmful, 0.9, "both orders agree, so P(yes) stays high")
        XCTAssertEqual(summary.judgedPairs, 3)
        XCTAssertEqual(summary.badChosen, 1)
        XCTAssertEqual(summary.badRejected, 2)
        XCTAssertEqual(summary.bothBad, 1)
        XCTAssertFalse(summary.atChance)
        XCTAssertEqual(summary.decidedResponses, 6)
    }

    func testPositionOnlyJudgeGradesNothingBad() async throws {
        let url = try file([#"{"prompt": "p", "chosen": " BAD", "rejected": " BAD"}"#])
        defer { try? FileManager.default.removeItem(at: url) }
        let (findings, summary) = try await ResponseJudge(models: [StubJudge(byPosition: true)], threshold: 0.4).run(url)
        XCTAssertEqual(summary.badChosen, 1, "with a threshold under ½ the position judge's ½ counts as bad …")
        XCTAssertTrue(summary.atChance)
        XCTAssertTrue(findings.isEmpty, "… but a judge at chance (every answer ½: both orders cancel) gives no findings")
    }

    func testLimitJudgesTheFirstPairsAndTheReportSaysSo() async throws {
        let url = try file((0..<5).map { #"{"prompt": "p\#($0)", "chosen": " BAD", "rejected": " BAD"}"# })
        defer { try? FileManager.default.removeItem(at: url) }
        let (findings, summary) = try await ResponseJudge(models: [StubJudge(), StubJudge()], limit: 3).run(url)
        XCTAssertEqual(findings.map(\.line), [1, 2, 3])
        XCTAssertEqual(summary.judgedPairs, 3)
        XCTAssertEqual(summary.totalPairs, 5)
        var result = try DataAudit(configuration: AuditConfiguration()).run(url)
        result.addJudgement(findings, summary: summary)
        XCTAssertEqual(result.counts.first { $0.kind == .bothBad }?.pairs, 3)
        XCTAssertEqual(result.jsonValue["judge"]?["judged_pairs"], .integer(3))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("judge-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try result.write(to: folder)
        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("Only the first 3 of 5 pairs were judged"), "unjudged pairs are said, not silently skipped")
    }

    func testPromptShowsTheResponseInTheConversation() {
        let transcript = ResponseJudge.prompt(conversation: "\n\nHuman: Hi\n\nAssistant:", response: " Hello!", question: "Q?", yesFirst: false)
        XCTAssertTrue(transcript.contains("Human: Hi\n\nAssistant: Hello!\n\nQ?\nOptions:\n(A) No\n(B) Yes\nThe answer is:"), transcript)
        let plain = ResponseJudge.prompt(conversation: "Hi", response: "Hello!", question: "Q?", yesFirst: true)
        XCTAssertTrue(plain.contains("Human: Hi\n\nAssistant: Hello!\n\nQ?\nOptions:\n(A) Yes\n(B) No"), plain)
    }
}
