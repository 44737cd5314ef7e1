import Foundation
import XCTest
@testable import Constitutional

/// Label math with known values.
final class PreferenceLabelTests: XCTestCase {
    func testSoftLabelFromLogProbabilities() {
        // p(A) = e^-1 / (e^-1 + e^-2) = 1 / (1 + e^-1) = 0.7310585786300049
        XCTAssertEqual(PreferenceLabel.softLabel(logProbabilityA: -1, logProbabilityB: -2), 0.7310585786300049, accuracy: 1e-15)
        XCTAssertEqual(PreferenceLabel.softLabel(logProbabilityA: -2, logProbabilityB: -1), 0.2689414213699951, accuracy: 1e-15)
        XCTAssertEqual(PreferenceLabel.softLabel(logProbabilityA: -5, logProbabilityB: -5), 0.5)
        // ln 3 apart: 3 : 1 odds.
        XCTAssertEqual(PreferenceLabel.softLabel(logProbabilityA: log(0.3), logProbabilityB: log(0.1)), 0.75, accuracy: 1e-12)
        // No overflow for very unequal options.
        XCTAssertEqual(PreferenceLabel.softLabel(logProbabilityA: -1000, logProbabilityB: -1), 0, accuracy: 1e-300)
        XCTAssertEqual(PreferenceLabel.softLabel(logProbabilityA: -1, logProbabilityB: -1000), 1)
    }

    func testClamp() {
        XCTAssertEqual(PreferenceLabel.clamp(0.99), 0.6)
        XCTAssertEqual(PreferenceLabel.clamp(0.01), 0.4)
        XCTAssertEqual(PreferenceLabel.clamp(0.55), 0.55)
        XCTAssertEqual(PreferenceLabel.clamp(0.9, low: 0.3, high: 0.7), 0.7)
    }

    func testOrderSwapAveragingAndFlips() {
        // First order: A (= first) at 0.8; second order: B (= first) at 0.6 → p(first) = 0.7.
        XCTAssertEqual(PreferenceLabel.orderAveraged(firstAsA: 0.8, firstAsB: 0.6), 0.7, accuracy: 1e-15)
        // A model that always picks (A) at 0.9 prefers the first response at 0.9 and then at 0.1: it averages to 0.5.
        XCTAssertEqual(PreferenceLabel.orderAveraged(firstAsA: 0.9, firstAsB: 0.1), 0.5, accuracy: 1e-15)
        XCTAssertTrue(PreferenceLabel.flipsWithOrder(firstAsA: 0.9, firstAsB: 0.1))
        XCTAssertFalse(PreferenceLabel.flipsWithOrder(firstAsA: 0.8, firstAsB: 0.6))
        XCTAssertFalse(PreferenceLabel.flipsWithOrder(firstAsA: 0.5, firstAsB: 0.2))
        XCTAssertEqual(PreferenceLabel.positionBiasRate([(0.9, 0.1), (0.8, 0.6), (0.3, 0.7), (0.2, 0.4)]), 0.5)
        XCTAssertEqual(PreferenceLabel.positionBiasRate([]), 0)
    }

    func testEnsemble() {
        XCTAssertEqual(PreferenceLabel.ensemble([0.9, 0.6, 0.3]), 0.6, accuracy: 1e-15)
        // Weighted: (2·0.9 + 1·0.3) / 3 = 0.7.
        XCTAssertEqual(PreferenceLabel.ensemble([0.9, 0.3], weights: [2, 1]), 0.7, accuracy: 1e-15)
    }

    /// The whole chain on a scripted model: known log-probs per order give a known label, flip count and clamp.
    func testAIFeedbackCombinesOrdersAndPrinciples() async throws {
        let constitution = Constitution(name: "t", version: "1", description: "", principles: [
            Principle(id: "p1", category: .harmlessness, comparison: "Q1?"),
            Principle(id: "p2", category: .honesty, comparison: "Q2?", weight: 3),
        ])
        // Q1: always prefers position (A) at e^-1 vs e^-2 (pure position bias) → 0.5 after averaging, a flip.
        // Q2: prefers the response "good" at 0.75 in both orders.
        let model = ScriptedModel { prompt, completion in
            let optionIsA = completion == " (A)"
            if prompt.contains("Q1?") { return optionIsA ? -1 : -2 }
            let aIsGood = prompt.contains("(A) good")
            return (optionIsA == aIsGood) ? log(0.3) : log(0.1)
        }
        var configuration = FeedbackConfiguration()
        configuration.principlesPerPair = 2
        let feedback = try AIFeedback(constitution: constitution, configuration: configuration)
        let pair = ResponsePair(id: "x", prompt: .text("hi"), conversation: [.init(role: "user", content: "hi")], first: "bad", second: "good")
        let record = try await feedback.label(pair, model: model)
        let byID = Dictionary(uniqueKeysWithValues: record.judgements.map { ($0.principleID, $0) })
        XCTAssertEqual(byID["p1"]!.probabilityFirst, 0.5, accuracy: 1e-6)
        XCTAssertEqual(byID["p1"]!.flipped, true)
        XCTAssertEqual(byID["p2"]!.probabilityFirst, 0.25, accuracy: 1e-6)
        XCTAssertEqual(byID["p2"]!.flipped, false)
        // Ensemble (1·0.5 + 3·0.25) / 4 = 0.3125 for "bad" → chosen is "good" at 0.6875.
        XCTAssertEqual(record.firstProbability, 0.3125, accuracy: 1e-6)
        XCTAssertEqual(record.chosen, .text("good"))
        XCTAssertEqual(record.rejected, .text("bad"))
        XCTAssertEqual(record.chosenProbability, 0.6875, accuracy: 1e-6)
        XCTAssertEqual(record.positionFlips, 1)

        // Chain of thought: the same scores, clamped to [0.4, 0.6] per order before averaging.
        configuration.chainOfThought = true
        let chain = try AIFeedback(constitution: constitution, configuration: configuration)
        let clamped = try await chain.label(pair, model: model)
        let p2 = try XCTUnwrap(clamped.judgements.first { $0.principleID == "p2" })
        XCTAssertEqual(p2.orders.map(\.probabilityFirst), [0.4, 0.4])
        XCTAssertEqual(p2.orders[0].probabilityA, 0.25, accuracy: 1e-6)
        XCTAssertEqual(p2.orders[0].reasoning, "scripted reasoning")
        XCTAssertEqual(clamped.firstProbability, (1 * 0.5 + 3 * 0.4) / 4, accuracy: 1e-6)
    }
}
