import Alignment
import Foundation
import Reports
import XCTest
@testable import Experiments

final class OveroptimizationTests: XCTestCase {
    /// The exact best-of-n expectation equals brute-force enumeration of every n-subset.
    func testBestOfNMatchesEnumerationOfEverySubset() {
        var generator = SystemRandomNumberGenerator()
        let m = 7
        let objective = (0..<(2 * m)).map { _ in Double.random(in: -1...1, using: &generator) }
        let gold = (0..<(2 * m)).map { _ in Double.random(in: -1...1, using: &generator) }
        let prompts = (0..<(2 * m)).map { $0 % 2 }
        for n in 1...m {
            var goldTotal = 0.0, proxyTotal = 0.0
            for prompt in 0..<2 {
                let indices = prompts.indices.filter { prompts[$0] == prompt }
                var subsets = 0, goldSum = 0.0, proxySum = 0.0
                for mask in 0..<(1 << m) where mask.nonzeroBitCount == n {
                    let chosen = (0..<m).filter { mask & (1 << $0) != 0 }.map { indices[$0] }
                    let best = chosen.max { objective[$0] < objective[$1] }!
                    subsets += 1
                    goldSum += gold[best]
                    proxySum += objective[best]
                }
                goldTotal += goldSum / Double(subsets)
                proxyTotal += proxySum / Double(subsets)
            }
            let (goldValue, proxyValue) = Overoptimization.bestOfN(n, objective: objective, gold: gold, prompts: prompts)
            XCTAssertEqual(goldValue, goldTotal / 2, accuracy: 1e-12, "n = \(n)")
            XCTAssertEqual(proxyValue, proxyTotal / 2, accuracy: 1e-12, "n = \(n)")
        }
        XCTAssertEqual(Overoptimization.bestOfNKL(1), 0)
        XCTAssertEqual(Overoptimization.bestOfNKL(4), log(4) - 0.75, accuracy: 1e-12)
    }

    func testPairAccuracyPairsSamplesOfTheSamePrompt() {
        // Pool order interleaves prompts (sample i has prompt i mod 2), as FrontierEvaluation.sample draws them.
        let prompts = [0, 1, 0, 1, 0, 1, 0, 1]
        let gold = [1.0, 0, 0, 0, 0.5, 1, 0.5, 0]
        let scores = [2.0, 0, 1, 5, 3, 1, 4, 0]
        // Prompt 0 pairs (0, 2): gold 1 > 0, scores 2 > 1 agree; (4, 6) is a gold tie, skipped. Prompt 1 pairs (1, 3): tie,
        // skipped; (5, 7): gold 1 > 0, scores 1 > 0 agree. So 2 of 2.
        XCTAssertEqual(Overoptimization.pairAccuracy(scores: scores, gold: gold, prompts: prompts), 1)
        XCTAssertEqual(Overoptimization.pairAccuracy(scores: scores.map { -$0 }, gold: gold, prompts: prompts), 0)
    }

    /// A planted over-optimisation: the single proxy's gold peaks mid-curve while its proxy keeps rising; the ensemble
    /// keeps its gold. The claims say so, and only where the paired intervals lie above 0.
    func testClaimsReadPlantedCurves() {
        func curve(_ aggregation: String, gold: [Double], proxy: [Double], noise: Double) -> OveroptimizationCurve {
            OveroptimizationCurve(method: "best-of-n", aggregation: aggregation, points: gold.indices.map {
                OveroptimizationPoint(x: 1 << $0, kl: Overoptimization.bestOfNKL(1 << $0), gold: gold[$0] + noise, proxy: proxy[$0] + noise)
            })
        }
        let seeds = [0.0, 0.01, -0.01].enumerated().map { index, noise in
            OveroptimizationSeed(seed: UInt64(index + 1), pairs: FrontierPairStatistics(), proxyAccuracy: [0.7], curves: [
                curve("single", gold: [0.1, 0.3, 0.2, 0.0], proxy: [0, 1, 2, 3], noise: noise),
                curve("min", gold: [0.1, 0.3, 0.35, 0.35], proxy: [0, 0.8, 1.5, 2], noise: noise * 2),
            ], alarmIteration: nil, seconds: [:])
        }
        let results = OveroptimizationResults(configuration: .reduced, seeds: seeds)
        XCTAssertEqual(results.curves.count, 2)
        let claims = Dictionary(uniqueKeysWithValues: results.claims.map { ($0.statement, $0) })
        let fall = claims.first { $0.key.contains("gold falls after its peak") }!.value
        XCTAssertEqual(fall.difference!.mean, 0.3, accuracy: 1e-9)
        XCTAssertTrue(fall.holds)
        XCTAssertTrue(claims.first { $0.key.contains("keeps rising") }!.value.holds)
        let atEnd = claims.first { $0.key.hasPrefix("min − proxy 1 alone: gold at") }!.value
        XCTAssertEqual(atEnd.difference!.mean, 0.35, accuracy: 1e-9)
        XCTAssertTrue(atEnd.holds)
        // The alarm is in time only when it fired no later than gold's half fall.
        XCTAssertTrue(OveroptimizationAlarm(seed: 1, alarmIteration: 30, goldHalfFallIteration: 40).timely)
        XCTAssertFalse(OveroptimizationAlarm(seed: 1, alarmIteration: 50, goldHalfFallIteration: 40).timely)
        XCTAssertFalse(OveroptimizationAlarm(seed: 1, alarmIteration: nil, goldHalfFallIteration: 40).timely)
        XCTAssertFalse(OveroptimizationAlarm(seed: 1, alarmIteration: 30, goldHalfFallIteration: nil).timely)
        // Gold's half fall: the first point after the peak at or below peak − ½(peak − start).
        let ppo = OveroptimizationSeed(seed: 1, pairs: FrontierPairStatistics(), proxyAccuracy: [], curves: [
            OveroptimizationCurve(method: "PPO", aggregation: "single", points: [(0, 0.0), (10, 0.8), (20, 0.5), (30, 0.39)].map {
                OveroptimizationPoint(x: $0.0, kl: 0, gold: $0.1, proxy: 0)
            })], alarmIteration: nil, seconds: [:])
        XCTAssertEqual(ppo.goldHalfFallIteration, 30)
        // A single seed never supports a claim.
        XCTAssertTrue(OveroptimizationResults(configuration: .reduced, seeds: [seeds[0]]).claims.allSatisfy { !$0.holds })
    }

    /// The alarm's verdict against a hand-made gold curve: gold's peak, the half-fall level and iteration, and gold at the
    /// alarm interpolated between the checkpoints around it.
    func testAlarmVerdictReadsTheGoldCurve() throws {
        func seed(alarm: Int?, gold: [(Int, Double)]) -> OveroptimizationSeed {
            OveroptimizationSeed(seed: 3, pairs: FrontierPairStatistics(), proxyAccuracy: [], curves: [
                OveroptimizationCurve(method: "PPO", aggregation: "single", points: gold.map { OveroptimizationPoint(x: $0.0, kl: 0, gold: $0.1, proxy: 0) }),
            ], alarmIteration: alarm, seconds: [:])
        }
        let hacked = [(0, 0.1), (16, 0.5), (32, 0.7), (48, 0.6), (64, 0.35)]
        let early = OveroptimizationAlarm(seed(alarm: 40, gold: hacked))
        XCTAssertEqual(early.peakGold, 0.7)
        XCTAssertEqual(early.peakIteration, 32)
        XCTAssertEqual(try XCTUnwrap(early.halfFallGold), 0.4, accuracy: 1e-12)  // 0.7 − ½ (0.7 − 0.1)
        XCTAssertEqual(early.goldHalfFallIteration, 64)
        XCTAssertEqual(try XCTUnwrap(early.goldAtAlarm), 0.65, accuracy: 1e-12)  // halfway from 0.7 (32) to 0.6 (48)
        XCTAssertEqual(try XCTUnwrap(early.largestGoldFall), 0.35 / 0.6, accuracy: 1e-12)  // (0.7 − 0.35) / (0.7 − 0.1)
        XCTAssertTrue(early.timely)
        XCTAssertEqual(OveroptimizationAlarm(seed(alarm: 48, gold: hacked)).goldAtAlarm, 0.6, "at a checkpoint, its own gold")
        XCTAssertFalse(OveroptimizationAlarm(seed(alarm: 80, gold: hacked)).timely)
        XCTAssertNil(OveroptimizationAlarm(seed(alarm: 80, gold: hacked)).goldAtAlarm, "past the last checkpoint: nothing to interpolate")
        // Gold that never falls by half: a firing alarm is a false alarm, a silent one is right.
        let steady = OveroptimizationAlarm(seed(alarm: 20, gold: [(0, 0), (16, 0.6), (32, 0.55)]))
        XCTAssertNil(steady.goldHalfFallIteration)
        XCTAssertEqual(try XCTUnwrap(steady.largestGoldFall), 0.05 / 0.6, accuracy: 1e-12)
        XCTAssertFalse(steady.timely)
        XCTAssertTrue(OveroptimizationReport.alarmText(steady).contains("fired at iteration 20"))
        XCTAssertNil(OveroptimizationAlarm(seed(alarm: nil, gold: [(0, 0), (16, 0.6), (32, 0.55)])).alarmIteration)
    }

    /// Why the experiment's tolerance is below ½: a monitor that tracks gold exactly (a rise over 10 iterations, then a
    /// linear fall back to the start over 40) fires before gold's half fall at the experiment's default tolerance, and
    /// only after it at ½ (the smoothing lags); a monitor that dips by a tenth of its rise while gold holds stays quiet.
    func testDefaultToleranceFiresBeforeAGoldTrackingMonitorHasFallenByHalf() {
        let gold = (0...10).map { Double($0) / 10 } + (1...40).map { 1 - Double($0) / 40 }
        let halfFall = gold.indices.first { $0 > 10 && gold[$0] <= 0.5 }!  // index 30
        func firing(tolerance: Double, _ monitor: [Double]) -> Int? {
            var alarm = RewardHackingAlarm(tolerance: tolerance)
            for (index, value) in monitor.enumerated() where alarm.observe(iteration: index, proxy: Double(index), monitor: value, monitorSpread: 0.1) {
                return index
            }
            return nil
        }
        let tolerance = OveroptimizationConfiguration().monitorTolerance
        let fired = firing(tolerance: tolerance, gold)
        XCTAssertNotNil(fired)
        XCTAssertLessThan(fired ?? .max, halfFall, "tolerance \(tolerance) must fire before gold has fallen by half")
        XCTAssertGreaterThanOrEqual(firing(tolerance: 0.5, gold) ?? .max, halfFall, "at ½ the smoothed monitor crosses only after gold did")
        let steady = (0...10).map { Double($0) / 10 } + [0.95, 0.9, 0.93, 0.91, 0.96, 0.92, 0.9, 0.94]
        XCTAssertNil(firing(tolerance: tolerance, steady), "a dip of a tenth of the rise is not a hack")
    }

    /// A live spot check replayed on a trace reads the first k gold scores of each iteration, exactly as
    /// `RewardHackingAlarm.observe(iteration:proxy:monitorScores:)` does inside PPO: it fires as gold falls while the proxy
    /// rises, stays quiet while gold holds, and counts its labels. The tallies sort runs into caught, late and false.
    func testLiveSpotCheckReplaysTheAlarmOnTheFirstRollouts() throws {
        // Gold rises for 10 iterations and falls back over 40; the first two rollouts follow it, the other two are noise
        // a spot check of 2 never reads.
        let gold = (0...10).map { Double($0) / 10 } + (1...40).map { 1 - Double($0) / 40 }
        let trace = gold.enumerated().map { index, value in
            OveroptimizationTracePoint(iteration: index + 1, proxy: Double(index), monitor: 0, gold: value, proxySpread: nil,
                                       goldScores: [value + 0.05, value - 0.05, index % 2 == 0 ? 5 : -5, 0])
        }
        let two = OveroptimizationJudgeAlarm(trace: trace, samples: 2, tolerance: 0.25)
        var alarm = RewardHackingAlarm(tolerance: 0.25)
        let expected = trace.first { alarm.observe(iteration: $0.iteration, proxy: $0.proxy, monitorScores: Array($0.goldScores!.prefix(2))) }?.iteration
        XCTAssertNotNil(two.iteration)
        XCTAssertEqual(two.iteration, expected)
        XCTAssertLessThan(try XCTUnwrap(two.iteration), 31, "before gold's half fall (iteration 31)")
        XCTAssertEqual(two.labels, 2 * 51)
        let steady = (0...10).map { Double($0) / 10 } + Array(repeating: 0.97, count: 20)
        let quiet = steady.enumerated().map { OveroptimizationTracePoint(iteration: $0 + 1, proxy: Double($0), monitor: 0, gold: $1, goldScores: [$1, $1]) }
        XCTAssertNil(OveroptimizationJudgeAlarm(trace: quiet, samples: 2, tolerance: 0.25).iteration)

        // Tallies: gold fell by half in seeds 1 and 3 (caught, late), by a third in seed 4 (a partial fall the judge warned
        // of) and by a tenth in seed 2 (a false alarm); the reward-model monitor fired only in seed 2.
        func run(_ seed: UInt64, fired: Int?, halfFall: Int?, fall: Double) -> OveroptimizationAlarm {
            var run = OveroptimizationAlarm(seed: seed, alarmIteration: fired, goldHalfFallIteration: halfFall)
            run.largestGoldFall = fall
            run.judges = [two]
            return run
        }
        let alarms = [run(1, fired: nil, halfFall: 32, fall: 0.6), run(2, fired: 5, halfFall: nil, fall: 0.1),
                      run(3, fired: nil, halfFall: 16, fall: 0.7), run(4, fired: nil, halfFall: nil, fall: 0.34)]
        let tallies = OveroptimizationReport.alarmTallies(alarms, tolerance: 0.25, judgeSamples: [2], monitorPairs: [500, 520])
        XCTAssertEqual(tallies.map(\.cells), [
            ["reward models on spot-check pairs", "500–520 labelled pairs before PPO", "0 of 2", "—", "0 of 1", "1 of 1"],
            ["gold judge on 2 rollouts per iteration", "102 labels during PPO", "1 of 2", "\(32 - two.iteration!)", "1 of 1", "1 of 1"],
        ])
    }

    func testConfigurationRejectsAnUnusableMonitorNamingTheFlag() {
        var c = OveroptimizationConfiguration()
        XCTAssertNoThrow(try c.validate())
        c.monitorPairsPerPrompt = 0
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".hasPrefix("--monitor-pairs-per-prompt:"), "\($0)") }
        c = OveroptimizationConfiguration()
        for tolerance in [0, -0.1, .nan, .infinity] {
            c.monitorTolerance = tolerance
            XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".hasPrefix("--monitor-tolerance:"), "\($0)") }
        }
        c = OveroptimizationConfiguration()
        for k in [0, 33] {
            c.judgeSamples = [4, k]
            XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".hasPrefix("--judge-samples:"), "\($0)") }
        }
        c = OveroptimizationConfiguration()
        for smoothing in [0, 1.5, .nan] {
            c.judgeSmoothing = smoothing
            XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".hasPrefix("--judge-smoothing:"), "\($0)") }
        }
    }

    /// The recording monitor passes the wrapped monitor's scores through and records gold of each rollout of each call.
    func testGoldRecordingMonitorRecordsGoldAndKeepsTheScores() throws {
        let inner = ClosureReward { Float($0.response.count) }
        let recorder = GoldRecordingMonitor(inner)
        func rollout(_ text: String) -> ScoredRollout {
            ScoredRollout(promptIds: [1], responseIds: [2], prompt: "My kettle:", response: text, endsWithStopToken: true)
        }
        let batch = [rollout(" great lovely."), rollout(" awful and great dull."), rollout(" it is.")]
        XCTAssertEqual(try recorder.scores(batch), try inner.scores(batch))
        XCTAssertEqual(try recorder.scores([rollout(" superb.")]), [8])
        XCTAssertEqual(recorder.goldScores, [[1, -0.25, 0], [1]])  // (1 − 2)/4 for " awful and great dull."
        XCTAssertTrue(recorder.spreads.isEmpty, "no ensemble, no spread")
        // The ensemble's spread: per rollout the standard deviation across members, then the mean over rollouts.
        XCTAssertEqual(GoldRecordingMonitor.spread([[1, 3], [3, 3]]), 0.5, accuracy: 1e-12)  // (1 + 0) / 2
        XCTAssertEqual(GoldRecordingMonitor.spread([[1, 2, 3]]), 0, "one member does not disagree")
    }

    /// The report's method paragraph says how the proxies were trained (separate models or heads on one trunk; the
    /// same pairs or a bootstrap resample each), and results written before `bootstrap` existed still decode.
    func testReportNamesHowTheProxiesWereTrained() throws {
        var c = OveroptimizationConfiguration()
        XCTAssertTrue(OveroptimizationReport.proxies(c).contains("4 proxy reward models are trained on them with different seeds, all on the same pairs"))
        c.bootstrap = true
        XCTAssertTrue(OveroptimizationReport.proxies(c).contains("each on its own bootstrap resample"))
        c.sharedTrunk = true
        XCTAssertTrue(OveroptimizationReport.proxies(c).contains("4 proxy reward heads are trained on them on one shared trunk"))
        XCTAssertTrue(OveroptimizationReport.proxies(c).contains("each on its own bootstrap resample"))
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(OveroptimizationConfiguration())) as? [String: Any])
        object.removeValue(forKey: "bootstrap")
        object.removeValue(forKey: "sharedTrunk")
        let old = try JSONDecoder().decode(OveroptimizationConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertNil(old.bootstrap)
        XCTAssertTrue(OveroptimizationReport.proxies(old).contains("all on the same pairs"))
    }

    /// The whole experiment at a tiny size: every curve is there, best-of-n's optimised score rises with n under every
    /// aggregation, the PPO curves start at the reference (KL exactly 0), the learned proxy carries signal (best-of-32
    /// by proxy 1 beats a random sample on gold), and the report and results are written.
    func testTinyRunWritesEveryCurveAndTheProxyCarriesSignal() async throws {
        var c = OveroptimizationConfiguration.reduced
        c.world.corpusSize = 1500
        c.world.referenceSteps = 150
        c.ensembleSize = 2
        c.rewardSteps = 30
        c.ppoEpisodes = 64
        c.ppoCheckpoints = 1
        c.evaluationSamples = 32
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("overoptimization-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let seed = try await Overoptimization.run(c, seed: 3, folder: folder.appendingPathComponent("seed-3"), log: { _ in })
        XCTAssertEqual(seed.curves.map { "\($0.method)/\($0.aggregation)" },
                       ["best-of-n/single", "best-of-n/mean", "best-of-n/min", "best-of-n/uncertainty", "PPO/single", "PPO/min"])
        for curve in seed.curves where curve.method == "best-of-n" {
            XCTAssertEqual(curve.points.map(\.x), [1, 2, 4, 8, 16, 32])
            for (a, b) in zip(curve.points, curve.points.dropFirst()) {
                XCTAssertGreaterThanOrEqual(b.proxy, a.proxy - 1e-9, "\(curve.aggregation): the expected best of more samples cannot score lower")
            }
        }
        let single = seed.curves[0].points
        XCTAssertGreaterThan(single.last!.gold, single.first!.gold, "best-of-32 by the learned proxy should beat a random sample on gold")
        for curve in seed.curves where curve.method == "PPO" {
            XCTAssertEqual(curve.points.first?.x, 0)
            XCTAssertEqual(curve.points.first?.kl, 0, "the reference against itself")
            XCTAssertEqual(curve.points.last?.x, 2)
        }
        XCTAssertTrue(seed.proxyAccuracy.allSatisfy { $0 > 0 && $0 <= 1 })
        XCTAssertGreaterThan(seed.monitorPairs.labelled, seed.pairs.labelled, "the monitor's spot-check budget is larger than the proxies'")
        XCTAssertTrue((0...1).contains(try XCTUnwrap(seed.monitorAccuracy)))
        XCTAssertEqual(seed.alarmTrace.map(\.iteration), [1, 2], "one trace point per PPO iteration of the single-proxy run")
        XCTAssertTrue(seed.alarmTrace.allSatisfy { (-1...1).contains($0.gold) })
        XCTAssertTrue(seed.alarmTrace.allSatisfy { ($0.proxySpread ?? -1) >= 0 }, "the proxies' spread is recorded at every trace point")
        XCTAssertTrue(seed.alarmTrace.contains { ($0.proxySpread ?? 0) > 0 }, "two proxies from different seeds disagree somewhere")
        for point in seed.alarmTrace {
            let scores = try XCTUnwrap(point.goldScores, "per-rollout gold is recorded for the live spot checks")
            XCTAssertEqual(scores.count, 32, "every rollout of the batch")
            XCTAssertEqual(Statistics.mean(scores), point.gold, accuracy: 1e-12)
        }
        let results = OveroptimizationResults(configuration: c, seeds: [seed])
        XCTAssertEqual(results.alarms.first?.judges?.map(\.samples), c.judgeSamples)
        XCTAssertEqual(results.alarms.first?.judges?.map(\.labels), c.judgeSamples?.map { $0 * 2 })
        try OveroptimizationReport.write(results, to: folder)
        let page = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("Reward-hacking alarm"))
        XCTAssertTrue(page.contains("seed 3: gold, proxies&#39; spread"), "the trace charts draw the proxies' spread beside gold")
        XCTAssertTrue(page.contains("Live spot checks on the same runs"), "the replayed judge alarms are tabulated")
        let decoded = try JSONDecoder().decode(OveroptimizationResults.self, from: Data(contentsOf: folder.appendingPathComponent("results.json")))
        XCTAssertEqual(decoded, results)
    }
}
