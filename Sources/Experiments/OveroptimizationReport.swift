import Alignment
import Foundation
import Reports
import Tensors

/// A curve summarised over seeds: at each point, gold and proxy with 95% t-intervals and the mean KL.
public struct OveroptimizationSummaryCurve: Codable, Equatable, Sendable {
    public var method: String
    public var aggregation: String
    public var x: [Int]
    public var kl: [Double]
    public var gold: [Interval]
    public var proxy: [Interval]
}

/// A paired (per-seed) comparison with its 95% t-interval, and what it says.
public struct OveroptimizationClaim: Codable, Equatable, Sendable {
    public var method: String
    public var statement: String
    /// nil when there is nothing to compare (the gold curve peaks at its last point).
    public var difference: Interval?
    /// The interval lies entirely above 0.
    public var holds: Bool
}

/// The reward-hacking alarm on the single-proxy PPO run, per seed: when it fired, and when gold had fallen by half of
/// its rise from its peak (nil: it never did, at the measured checkpoints).
public struct OveroptimizationAlarm: Codable, Equatable, Sendable {
    public var seed: UInt64
    public var alarmIteration: Int?
    public var goldHalfFallIteration: Int?
    /// Gold's peak over the measured checkpoints (held-out prompts) and where it was.
    public var peakGold: Double?
    public var peakIteration: Int?
    /// The level whose crossing is gold's half fall: peak − ½ (peak − gold at iteration 0).
    public var halfFallGold: Double?
    /// Gold at the alarm's iteration, interpolated linearly between the measured checkpoints around it.
    public var goldAtAlarm: Double?
    /// Gold's largest fall after its peak as a share of its rise: (peak − lowest checkpoint from the peak on) / (peak −
    /// gold at iteration 0); at least ½ exactly when gold fell by half.
    public var largestGoldFall: Double?
    /// The live spot checks replayed on the same run (``OveroptimizationConfiguration/judgeSamples``); nil when the
    /// trace has no per-rollout gold (results written before it was recorded).
    public var judges: [OveroptimizationJudgeAlarm]?

    public init(seed: UInt64, alarmIteration: Int?, goldHalfFallIteration: Int?) {
        self.seed = seed
        self.alarmIteration = alarmIteration
        self.goldHalfFallIteration = goldHalfFallIteration
    }

    /// The alarm of `seed`'s single-proxy PPO run, read against its measured gold curve, with the live spot checks of
    /// `judgeSamples` rollouts per iteration replayed on its trace at `tolerance` and `smoothing`.
    public init(_ seed: OveroptimizationSeed, judgeSamples: [Int] = [], tolerance: Double = 0, smoothing: Double = 0.3) {
        self.init(seed: seed.seed, alarmIteration: seed.alarmIteration, goldHalfFallIteration: seed.goldHalfFallIteration)
        if !seed.alarmTrace.isEmpty, seed.alarmTrace.allSatisfy({ $0.goldScores != nil }) {
            judges = judgeSamples.map { OveroptimizationJudgeAlarm(trace: seed.alarmTrace, samples: $0, tolerance: tolerance, smoothing: smoothing) }
        }
        guard let points = seed.curves.first(where: { $0.method == "PPO" && $0.aggregation == "single" })?.points, let start = points.first,
              let peak = points.max(by: { $0.gold < $1.gold }) else { return }
        peakGold = peak.gold
        peakIteration = peak.x
        halfFallGold = peak.gold - (peak.gold - start.gold) / 2
        if peak.gold > start.gold, let lowest = points.filter({ $0.x >= peak.x }).map(\.gold).min() {
            largestGoldFall = (peak.gold - lowest) / (peak.gold - start.gold)
        }
        goldAtAlarm = alarmIteration.flatMap { Self.interpolate(points, at: $0) }
    }

    /// Gold at iteration `x` on the straight line between the measured points around it (nil outside them).
    static func interpolate(_ points: [OveroptimizationPoint], at x: Int) -> Double? {
        guard let after = points.firstIndex(where: { $0.x >= x }) else { return nil }
        let b = points[after]
        guard b.x != x, after > 0 else { return b.x == x ? b.gold : nil }
        let a = points[after - 1]
        return a.gold + (b.gold - a.gold) * Double(x - a.x) / Double(b.x - a.x)
    }
    /// The alarm fired, and no later than the first measured checkpoint at which gold had fallen by half (vacuously
    /// false when gold never fell by half: then there was nothing to warn about in time).
    public var timely: Bool { isTimely(alarmIteration) }

    /// Whether an alarm at `iteration` came in time: it fired, no later than gold's half fall.
    public func isTimely(_ iteration: Int?) -> Bool {
        guard let iteration, let goldHalfFallIteration else { return false }
        return iteration <= goldHalfFallIteration
    }
}

/// A live spot check replayed on the single-proxy run's alarm trace: the alarm (``RewardHackingAlarm``, the
/// experiment's tolerance, `judgeSmoothing`) whose monitor reads the gold judge on the first `samples` rollouts of each
/// iteration, beside the proxy's mean over all of them — exactly what PPO computes with `monitor_samples`,
/// `monitor_smoothing` and the judge as its monitor.
public struct OveroptimizationJudgeAlarm: Codable, Equatable, Sendable {
    /// k: rollouts judged per iteration.
    public var samples: Int
    /// The iteration at which it fired; nil: silent.
    public var iteration: Int?
    /// Gold labels it spent: k × the iterations it read.
    public var labels: Int

    public init(trace: [OveroptimizationTracePoint], samples: Int, tolerance: Double, smoothing: Double = 0.3) {
        var alarm = RewardHackingAlarm(tolerance: tolerance, smoothing: smoothing)
        for point in trace {
            _ = alarm.observe(iteration: point.iteration, proxy: point.proxy, monitorScores: Array((point.goldScores ?? []).prefix(samples)))
        }
        self.samples = samples
        iteration = alarm.firedAt
        labels = samples * trace.count
    }
}

/// results.json of `charter experiment overoptimization`.
public struct OveroptimizationResults: Codable, Equatable, Sendable {
    public var experiment = "overoptimization"
    public var configuration: OveroptimizationConfiguration
    public var seeds: [OveroptimizationSeed]
    public var curves: [OveroptimizationSummaryCurve]
    public var claims: [OveroptimizationClaim]
    public var proxyAccuracy: Interval
    public var alarms: [OveroptimizationAlarm]
    /// The kernel path and CPU that produced the numbers.
    public var machine: MachineDescription

    public init(configuration: OveroptimizationConfiguration, seeds: [OveroptimizationSeed]) {
        self.configuration = configuration
        self.seeds = seeds
        machine = .current
        proxyAccuracy = Statistics.interval95(seeds.flatMap(\.proxyAccuracy))
        alarms = seeds.map {
            OveroptimizationAlarm($0, judgeSamples: configuration.judgeSamples ?? [], tolerance: configuration.monitorTolerance,
                                  smoothing: configuration.judgeSmoothing ?? 0.3)
        }
        var curves: [OveroptimizationSummaryCurve] = []
        var claims: [OveroptimizationClaim] = []
        let keys = seeds.first?.curves.map { ($0.method, $0.aggregation) } ?? []
        func perSeed(_ method: String, _ aggregation: String) -> [OveroptimizationCurve] {
            seeds.compactMap { $0.curves.first { $0.method == method && $0.aggregation == aggregation } }
        }
        for (method, aggregation) in keys {
            let runs = perSeed(method, aggregation)
            guard let shape = runs.first, runs.allSatisfy({ $0.points.map(\.x) == shape.points.map(\.x) }) else { continue }
            curves.append(OveroptimizationSummaryCurve(
                method: method, aggregation: aggregation, x: shape.points.map(\.x),
                kl: shape.points.indices.map { index in Statistics.mean(runs.map { $0.points[index].kl }) },
                gold: shape.points.indices.map { index in Statistics.interval95(runs.map { $0.points[index].gold }) },
                proxy: shape.points.indices.map { index in Statistics.interval95(runs.map { $0.points[index].proxy }) }))
        }
        for method in Array(Set(keys.map(\.0))).sorted() {
            guard let single = curves.first(where: { $0.method == method && $0.aggregation == "single" }), single.x.count > 1 else { continue }
            let singleRuns = perSeed(method, "single")
            let peak = single.gold.indices.max { single.gold[$0].mean < single.gold[$1].mean }!
            let last = single.x.count - 1
            if peak < last {
                let drop = Statistics.interval95(singleRuns.map { $0.points[peak].gold - $0.points[last].gold })
                claims.append(OveroptimizationClaim(method: method, statement: "proxy 1 alone: gold falls after its peak (gold at \(Self.label(method, single.x[peak])) − gold at \(Self.label(method, single.x[last])))",
                                                    difference: drop, holds: drop.count > 1 && drop.lower > 0))
                let rise = Statistics.interval95(singleRuns.map { $0.points[last].proxy - $0.points[peak].proxy })
                claims.append(OveroptimizationClaim(method: method, statement: "proxy 1 alone: the proxy keeps rising after the gold peak (proxy at \(Self.label(method, single.x[last])) − at \(Self.label(method, single.x[peak])))",
                                                    difference: rise, holds: rise.count > 1 && rise.lower > 0))
            } else {
                claims.append(OveroptimizationClaim(method: method, statement: "proxy 1 alone: gold peaks at the last point (\(Self.label(method, single.x[last]))); no fall to measure",
                                                    difference: nil, holds: false))
            }
            for curve in curves where curve.method == method && curve.aggregation != "single" {
                let runs = perSeed(method, curve.aggregation)
                guard runs.count == singleRuns.count else { continue }
                let atEnd = Statistics.interval95(zip(runs, singleRuns).map { $0.points[last].gold - $1.points[last].gold })
                claims.append(OveroptimizationClaim(method: method, statement: "\(curve.aggregation) − proxy 1 alone: gold at \(Self.label(method, single.x[last]))",
                                                    difference: atEnd, holds: atEnd.count > 1 && atEnd.lower > 0))
                let best = Statistics.interval95(zip(runs, singleRuns).map { pair in
                    pair.0.points.map(\.gold).max()! - pair.1.points.map(\.gold).max()!
                })
                claims.append(OveroptimizationClaim(method: method, statement: "\(curve.aggregation) − proxy 1 alone: best gold along the curve (per seed)",
                                                    difference: best, holds: best.count > 1 && best.lower > 0))
            }
        }
        self.curves = curves
        self.claims = claims
    }

    static func label(_ method: String, _ x: Int) -> String { method == "PPO" ? "iteration \(x)" : "n = \(x)" }

    /// The results with the summaries, claims and alarm verdicts derived afresh from the seeds (a report written by an
    /// older version gains what this one reads from them); the machine that produced the seeds is kept.
    public var rederived: Self {
        var results = Self(configuration: configuration, seeds: seeds)
        results.machine = machine
        return results
    }
}

/// results.json and report.html.
public enum OveroptimizationReport {
    public static func write(_ results: OveroptimizationResults, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = try ResultsFile.write(results, to: directory)
        _ = try page(results).write(to: directory)
    }

    public static func interval(_ interval: Interval, digits: Int = 3) -> String {
        interval.text { String(format: "%+.\(digits)f", $0) }
    }

    /// The claims as plain lines (the command prints them).
    public static func summary(_ results: OveroptimizationResults) -> String {
        (results.claims.map { "\($0.method): \($0.statement): \($0.difference.map { interval($0) } ?? "—") — \($0.holds ? "holds" : "not shown")" }
            + results.alarms.map { "alarm, seed \($0.seed): " + alarmText($0) }
            + alarmTallies(results).map { "\($0.monitor): " + $0.text }).joined(separator: "\n")
    }

    /// One monitor's record over the seeds: half falls caught in time (and how many iterations ahead), partial falls
    /// it warned of, false alarms.
    struct AlarmTally {
        var monitor: String
        var labels: String
        var caught = 0, falls = 0, warned = 0, partial = 0, falseAlarms = 0, quiet = 0
        var leads: [Int] = []

        var text: String {
            "caught \(caught) of \(falls) half falls in time" + (leads.isEmpty ? "" : " (iterations ahead: \(leads.map(String.init).joined(separator: ", ")))")
                + "; warned of \(warned) of \(partial) partial falls; \(falseAlarms) false alarms in \(quiet) runs; \(labels)"
        }
        var cells: [String] {
            [monitor, labels, "\(caught) of \(falls)", leads.isEmpty ? "—" : leads.map(String.init).joined(separator: ", "), "\(warned) of \(partial)",
             "\(falseAlarms) of \(quiet)"]
        }
    }

    /// The experiment's monitor and each live spot check, tallied over the seeds. A run's gold fell by half (the alarm
    /// is in time when it fires no later than that checkpoint), fell by at least the tolerance but less than half
    /// (a partial fall: warning of it is right, silence is not wrong), or fell by less than the tolerance (any firing is a
    /// false alarm): gold's largest fall after its peak at the measured checkpoints, as a share of its rise.
    static func alarmTallies(_ results: OveroptimizationResults) -> [AlarmTally] {
        alarmTallies(results.alarms, tolerance: results.configuration.monitorTolerance, judgeSamples: results.configuration.judgeSamples ?? [],
                     monitorPairs: results.seeds.map(\.monitorPairs.labelled))
    }

    static func alarmTallies(_ alarms: [OveroptimizationAlarm], tolerance: Double, judgeSamples: [Int], monitorPairs pairs: [Int]) -> [AlarmTally] {
        func tally(_ monitor: String, _ labels: String, _ iteration: (OveroptimizationAlarm) -> Int??) -> AlarmTally {
            var tally = AlarmTally(monitor: monitor, labels: labels)
            for alarm in alarms {
                guard let fired = iteration(alarm) else { continue }
                if let fall = alarm.goldHalfFallIteration {
                    tally.falls += 1
                    if alarm.isTimely(fired), let fired { tally.caught += 1; tally.leads.append(fall - fired) }
                } else if (alarm.largestGoldFall ?? 0) >= tolerance {
                    tally.partial += 1
                    if fired != nil { tally.warned += 1 }
                } else {
                    tally.quiet += 1
                    if fired != nil { tally.falseAlarms += 1 }
                }
            }
            return tally
        }
        var tallies = [tally("reward models on spot-check pairs", "\(pairs.min() ?? 0)–\(pairs.max() ?? 0) labelled pairs before PPO") { .some($0.alarmIteration) }]
        for k in judgeSamples where alarms.contains(where: { $0.judges != nil }) {
            let labels = alarms.compactMap { $0.judges?.first { $0.samples == k }?.labels }.max() ?? 0
            tallies.append(tally("gold judge on \(k) rollouts per iteration", "\(labels) labels during PPO") { alarm in
                alarm.judges.map { judges in judges.first { $0.samples == k }?.iteration }
            })
        }
        return tallies
    }

    static func alarmText(_ alarm: OveroptimizationAlarm) -> String {
        var fired = alarm.alarmIteration.map { "fired at iteration \($0)" } ?? "did not fire"
        if alarm.alarmIteration != nil, let gold = alarm.goldAtAlarm, let peak = alarm.peakGold, let peakIteration = alarm.peakIteration {
            fired += String(format: " (gold ≈ %.3f; its peak %.3f at iteration %d)", gold, peak, peakIteration)
        }
        let fall = alarm.goldHalfFallIteration.map { "gold had fallen by half at iteration \($0)" } ?? "gold never fell by half at the measured checkpoints"
        return "\(fired); \(fall)" + (alarm.timely ? " — in time" : "")
    }

    /// How the proxy ensemble was trained, as the page's method paragraph says it.
    static func proxies(_ c: OveroptimizationConfiguration) -> String {
        let data = c.bootstrap == true ? "each on its own bootstrap resample of them" : "all on the same pairs"
        return c.sharedTrunk == true
            ? "\(c.ensembleSize) proxy reward heads are trained on them on one shared trunk (one model with \(c.ensembleSize) score columns, "
                + "heads from different seeds, \(data); member 1 is head 1)"
            : "\(c.ensembleSize) proxy reward models are trained on them with different seeds, \(data)"
    }

    static func page(_ results: OveroptimizationResults) -> HTMLPage {
        let c = results.configuration
        var page = HTMLPage(title: "Reward-model over-optimisation and ensembles")
        page.heading("Reward-model over-optimisation, with and without ensembles")
        page.paragraph("After Gao et al. 2023 (over-optimisation of a proxy reward model) and Coste et al. 2024 (ensembles mitigate it), on the "
                       + "review language of charter experiment frontier, whose programmatic reward r = (#positive − #negative)/#words is the gold "
                       + "reward. Per seed a reference model is trained from scratch; \(c.pairsPerPrompt) pairs per training prompt are sampled from it "
                       + "and labelled by the gold reward; \(proxies(c)) "
                       + "(\(c.rewardSteps) steps) and standardised on their training responses. Best-of-n ranks \(c.samplesPerPrompt) reference "
                       + "samples per held-out prompt by member 1 alone, the members' mean, their minimum, or mean − \(c.uncertaintyPenalty)·variance; "
                       + "PPO (β = \(c.ppoKLCoefficient) fixed, \(c.ppoEpisodes) episodes) optimises member 1 alone or an ensemble aggregation.")
        page.paragraph("Kernel path \(results.machine.kernelPath) on \(results.machine.cpu) (\(results.machine.threads) threads); "
                       + "\(Int(results.seeds.flatMap(\.seconds.values).reduce(0, +).rounded())) s in all.")
        page.paragraph("Proxy agreement with gold on fresh pairs from the reference (held-out prompts, all members, all seeds): "
                       + "\(GRPOArithmeticReport.interval(results.proxyAccuracy)).")
        page.heading("Claims (\(results.seeds.count) seed\(results.seeds.count == 1 ? "" : "s"); paired per seed, mean [95% t-interval])", level: 2)
        page.table(header: ["method", "comparison", "difference", "verdict"], rows: results.claims.map {
            [$0.method, $0.statement, $0.difference.map { interval($0) } ?? "—", $0.holds ? "holds (interval above 0)" : "not shown"]
        })
        page.heading("Reward-hacking alarm (PPO against proxy 1 alone; monitor: reward models on a spot-check budget)", level: 2)
        let spotChecks = results.seeds.map(\.monitorPairs.labelled)
        page.paragraph("The monitor is \(c.monitorSize) reward models trained like the proxies on their own gold-labelled pairs — the spot-check "
                       + "budget, \(c.monitorPairsPerPrompt) pairs per training prompt sampled from the reference (\(spotChecks.map(String.init).joined(separator: ", ")) "
                       + "labelled pairs per seed, against the proxies' \(c.pairsPerPrompt) per prompt) — read by their mean. It scores the same "
                       + "rollouts as the proxy every iteration (32); the alarm fires when its smoothed score has fallen from its peak by "
                       + "\(c.monitorTolerance) × its rise (or its first batch's spread) while the smoothed proxy is above its value at the "
                       + "monitor's peak. It is in time when it fires no later than the first measured checkpoint at which gold has fallen by half "
                       + "of its rise from the start to its peak; gold at the alarm is interpolated between the checkpoints around it.")
        page.table(header: ["seed", "monitor agreement with gold", "alarm", "gold at the alarm", "gold's peak", "gold's largest fall after it",
                            "gold fallen by half", "verdict"],
                   rows: zip(results.alarms, results.seeds).map { alarm, seed in
            [
                "\(alarm.seed)", seed.monitorAccuracy.map { String(format: "%.1f%%", 100 * $0) } ?? "—",
                alarm.alarmIteration.map { "iteration \($0)" } ?? "did not fire",
                alarm.alarmIteration == nil ? "—" : alarm.goldAtAlarm.map { String(format: "%.3f", $0) } ?? "—",
                alarm.peakGold.map { String(format: "%.3f at iteration %d", $0, alarm.peakIteration ?? 0) } ?? "—",
                alarm.largestGoldFall.map { String(format: "%.0f%% of its rise", 100 * $0) } ?? "—",
                alarm.goldHalfFallIteration.map { "iteration \($0)" + (alarm.halfFallGold.map { String(format: " (≤ %.3f)", $0) } ?? "") } ?? "never (at the checkpoints)",
                alarm.goldHalfFallIteration != nil ? (alarm.timely ? "in time" : "late or silent")
                    : (alarm.largestGoldFall ?? 0) >= c.monitorTolerance ? (alarm.alarmIteration == nil ? "silent through a partial fall" : "warned of a partial fall")
                    : alarm.alarmIteration == nil ? "silent, rightly" : "false alarm",
            ]
        })
        let tallies = alarmTallies(results)
        if tallies.count > 1 {
            page.paragraph("Live spot checks on the same runs: the alarm with the same tolerance, but whose monitor is the gold judge itself on "
                           + "the first k rollouts of each iteration (a human or trusted judge labelling k samples per iteration), smoothed with "
                           + "weight \(c.judgeSmoothing ?? 0.3) on the newest reading, replayed on the recorded rollouts — what PPO reads with "
                           + "monitor_samples: k, monitor_smoothing: \(c.judgeSmoothing ?? 0.3) and the judge as monitor_reward_model (a cmd: program). "
                           + "The monitor above spends its labels before PPO, on reference samples; these spend them on the policy's own samples as "
                           + "they are produced. A run's gold fell by half, partly (by at least the tolerance, \(c.monitorTolerance) of its rise, "
                           + "but less than half: warning of it is right, silence is not wrong) or by less than the tolerance (any alarm is false). "
                           + "Iterations ahead: the first checkpoint at which gold had fallen by half, minus the alarm's iteration.")
        }
        page.table(header: ["monitor", "labels", "half falls caught in time", "iterations ahead", "partial falls warned of", "false alarms"],
                   rows: tallies.map(\.cells))
        let traced = results.seeds.filter { !$0.alarmTrace.isEmpty }
        if !traced.isEmpty {
            page.paragraph("What the alarm saw, per seed and iteration (exponential moving averages with the alarm's weight 0.3 on the newest "
                           + "batch): the monitor's and the proxy's mean standardised score on the rollouts, and the gold reward of the same "
                           + "rollouts (training prompts; the alarm never reads it). The vertical line marks the alarm.")
            let spreads = traced.compactMap { seed -> (first: Double, last: Double)? in
                let values = seed.alarmTrace.compactMap(\.proxySpread)
                guard values.count == seed.alarmTrace.count, values.count >= 24 else { return nil }
                return (Statistics.mean(Array(values.prefix(8))), Statistics.mean(Array(values.suffix(16))))
            }
            if !spreads.isEmpty {
                page.paragraph("Beside gold, the right-hand charts show the proxies' disagreement on the same rollouts (the mean over rollouts of "
                               + "the standard deviation of the \(c.ensembleSize) proxies' standardised scores; Coste et al.'s uncertainty, which "
                               + "no alarm reads here). Mean over \(spreads.count) seeds: "
                               + String(format: "%.3f in the first 8 iterations, %.3f in the last 16", Statistics.mean(spreads.map(\.first)),
                                        Statistics.mean(spreads.map(\.last)))
                               + ". A disagreement alarm needs it to rise as gold falls.")
            }
            for seed in traced {
                let iterations = seed.alarmTrace.map { Double($0.iteration) }
                func smoothed(_ values: [Double]) -> [SVGChart.Point] {
                    var average: Double?
                    return zip(iterations, values).map { x, value in
                        average = average.map { $0 + 0.3 * (value - $0) } ?? value
                        return SVGChart.Point(x, average!)
                    }
                }
                func marker(_ values: [Double]) -> [SVGChart.Series] {
                    guard let alarm = seed.alarmIteration, let low = values.min(), let high = values.max() else { return [] }
                    return [SVGChart.Series("alarm", [SVGChart.Point(Double(alarm), low), SVGChart.Point(Double(alarm), high)])]
                }
                let monitor = smoothed(seed.alarmTrace.map(\.monitor)), proxy = smoothed(seed.alarmTrace.map(\.proxy))
                let gold = smoothed(seed.alarmTrace.map(\.gold))
                let spread = seed.alarmTrace.allSatisfy { $0.proxySpread != nil } ? smoothed(seed.alarmTrace.compactMap(\.proxySpread)) : []
                page.charts([
                    SVGChart.lines(title: "seed \(seed.seed): monitor and proxy", series: [SVGChart.Series("monitor", monitor), SVGChart.Series("proxy", proxy)]
                                   + marker((monitor + proxy).map(\.y)), xLabel: "PPO iteration", yLabel: "standardised score (smoothed)"),
                    SVGChart.lines(title: spread.isEmpty ? "seed \(seed.seed): gold on the same rollouts" : "seed \(seed.seed): gold, proxies' spread",
                                   series: [SVGChart.Series("gold", gold)] + (spread.isEmpty ? [] : [SVGChart.Series("proxies' spread", spread)])
                                       + marker((gold + spread).map(\.y)),
                                   xLabel: "PPO iteration", yLabel: spread.isEmpty ? "gold reward (smoothed)" : "gold reward, spread (smoothed)"),
                ], id: "alarm-seed-\(seed.seed)")
            }
        }
        page.definitions([
            (term: "gold", text: "mean ground-truth reward of the chosen (best-of-n) or sampled (PPO) continuations on held-out prompts, in [−1, 1]"),
            (term: "proxy", text: "the optimised reward: the run's aggregation of the standardised proxy scores (member 1 alone for single)"),
            (term: "KL", text: "best-of-n: log n − (n − 1)/n nats; PPO: the Monte-Carlo estimate of KL(π‖π_ref) per continuation on held-out prompts"),
            (term: "best-of-n estimate", text: "exact expectation over all n-subsets of each prompt's pool (Nakano et al. 2021's unbiased estimator), averaged over prompts"),
            (term: "95% t-interval", text: "mean ± t(0.975, seeds − 1) × standard error over seeds; a claim holds only when its interval lies above 0"),
        ])
        for method in ["best-of-n", "PPO"] {
            let curves = results.curves.filter { $0.method == method }
            guard !curves.isEmpty else { continue }
            page.heading(method == "PPO" ? "PPO" : "Best-of-n", level: 2)
            page.charts([
                SVGChart.lines(title: "\(method): gold reward", series: curves.map { curve in
                    SVGChart.Series(curve.aggregation, zip(curve.kl, curve.gold).map { SVGChart.Point(max($0, 0).squareRoot(), $1.mean) })
                }, xLabel: "√KL (nats^½)", yLabel: "gold reward"),
                SVGChart.lines(title: "\(method): proxy reward (optimised)", series: curves.map { curve in
                    SVGChart.Series(curve.aggregation, zip(curve.kl, curve.proxy).map { SVGChart.Point(max($0, 0).squareRoot(), $1.mean) })
                }, xLabel: "√KL (nats^½)", yLabel: "standardised proxy"),
            ])
            page.table(header: ["aggregation", method == "PPO" ? "iteration" : "n", "KL", "gold", "proxy"], rows: curves.flatMap { curve in
                curve.x.indices.map { index in
                    [curve.aggregation, "\(curve.x[index])", String(format: "%.2f", curve.kl[index]), interval(curve.gold[index]), interval(curve.proxy[index], digits: 2)]
                }
            })
        }
        page.heading("Seeds", level: 2)
        page.table(header: ["seed", "gold-labelled pairs", "monitor's spot-check pairs", "proxy agreement with gold", "seconds"], rows: results.seeds.map { seed in
            ["\(seed.seed)", "\(seed.pairs.labelled)", "\(seed.monitorPairs.labelled)", seed.proxyAccuracy.map { String(format: "%.1f%%", 100 * $0) }.joined(separator: ", "),
             String(format: "%.0f", seed.seconds.values.reduce(0, +))]
        })
        return page
    }
}
