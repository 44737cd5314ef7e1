import Foundation
import XCTest
@testable import Quickstart

final class QuickstartConfigurationTests: XCTestCase {
    func testOverridesReplaceNumbersBooleansAndNestedFields() throws {
        let changed = try QuickstartConfiguration.full.overriding([
            ("helpfulOnlySteps", "12"), ("dpoBeta", "0.25"), ("ablation", "false"), ("corpus.benignPerIntent", "7"),
        ])
        XCTAssertEqual(changed.helpfulOnlySteps, 12)
        XCTAssertEqual(changed.dpoBeta, 0.25)
        XCTAssertFalse(changed.ablation)
        XCTAssertEqual(changed.corpus.benignPerIntent, 7)
        var expected = QuickstartConfiguration.full
        expected.helpfulOnlySteps = 12
        expected.dpoBeta = 0.25
        expected.ablation = false
        expected.corpus.benignPerIntent = 7
        XCTAssertEqual(changed, expected)
        XCTAssertEqual(try QuickstartConfiguration.reduced.overriding([]), .reduced)
        let phrasing = try QuickstartConfiguration.full.overriding([("borderlineHoldout", "phrasing")])
        XCTAssertEqual(phrasing.borderlineHoldout, .phrasing)
        XCTAssertEqual(phrasing.world(seed: 3).borderlineHoldout, .phrasing)
        XCTAssertEqual(QuickstartConfiguration.full.borderlineHoldout, .intent)
    }

    /// Every field survives a results.json round trip (the decoder lists them by hand), and a configuration written
    /// before PPO had its own prompts reads as that run's PPO prompts were.
    func testDecodingRoundTripsAndOlderResultsTakeThePairsPrompts() throws {
        var c = QuickstartConfiguration.reduced
        c.onlineDPO = OnlineDPOSizes()
        c.ppoBorderlinePromptsPerIntent = 11
        c.ppoBenignPromptsPerIntent = 2
        c.ppoKLCoefficient = 0.3
        c.borderlineHoldout = .phrasing
        let data = try JSONEncoder().encode(c)
        XCTAssertEqual(try JSONDecoder().decode(QuickstartConfiguration.self, from: data), c)
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        object["ppoBorderlinePromptsPerIntent"] = nil
        object["ppoBenignPromptsPerIntent"] = nil
        object["borderlinePromptsPerIntent"] = 5
        let older = try JSONDecoder().decode(QuickstartConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(older.ppoBorderlinePromptsPerIntent, 5)
        XCTAssertEqual(older.ppoBenignPromptsPerIntent, 0)
        // Written before the look-alikes could be held out by phrasing: whole intents were.
        object["borderlineHoldout"] = nil
        XCTAssertEqual(try JSONDecoder().decode(QuickstartConfiguration.self, from: JSONSerialization.data(withJSONObject: object)).borderlineHoldout, .intent)
        object["dpoSteps"] = nil
        XCTAssertThrowsError(try JSONDecoder().decode(QuickstartConfiguration.self, from: JSONSerialization.data(withJSONObject: object)))
    }

    func testBadOverridesNameTheField() {
        func message(_ overrides: [(key: String, value: String)]) -> String {
            do {
                _ = try QuickstartConfiguration.full.overriding(overrides)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(message([("helpfulOnlyStep", "3")]).contains("no such field 'helpfulOnlyStep'"), message([("helpfulOnlyStep", "3")]))
        XCTAssertTrue(message([("corpus.nothing", "3")]).contains("corpus.nothing"))
        XCTAssertTrue(message([("helpfulOnlySteps", "many")]).contains("helpfulOnlySteps=many"))
        XCTAssertTrue(message([("corpus", "3")]).contains("only numbers, booleans and text fields"))
        XCTAssertTrue(message([("borderlineHoldout", "prompt")]).contains("borderlineHoldout=prompt: expected one of intent, phrasing"),
                      message([("borderlineHoldout", "prompt")]))
        XCTAssertTrue(message([("helpfulOnlySteps", "2.5")]).contains("do not fit"), message([("helpfulOnlySteps", "2.5")]))
    }
}
