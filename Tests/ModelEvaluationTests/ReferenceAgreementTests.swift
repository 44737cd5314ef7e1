import Foundation
import Runtime
import XCTest
@testable import ModelEvaluation

final class ReferenceAgreementTests: XCTestCase {
    func battle(_ id: String, _ a: String, _ b: String, p: Double, winner: Battle.Winner) -> Battle {
        Battle(id: id, promptID: id, modelA: a, modelB: b, probabilityA: p, probabilityAShownFirst: p, probabilityAShownSecond: p,
               winner: winner, lengthA: 1, lengthB: 1, principles: [], judge: "ai")
    }

    func testKendallTau() {
        XCTAssertEqual(ReferenceAgreement.kendallTau(["a", "b", "c"], ["a", "b", "c"]), 1)
        XCTAssertEqual(ReferenceAgreement.kendallTau(["a", "b", "c"], ["c", "b", "a"]), -1)
        XCTAssertEqual(ReferenceAgreement.kendallTau(["a", "b", "c"], ["b", "a", "c"]), 1.0 / 3, accuracy: 1e-12)
    }

    /// Agreement counts only decidable battles; an AI tie is a disagreement for the hard rate but its probability
    /// still counts for the preference rate.
    func testAgreementOnDecidableBattles() throws {
        let battles = [battle("1", "x", "y", p: 0.9, winner: .a), battle("2", "x", "y", p: 0.6, winner: .tie),
                       battle("3", "x", "y", p: 0.2, winner: .b), battle("4", "x", "y", p: 0.7, winner: .a)]
        let verdicts: [String: (winner: Battle.Winner, group: String)] = ["1": (.a, "harmful"), "2": (.a, "harmful"), "3": (.a, "benign"), "4": (.tie, "benign")]
        let ratings = try BradleyTerryRatings(battles: battles, models: ["x", "y"], rounds: 0)
        let agreement = try ReferenceAgreement(reference: "truth", battles: battles, verdicts: verdicts, models: ["x", "y"], ratings: ratings, bootstrapRounds: 0, seed: 0)
        XCTAssertEqual(agreement.battles, 4)
        XCTAssertEqual(agreement.decidable, 3)
        XCTAssertEqual(agreement.agreement, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(agreement.preferenceAgreement, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(agreement.byGroup["harmful"]?.preferenceAgreement, 1)
        XCTAssertEqual(agreement.byGroup["benign"]?.preferenceAgreement, 0)
        XCTAssertEqual(agreement.referenceRatings.ratings.first?.model, "x", "the reference's x wins three and ties one")
        XCTAssertTrue(agreement.orderMatches)
        // results.json carries it.
        var results = try ComparisonResults(kind: "pairwise", models: ["x", "y"], battles: battles, judge: "ai", feedback: try PairwiseEvaluationTests.feedback(),
                                            prompts: 4, run: try JSONDecoder().decode(RunReport.self, from: Data(#"{"total": 4, "already_done": 0, "completed": 4, "failed": 0, "retries": 0, "seconds": 0}"#.utf8)),
                                            bootstrapRounds: 0, seed: 0)
        results.reference = agreement
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(results)) as? [String: Any]
        XCTAssertEqual((json?["reference"] as? [String: Any])?["decidable"] as? Int, 3)
    }
}
