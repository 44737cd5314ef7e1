import Foundation
import Reports
import XCTest
@testable import Experiments

final class PluralisticTests: XCTestCase {
    func testGroupRewardsCountWordsAsDocumented() {
        // 2 positive, 1 negative, 3 neutral of 6 words.
        let text = " great lovely awful it is the."
        XCTAssertEqual(ReviewGroups.enthusiastReward(text), 1.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(ReviewGroups.factualReward(text), (3.0 - 3) / 6, accuracy: 1e-12)
        XCTAssertEqual(ReviewGroups.factualReward(" it is the design."), 1)
        XCTAssertEqual(ReviewGroups.factualReward(" superb."), -1)
        XCTAssertEqual(ReviewGroups.factualReward(""), 0)
    }

    /// The claims read planted per-seed outcomes: intervals over seeds, holding only above 0.
    func testClaimsReadPlantedSelections() {
        func selection(_ method: String, _ weight: Double?, _ e: Double, _ f: Double) -> PluralisticSelection {
            PluralisticSelection(method: method, factualWeight: weight, enthusiast: e / 3, factual: f / 3, enthusiastStandardised: e, factualStandardised: f)
        }
        let seeds = [0.0, 0.05, -0.05].enumerated().map { index, noise in
            PluralisticSeed(seed: UInt64(index + 1), pairs: [:], accuracy: ["pooled/factual": 0.6], selections: [
                selection("weighted", 0, 1 + noise, -0.2), selection("weighted", 0.5, 0.6, 0.5 + noise), selection("weighted", 1, 0.1, 1 + noise),
                selection("maxmin", nil, 0.55, 0.45 + noise), selection("pooled", nil, 0.9, 0.1 + noise / 2),
            ], seconds: [:])
        }
        let results = PluralisticResults(configuration: .reduced, seeds: seeds)
        XCTAssertEqual(results.monotoneSeeds, 3)
        let claims = Dictionary(uniqueKeysWithValues: results.claims.map { ($0.statement, $0) })
        XCTAssertEqual(claims.count, 5)
        let gain = claims.first { $0.key.contains("factual readers gain") }!.value
        XCTAssertEqual(gain.difference.mean, 1.2, accuracy: 1e-9)
        XCTAssertTrue(gain.holds)
        let worst = claims.first { $0.key.contains("MaxMin serves the worse-off") }!.value
        XCTAssertEqual(worst.difference.mean, 0.45 - 0.1, accuracy: 1e-9)
        XCTAssertTrue(worst.holds)
        XCTAssertEqual(results.selections.first { $0.label == "pooled" }!.worstGroup.mean, 0.1, accuracy: 1e-9)
        // One seed: no interval, nothing holds.
        XCTAssertTrue(PluralisticResults(configuration: .reduced, seeds: [seeds[0]]).claims.allSatisfy { !$0.holds })
    }

    /// The reduced experiment end to end (one seed): heads trained per group move best-of-n along the trade-off as the
    /// weights ask, and the pooled model leans to its majority.
    func testReducedRunMovesAlongTheTradeOff() async throws {
        var c = PluralisticConfiguration.reduced
        c.world.referenceSteps = 150
        c.rewardSteps = 40
        c.ppoFactualWeights = [1]
        c.ppoEpisodes = 64
        c.evaluationSamples = 32
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pluralistic-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let seed = try await Pluralistic.run(c, seed: 1, folder: folder.appendingPathComponent("seed-1"), log: { _ in })
        let weighted = seed.selections.filter { $0.policy == "best-of-n" && $0.method == "weighted" }
        XCTAssertEqual(weighted.map(\.factualWeight), [0, 0.5, 1])
        XCTAssertGreaterThan(weighted.last!.factualStandardised, weighted.first!.factualStandardised + 0.3, "\(weighted)")
        XCTAssertGreaterThan(weighted.first!.enthusiastStandardised, weighted.last!.enthusiastStandardised + 0.3, "\(weighted)")
        let pooled = try XCTUnwrap(seed.selections.first { $0.policy == "best-of-n" && $0.method == "pooled" })
        // PPO ran against the weighted heads, MaxMin and the pooled model, each measured on held-out prompts.
        XCTAssertEqual(seed.selections.filter { $0.policy == "PPO" }.map(\.label), ["PPO: weighted (factual 1.00)", "PPO: maxmin", "PPO: pooled"])
        XCTAssertTrue(seed.selections.filter { $0.policy == "PPO" }.allSatisfy { $0.kl != nil && $0.factual.isFinite })
        XCTAssertGreaterThan(pooled.enthusiastStandardised, pooled.factualStandardised, "the pooled model should lean to its 80% majority: \(pooled)")
        XCTAssertGreaterThan(try XCTUnwrap(seed.accuracy["enthusiast head/enthusiast"]), 0.6)
        XCTAssertGreaterThan(try XCTUnwrap(seed.accuracy["factual head/factual"]), 0.6)
        let results = PluralisticResults(configuration: c, seeds: [seed])
        try PluralisticReport.write(results, to: folder)
        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("MaxMin") && html.contains("<svg"))
    }
}
