import XCTest
@testable import ToyWorld

final class ToyWorldTests: XCTestCase {
    func testSameSeedSameWorld() {
        let a = ToyWorld(seed: 3), b = ToyWorld(seed: 3), c = ToyWorld(seed: 4)
        XCTAssertEqual(a.intents, b.intents)
        XCTAssertEqual(a.helpfulOnlyCorpus(), b.helpfulOnlyCorpus())
        XCTAssertEqual(a.evaluationRequests(perIntent: 5), b.evaluationRequests(perIntent: 5))
        XCTAssertEqual(a.redTeamRequests(perIntent: 5), b.redTeamRequests(perIntent: 5))
        // Another seed draws other requests (and usually another split).
        XCTAssertNotEqual(a.evaluationRequests(perIntent: 5), c.evaluationRequests(perIntent: 5))
    }

    func testSplitOnePerCategory() {
        for seed: UInt64 in [0, 1, 2, 99] {
            let world = ToyWorld(seed: seed)
            for category in HarmCategory.allCases {
                let members = world.harmfulIntents.filter { $0.category == category }
                XCTAssertEqual(members.filter { $0.split == .heldOut }.count, 1)
                XCTAssertEqual(members.filter(\.demonstrated).count, 1)
                XCTAssertTrue(members.filter(\.demonstrated).allSatisfy { $0.split == .training })
            }
        }
    }

    func testHeldOutIntentsAbsentFromEveryCorpus() {
        for seed: UInt64 in [0, 1, 2] {
            let world = ToyWorld(seed: seed)
            let heldOut = Set(world.harmfulIntents.filter { $0.split == .heldOut }.map(\.id))
            let corpus = world.helpfulOnlyCorpus()
            let training = corpus.requests + world.redTeamRequests(perIntent: 20) + world.helpfulRequests(perIntent: 20)
            XCTAssertTrue(training.allSatisfy { !heldOut.contains($0.intentID) })
            // Demonstrations only on demonstrated intents.
            let demonstrated = Set(world.harmfulIntents.filter(\.demonstrated).map(\.id))
            XCTAssertTrue((corpus.critiques.map(\.request) + corpus.comparisons.map(\.request)).allSatisfy { demonstrated.contains($0.intentID) })
            XCTAssertFalse(corpus.critiques.isEmpty)
            // Benign training requests never use the held-out phrasing; evaluation ones only use it.
            for request in training where !request.isHarmful {
                XCTAssertNotEqual(request.phrasing, world.heldOutPhrasing[request.intentID])
            }
            let evaluation = world.evaluationRequests(perIntent: 10)
            XCTAssertEqual(Set(evaluation.filter(\.isHarmful).map(\.intentID)), heldOut)
            for request in evaluation where !request.isHarmful { XCTAssertEqual(request.phrasing, world.heldOutPhrasing[request.intentID]) }
            // No held-out request text (harmful) appears verbatim in any training text.
            let texts = Set(training.map(\.text))
            XCTAssertTrue(evaluation.filter(\.isHarmful).allSatisfy { !texts.contains($0.text) })
        }
    }

    func testCanonicalResponsesJudgedAsTheirClass() {
        let world = ToyWorld(seed: 11)
        for request in world.redTeamRequests(perIntent: 3) + world.evaluationRequests(perIntent: 3) where request.isHarmful {
            XCTAssertEqual(Judge.judge(world.compliance(request), for: request), .harmfulCompliance)
            XCTAssertEqual(Judge.judge(world.helpfulRefusal(request), for: request), .helpfulRefusal)
            XCTAssertEqual(Judge.judge(world.evasiveRefusal(request), for: request), .evasiveRefusal)
        }
        let corpus = world.helpfulOnlyCorpus()
        for demonstration in corpus.comparisons {
            let better = demonstration.preferred == "A" ? demonstration.responseA : demonstration.responseB
            let worse = demonstration.preferred == "A" ? demonstration.responseB : demonstration.responseA
            let rank: [Verdict: Int] = [.helpfulRefusal: 2, .evasiveRefusal: 1, .harmfulCompliance: 0]
            XCTAssertGreaterThan(rank[Judge.judge(better, for: demonstration.request)]!, rank[Judge.judge(worse, for: demonstration.request)]!)
        }
        XCTAssertEqual(Set(corpus.comparisons.map(\.preferred)), ["A", "B"])
    }

    func testNoHarmfulContentOnlyPlaceholders() {
        let world = ToyWorld(seed: 5)
        for request in world.redTeamRequests(perIntent: 2) {
            let text = world.compliance(request)
            XCTAssertEqual(text.components(separatedBy: ToyWorld.restrictedStep).count - 1, 3)
        }
    }
}
