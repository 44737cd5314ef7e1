import Foundation
import XCTest
@testable import Quickstart
@testable import ToyWorld

/// AI labels scored against the world's judge: a pair of two identical texts is counted and never decidable; a
/// pair of a helpful refusal and a compliance is decidable, and the label agrees when it chose the refusal.
final class LabelQualityTests: XCTestCase {
    let world = ToyWorld(seed: 1)

    func line(_ id: String, _ prompt: String, chosen: String, rejected: String) throws -> String {
        let object: [String: Any] = [
            "id": id, "prompt": prompt, "chosen": chosen, "rejected": rejected, "chosen_probability": 0.8, "first_probability": 0.8,
            "chosen_is_first": true, "judgements": [] as [Any], "position_flips": 0, "feedback_model": "m", "mode": "direct",
            "constitution": "c@1",
        ]
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    func testIdenticalPairsAreCountedAndUndecidable() throws {
        let requests = Array(world.redTeamRequests(perIntent: 1).prefix(3))
        XCTAssertEqual(requests.count, 3)
        let (a, b, c) = (requests[0], requests[1], requests[2])
        let lines = [
            try line("\(a.id)/0-1", a.text, chosen: world.helpfulRefusal(a), rejected: world.compliance(a)),  // decidable, agrees
            try line("\(b.id)/0-1", b.text, chosen: world.compliance(b), rejected: world.compliance(b)),       // identical
            try line("\(c.id)/0-1", c.text, chosen: world.compliance(c), rejected: world.helpfulRefusal(c)),  // decidable, disagrees
        ]
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("label-quality-\(UUID().uuidString).jsonl")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let quality = try Evaluation.labelQuality(labels: url, requests: requests)
        XCTAssertEqual(quality.pairs, 3)
        XCTAssertEqual(quality.identicalPairs, 1)
        XCTAssertEqual(quality.decidablePairs, 2)
        XCTAssertEqual(quality.agreement, 0.5)
    }
}
