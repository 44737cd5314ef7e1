import Foundation
import XCTest
@testable import Reports

/// The training checks (reward model at chance, PPO KL) and the page sections that show them, explain and compare.
final class TrainingChecksTests: XCTestCase {
    func accuracyCurve(_ values: [Double]) -> [[String: Double]] {
        values.enumerated().map { ["step": Double(5 * ($0.offset + 1)), "accuracy": $0.element, "loss": 0.6] }
    }

    func testRewardModelAtChanceIsFlaggedAndOneAboveIsNot() throws {
        // The last quarter (3 of 12 values) decides: early progress does not hide a model that ends at chance.
        let atChance = try XCTUnwrap(TrainingChecks.rewardModel(accuracyCurve([0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.55, 0.5]), stage: "seed 1 reward"))
        XCTAssertTrue(atChance.failed, atChance.measured)
        XCTAssertEqual(atChance.measured, "accuracy 0.517 (mean training accuracy of the last 3 logged values)")
        XCTAssertTrue(atChance.warning.hasPrefix("seed 1 reward: the reward model's final accuracy is 0.517"), atChance.warning)
        // Exactly 0.5 + margin is still at chance; just above it is not.
        XCTAssertTrue(try XCTUnwrap(TrainingChecks.rewardModel(accuracyCurve([0.55]), stage: "r")).failed)
        XCTAssertFalse(try XCTUnwrap(TrainingChecks.rewardModel(accuracyCurve([0.5, 0.5, 0.5, 0.56]), stage: "r")).failed)
        XCTAssertFalse(try XCTUnwrap(TrainingChecks.rewardModel(accuracyCurve([0.7, 0.65, 0.75, 0.7]), stage: "r")).failed)
        // A held-out accuracy, when logged, wins over the training accuracy; NaN is never above chance.
        var curve = accuracyCurve([0.9, 0.9, 0.9, 0.9])
        curve.append(["step": 20, "eval_accuracy": 0.52])
        let heldOut = try XCTUnwrap(TrainingChecks.rewardModel(curve, stage: "r"))
        XCTAssertTrue(heldOut.failed)
        XCTAssertTrue(heldOut.measured.contains("held-out eval_accuracy"), heldOut.measured)
        XCTAssertTrue(try XCTUnwrap(TrainingChecks.rewardModel(accuracyCurve([.nan]), stage: "r")).failed)
        XCTAssertNil(TrainingChecks.rewardModel([["step": 1, "loss": 0.7]], stage: "r"), "no accuracy logged: nothing to check")
    }

    func testPPOKLBeyondTheLimitIsFlagged() throws {
        func curve(_ kls: [Double]) -> [[String: Double]] { kls.enumerated().map { ["step": Double($0.offset + 1), "objective/kl": $0.element] } }
        let bounded = try XCTUnwrap(TrainingChecks.ppoKL(curve([0, 2, 18.7, 6]), stage: "ppo"))
        XCTAssertFalse(bounded.failed)
        XCTAssertEqual(bounded.measured, "largest 18.70 nats (step 3); last 6.00")
        let exploded = try XCTUnwrap(TrainingChecks.ppoKL(curve([0, 4, 25, 60, 12]), stage: "seed 2 ppo"))
        XCTAssertTrue(exploded.failed)
        XCTAssertEqual(exploded.measured, "largest 60.00 nats (step 4); last 12.00")
        XCTAssertTrue(exploded.warning.hasPrefix("seed 2 ppo: PPO's KL from the reference reached 60.00 nats per response at step 4, over the 20-nat limit"), exploded.warning)
        XCTAssertTrue(try XCTUnwrap(TrainingChecks.ppoKL(curve([1, .nan, 2]), stage: "p")).failed, "a NaN KL is a diverged run")
        XCTAssertTrue(try XCTUnwrap(TrainingChecks.ppoKL(curve([1, 6]), stage: "p", limit: 5)).failed)
        XCTAssertNil(TrainingChecks.ppoKL([["step": 1, "loss": 0.1]], stage: "p"))
    }

    func testPageShowsAWarningPerFailedCheckAndStatesTheThresholds() throws {
        let failing = try XCTUnwrap(TrainingChecks.rewardModel(accuracyCurve([0.5]), stage: "<seed 1> reward"))
        let passing = try XCTUnwrap(TrainingChecks.ppoKL([["step": 1, "objective/kl": 3]], stage: "seed 1 ppo"))
        var page = HTMLPage(title: "t")
        page.trainingChecks([failing, passing])
        let html = page.body
        XCTAssertEqual(html.components(separatedBy: "class=\"warning\" role=\"alert\"").count - 1, 1, html)
        XCTAssertTrue(html.contains("&lt;seed 1&gt; reward: the reward model"), "escaped: \(html)")
        XCTAssertFalse(html.contains("<seed 1>"))
        XCTAssertTrue(html.contains("<td>WARNING</td>") && html.contains("<td>ok</td>"), html)
        XCTAssertTrue(html.contains("is at most 0.55 (0.5 + 0.05)") && html.contains("exceeds 20 nats per response"), "thresholds stated: \(html)")

        var healthy = HTMLPage(title: "t")
        healthy.trainingChecks([passing])
        XCTAssertFalse(healthy.body.contains("role=\"alert\""))
        XCTAssertTrue(healthy.body.contains("role=\"status\">Every training check passed (1 check)"), healthy.body)
    }

    func testDefinitionsAndExamplesEscapeTheirText() {
        var page = HTMLPage(title: "t")
        page.definitions([("loss <b>", "a & b")])
        page.examples([GenerationExample(kind: "harmful", id: "evaluation/x/0", prompt: "Say <script>alert(1)</script>",
                                         responses: [.init(model: "RL-CAI <ppo>", text: "I can't help with \"that\".\n  Instead: <img src=x>", verdict: "helpful-refusal"),
                                                     .init(model: "helpful-only", text: "Sure & here", verdict: "harmful-compliance")])],
                      id: "a\"b")
        let html = page.html
        XCTAssertTrue(html.contains("<dl><dt>loss &lt;b&gt;</dt><dd>a &amp; b</dd></dl>"), html)
        XCTAssertFalse(html.contains("<script") || html.contains("<img") || html.contains("<ppo>"), html)
        XCTAssertTrue(html.contains("<caption>harmful (evaluation/x/0): “Say &lt;script&gt;alert(1)&lt;/script&gt;”</caption>"), html)
        XCTAssertTrue(html.contains("<td class=\"response\">I can&#39;t help with &quot;that&quot;.\n  Instead: &lt;img src=x&gt;</td>"), "whitespace kept, text escaped: \(html)")
        XCTAssertEqual(html.components(separatedBy: "<tr><td>").count - 1, 2, "a row per model")
        XCTAssertTrue(html.contains("<div id=\"a&quot;b\">"), "the id is escaped")
        XCTAssertTrue(html.contains(".warning{") && html.contains("table.examples"), "the section styles are in the page")
    }
}
