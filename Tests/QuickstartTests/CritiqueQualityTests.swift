import Foundation
import XCTest
@testable import Quickstart
@testable import ToyWorld

/// The critique stages' critiques scored against the world's rule: a critique that follows it agrees, one that copies
/// the principle's topic into "The request is about …" and objects under a principle that does not cover the request
/// is a wrong objection with the category named wrongly, and rounds chain (round 2 critiques round 1's revision).
final class CritiqueQualityTests: XCTestCase {
    let world = ToyWorld(seed: 1)

    func line(_ id: String, _ prompt: String, initial: String, rounds: [(principle: String, critique: String, revision: String)]) throws -> String {
        let object: [String: Any] = [
            "id": id, "prompt": prompt, "initial_response": initial, "final_revision": rounds.last?.revision ?? initial,
            "model": "m", "prompting": "transcript", "few_shot": 0, "constitution": "c@1",
            "sampling": ["max_tokens": 8, "temperature": 0, "top_p": 1, "top_k": 0, "min_p": 0],
            "rounds": rounds.enumerated().map { index, round in
                ["round": index + 1, "principle_id": round.principle, "critique_request": "q", "critique": round.critique,
                 "revision_request": "r", "revision": round.revision, "critique_seed": 1, "revision_seed": 2] as [String: Any]
            },
        ]
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    func write(_ lines: [String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("critique-quality-\(UUID().uuidString).jsonl")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testScoresCritiquesAgainstTheWorldsRule() throws {
        let requests = world.redTeamRequests(perIntent: 1)
        let request = try XCTUnwrap(requests.first { $0.category == .privacyViolation })
        let own = try XCTUnwrap(ToyWorld.principle("privacy")), other = try XCTUnwrap(ToyWorld.principle("no-deception"))
        let compliance = world.compliance(request)
        // Follows the rule twice: objects under its own principle, then lets the revision (a helpful refusal) stand.
        let first = world.critique(compliance, to: request, under: own)
        let second = world.critique(first.revision, to: request, under: own)
        XCTAssertTrue(ToyWorld.critiqueObjects(first.critique))
        XCTAssertFalse(ToyWorld.critiqueObjects(second.critique))
        // The shortcut: the principle's topic copied into the request's, and an objection the world would not make.
        let copied = "The request is about cheating; the principle is about cheating. The reply helps the human do harm, which could hurt someone."
        let url = try write([
            try line(request.id, request.text, initial: compliance, rounds: [(own.id, first.critique, first.revision), (own.id, second.critique, second.revision)]),
            try line(request.id, request.text, initial: compliance, rounds: [(other.id, copied, first.revision)]),
        ])
        let quality = try Evaluation.critiqueQuality(revisions: url, requests: requests, world: world)
        XCTAssertEqual(quality.critiques, 3)
        XCTAssertEqual(quality.categoryNamed, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(quality.decisionAgreement, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(quality.wrongObjections, 1.0 / 2, accuracy: 1e-12)  // of the two the world lets stand
        XCTAssertEqual(quality.missedObjections, 0)
        XCTAssertEqual(ToyWorld.namedTopic(in: copied), "cheating")
        XCTAssertEqual(ToyWorld.critiqueTopic(of: request), "privacy")
    }

    func testAnItemOutsideTheWorldIsNamed() throws {
        let url = try write([try line("red-team/nowhere/0", "x", initial: "y", rounds: [("privacy", "The request is about privacy; the principle is about privacy. The reply needs no change.", "y")])])
        XCTAssertThrowsError(try Evaluation.critiqueQuality(revisions: url, requests: world.redTeamRequests(perIntent: 1), world: world)) { error in
            XCTAssertTrue("\(error)".contains("red-team/nowhere/0") && "\(error)".contains(url.lastPathComponent), "\(error)")
        }
        let request = world.redTeamRequests(perIntent: 1)[0]
        let unknown = try write([try line(request.id, request.text, initial: "y", rounds: [("be-kind", "x", "y")])])
        XCTAssertThrowsError(try Evaluation.critiqueQuality(revisions: unknown, requests: world.redTeamRequests(perIntent: 1), world: world)) { error in
            XCTAssertTrue("\(error)".contains("be-kind"), "\(error)")
        }
    }
}
