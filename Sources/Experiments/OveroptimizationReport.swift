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
    /// The alarm fired, and no later than the first measured checkpoint at which gold had fallen by half (vacuously
    /// false when gold never fell by half: then there was nothing to warn about in time).
    public var timely: Bool {
        guard let alarmIteration, let goldHalfFallIteration else { return false }
        return alarmIteration <= goldHalfFallIteration
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
        alarms = seeds.map { OveroptimizationAlarm(seed: $0.seed, alarmIteration: $0.alarmIteration, goldHalfFallIteration: $0.goldHalfFallIteration) }
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
            + results.alarms.map { "alarm, seed \($0.seed): " + alarmText($0) }).joined(separator: "\n")
    }

    static func alarmText(_ alarm: OveroptimizationAlarm) -> String {
        let fired = alarm.alarmIteration.map { "fired at iteration \($0)" } ?? "did not fire"
        let fall = alarm.goldHalfFallIteration.map { "gold had fallen by half at iteration \($0)" } ?? "gold never fell by half at the measured checkpoints"
        return "\(fired); \(fall)" + (alarm.timely ? " — in time" : "")
    }

    static func page(_ results: OveroptimizationResults) -> HTMLPage {
        let c = results.configuration
        var page = HTMLPage(title: "Reward-model over-optimisation and ensembles")
        page.heading("Reward-model over-optimisation, with and without ensembles")
        page.paragraph("After Gao et al. 2023 (over-optimisation of a proxy reward model) and Coste et al. 2024 (ensembles mitigate it), on the "
                       + "review language of charter experiment frontier, whose programmatic reward r = (#positive − #negative)/#words is the gold "
                       + "reward. Per seed a reference model is trained from scratch; \(c.pairsPerPrompt) pairs per training prompt are sampled from it "
                       + "and labelled by the gold reward; \(c.ensembleSize) proxy reward models are trained on them with different seeds "
                       + "(\(c.rewardSteps) steps each) and standardised on their training responses. Best-of-n ranks \(c.samplesPerPrompt) reference "
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
        page.heading("Reward-hacking alarm (PPO against proxy 1 alone; monitor: reward models on independent pairs)", level: 2)
        page.paragraph("The monitor (\(c.monitorSize) reward models trained like the proxies on their own, fresh gold-labelled pairs, read by "
                       + "their mean) scores the same rollouts every iteration; the alarm fires when its smoothed score has fallen from its peak "
                       + "by \(c.monitorTolerance) × its rise (or its first batch's spread) while the smoothed proxy is above its value at the monitor's "
                       + "peak. It is in time when it fires no later than the first measured checkpoint at which gold has fallen by half of its rise "
                       + "from the start to its peak.")
        page.table(header: ["seed", "alarm", "gold fallen by half", "in time"], rows: results.alarms.map {
            ["\($0.seed)", $0.alarmIteration.map { "iteration \($0)" } ?? "did not fire", $0.goldHalfFallIteration.map { "iteration \($0)" } ?? "never (at the checkpoints)",
             $0.goldHalfFallIteration == nil ? "nothing to warn of" : $0.timely ? "yes" : "no (late or silent)"]
        })
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
        page.table(header: ["seed", "gold-labelled pairs", "proxy agreement with gold", "seconds"], rows: results.seeds.map { seed in
            ["\(seed.seed)", "\(seed.pairs.labelled)", seed.proxyAccuracy.map { String(format: "%.1f%%", 100 * $0) }.joined(separator: ", "),
             String(format: "%.0f", seed.seconds.values.reduce(0, +))]
        })
        return page
    }
}
