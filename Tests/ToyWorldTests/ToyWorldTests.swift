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
                XCTAssertEqual(members.count, 4)
                XCTAssertEqual(members.filter { $0.split == .heldOut }.count, 1)
                let lookalikes = world.borderlineIntents.filter { $0.resembles == category }
                XCTAssertEqual(lookalikes.count, 2)
                XCTAssertEqual(lookalikes.filter { $0.split == .heldOut }.count, 1)
            }
            XCTAssertEqual(world.partialCategories.count, 2)
        }
    }

    func testBorderlineRequestsAreBenignAndTheirAnswersCorrect() {
        let world = ToyWorld(seed: 4)
        let requests = world.borderlineRequests(perIntent: 4) + world.evaluationRequests(perIntent: 4).filter(\.isBorderline)
        XCTAssertEqual(Set(requests.map(\.intentID)).count, 8)
        for request in requests {
            XCTAssertFalse(request.isHarmful)
            XCTAssertNotNil(request.category)
            XCTAssertEqual(Judge.judge(world.helpfulAnswer(request), for: request), .correctAnswer, request.text)
            XCTAssertEqual(Judge.judge(world.evasiveRefusal(request), for: request), .evasiveRefusal)
            XCTAssertFalse(world.helpfulAnswer(request).contains(ToyWorld.restrictedStep))
        }
    }

    func testPrinciplesObjectOnlyToTheCategoriesTheyCover() {
        let world = ToyWorld(seed: 6)
        let privacy = ToyWorld.principle("privacy")!, general = ToyWorld.principle("harmless-and-helpful")!, style = ToyWorld.principle("plain-words")!
        for request in world.redTeamRequests(perIntent: 1) {
            let compliance = world.compliance(request)
            let underGeneral = world.critique(compliance, to: request, under: general)
            XCTAssertEqual(underGeneral.revision, world.helpfulRefusal(request))
            XCTAssertTrue(underGeneral.critique.hasPrefix("The request is about \(request.category!.topic); the principle is about any harm."))
            XCTAssertEqual(world.critique(compliance, to: request, under: style).revision, compliance)
            XCTAssertEqual(world.critique(compliance, to: request, under: privacy).revision,
                           request.category == .privacyViolation ? world.helpfulRefusal(request) : compliance)
        }
        XCTAssertEqual(ToyWorld.partialConstitution([.privacyViolation, .dangerousActivity]).map(\.id), ["privacy", "physical-safety"])
        XCTAssertEqual(ToyWorld.fullConstitution.count, 8)
        // As in the paper's constitution, most full-constitution principles speak to every harm: one sampled principle
        // covers a request's category 5 times in 8 (its category's and the four general ones).
        for category in HarmCategory.allCases {
            XCTAssertEqual(ToyWorld.fullConstitution.filter { $0.covers.contains(category) }.count, 5, "\(category)")
        }
        XCTAssertTrue(ToyWorld.irrelevantConstitution.allSatisfy(\.isStyleOnly))
    }

    func testHeldOutIntentsAbsentFromEveryCorpus() {
        for seed: UInt64 in [0, 1, 2] {
            let world = ToyWorld(seed: seed)
            let heldOut = Set(world.harmfulIntents.filter { $0.split == .heldOut }.map(\.id))
            let heldOutBorderline = Set(world.borderlineIntents.filter { $0.split == .heldOut }.map(\.id))
            let corpus = world.helpfulOnlyCorpus()
            let training = corpus.requests + world.redTeamRequests(perIntent: 20) + world.helpfulRequests(perIntent: 20) + world.borderlineRequests(perIntent: 20)
            XCTAssertTrue(training.allSatisfy { !heldOut.contains($0.intentID) && !heldOutBorderline.contains($0.intentID) })
            XCTAssertFalse(corpus.critiques.isEmpty)
            XCTAssertTrue(corpus.comparisons.contains { $0.reasoning != nil })
            // Benign training requests never use the held-out phrasing; evaluation ones only use it.
            for request in training where !request.isHarmful {
                XCTAssertNotEqual(request.phrasing, world.heldOutPhrasing[request.intentID])
            }
            let evaluation = world.evaluationRequests(perIntent: 10)
            XCTAssertEqual(Set(evaluation.filter(\.isHarmful).map(\.intentID)), heldOut)
            XCTAssertEqual(Set(evaluation.filter(\.isBorderline).map(\.intentID)), heldOutBorderline)
            for request in evaluation where !request.isHarmful && !request.isBorderline { XCTAssertEqual(request.phrasing, world.heldOutPhrasing[request.intentID]) }
            // No held-out request text (harmful) appears verbatim in any training text.
            let texts = Set(training.map(\.text))
            XCTAssertTrue(evaluation.filter(\.isHarmful).allSatisfy { !texts.contains($0.text) })
        }
    }

    func testHoldingOutLookAlikePhrasingsChangesOnlyTheLookAlikes() {
        for seed: UInt64 in [0, 1, 2, 5] {
            let byIntent = ToyWorld(seed: seed), byPhrasing = ToyWorld(seed: seed, borderlineHoldout: .phrasing)
            // The rest of the world is the same: facts, harmful splits, benign held-out phrasings, partial constitution.
            XCTAssertEqual(byIntent.facts.capitals.map(\.country), byPhrasing.facts.capitals.map(\.country))
            XCTAssertEqual(byIntent.harmfulIntents, byPhrasing.harmfulIntents)
            XCTAssertEqual(byIntent.benignIntents, byPhrasing.benignIntents)
            XCTAssertEqual(byIntent.partialCategories, byPhrasing.partialCategories)
            XCTAssertEqual(byIntent.redTeamRequests(perIntent: 4), byPhrasing.redTeamRequests(perIntent: 4))
            for intent in byIntent.benignIntents { XCTAssertEqual(byIntent.heldOutPhrasing[intent.id], byPhrasing.heldOutPhrasing[intent.id]) }
            // Whole-intent holdout: two phrasings per look-alike, none held out by phrasing.
            XCTAssertTrue(byIntent.borderlineIntents.allSatisfy { $0.phrasings.count == 2 && byIntent.heldOutPhrasing[$0.id] == nil })
            // Phrasing holdout: every look-alike trains, in two of its three phrasings; the third only in evaluation.
            XCTAssertEqual(byPhrasing.borderlineIntents.count, 8)
            for intent in byPhrasing.borderlineIntents {
                XCTAssertEqual(intent.split, .training)
                XCTAssertEqual(intent.phrasings.count, 3)
                XCTAssertNotNil(byPhrasing.heldOutPhrasing[intent.id])
            }
            let corpus = byPhrasing.helpfulOnlyCorpus()
            let training = corpus.requests + byPhrasing.borderlineRequests(perIntent: 20) + byPhrasing.seenBorderlineRequests(perIntent: 20)
                + byPhrasing.helpfulnessComparisons(perIntent: 8).map(\.request)
            let trainingBorderline = training.filter(\.isBorderline)
            XCTAssertEqual(Set(trainingBorderline.map(\.intentID)).count, 8)
            for request in trainingBorderline { XCTAssertNotEqual(request.phrasing, byPhrasing.heldOutPhrasing[request.intentID], request.id) }
            XCTAssertEqual(Set(trainingBorderline.map(\.phrasing)).count, 3, "the training phrasings differ between intents")
            let evaluation = byPhrasing.evaluationRequests(perIntent: 6).filter(\.isBorderline)
            XCTAssertEqual(evaluation.count, 8 * 6)
            for request in evaluation {
                XCTAssertEqual(request.phrasing, byPhrasing.heldOutPhrasing[request.intentID])
                XCTAssertEqual(Judge.judge(byPhrasing.helpfulAnswer(request), for: request), .correctAnswer, request.text)
            }
            // The held-out harmful requests are the same ones.
            XCTAssertEqual(byIntent.evaluationRequests(perIntent: 6).filter(\.isHarmful), byPhrasing.evaluationRequests(perIntent: 6).filter(\.isHarmful))
        }
    }

    func testHelpfulnessComparisonsPreferTheAnswerToARefusalOnTrainingIntentsOnly() {
        let world = ToyWorld(seed: 7)
        let comparisons = world.helpfulnessComparisons(perIntent: 8)
        let trainingBorderline = world.borderlineIntents.filter { $0.split == .training }
        XCTAssertEqual(comparisons.count, trainingBorderline.count * 8 + world.benignIntents.count * 2)
        XCTAssertEqual(Set(comparisons.filter(\.request.isBorderline).map(\.request.intentID)), Set(trainingBorderline.map(\.id)))
        for (request, chosen, rejected) in comparisons {
            XCTAssertFalse(request.isHarmful)
            XCTAssertTrue(request.id.hasPrefix("helpfulness/"))
            XCTAssertNotEqual(request.phrasing, world.heldOutPhrasing[request.intentID], "a held-out phrasing in \(request.id)")
            XCTAssertEqual(Judge.judge(chosen, for: request), .correctAnswer, request.text)
            XCTAssertNotEqual(Judge.judge(rejected, for: request), .correctAnswer, rejected)
        }
        // Both kinds of refusal are rejected: over-refusals that offer something else and bare ones.
        XCTAssertTrue(comparisons.contains { $0.rejected == world.overRefusal($0.request) })
        XCTAssertTrue(comparisons.contains { ToyWorld.evasiveRefusals.contains($0.rejected) })
        XCTAssertTrue(world.helpfulnessComparisons(perIntent: 0).isEmpty)
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
            let rank: [Verdict: Int] = demonstration.request.isHarmful ? [.helpfulRefusal: 2, .evasiveRefusal: 1, .harmfulCompliance: 0]
                : [.correctAnswer: 1, .evasiveRefusal: 0, .helpfulRefusal: 0]
            XCTAssertGreaterThan(rank[Judge.judge(better, for: demonstration.request)]!, rank[Judge.judge(worse, for: demonstration.request)]!)
            // A comparison's principle covers the request's category (or the request is borderline).
            let principle = ToyWorld.principle(demonstration.principleID)!
            XCTAssertTrue(demonstration.request.isBorderline ? !principle.isStyleOnly : principle.covers.contains(demonstration.request.category!))
        }
        XCTAssertEqual(Set(corpus.comparisons.map(\.preferred)), ["A", "B"])
    }

    /// One in `critiqueCoveringEvery` critique demonstrations is under a principle covering the request's category
    /// (every second by default), and the others cycle through every non-covering harm principle.
    func testCritiqueDemonstrationsCoveringShare() {
        let world = ToyWorld(seed: 3)
        for every in [2, 4] {
            var sizes = CorpusSizes()
            sizes.critiqueCoveringEvery = every
            let critiques = world.helpfulOnlyCorpus(sizes).critiques
            let covering = critiques.filter { ToyWorld.principle($0.principleID)!.covers.contains($0.request.category!) }
            XCTAssertEqual(covering.count * every, critiques.count, "every \(every)")
            for category in Set(critiques.map { $0.request.category! }) {
                let used = Set(critiques.filter { $0.request.category == category && !ToyWorld.principle($0.principleID)!.covers.contains(category) }.map(\.principleID))
                XCTAssertEqual(used, Set(ToyWorld.principles.filter { !$0.covers.contains(category) }.map(\.id)), "every \(every), \(category)")
            }
        }
        // Older results.json files have no critiqueCoveringEvery: they decode as every second demonstration.
        let old = #"{"benignPerIntent": 1, "borderlinePerIntent": 2, "harmfulPerIntent": 3, "critiquesPerIntent": 4, "comparisonsPerIntent": 5, "reasonedComparisonsPerIntent": 6}"#
        let decoded = try? JSONDecoder().decode(CorpusSizes.self, from: Data(old.utf8))
        XCTAssertEqual(decoded?.critiqueCoveringEvery, 2)
        XCTAssertEqual(decoded?.reasonedComparisonsPerIntent, 6)
    }

    func testNoHarmfulContentOnlyPlaceholders() {
        let world = ToyWorld(seed: 5)
        for request in world.redTeamRequests(perIntent: 2) {
            let text = world.compliance(request)
            XCTAssertEqual(text.components(separatedBy: ToyWorld.restrictedStep).count - 1, 3)
        }
    }
}
