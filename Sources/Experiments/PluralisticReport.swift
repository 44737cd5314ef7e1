import Foundation
import Reports
import Tensors

/// A selection rule summarised over seeds (95% t-intervals).
public struct PluralisticSummary: Codable, Equatable, Sendable {
    public var label: String
    public var policy: String
    /// PPO: the mean KL from the reference.
    public var kl: Double?
    public var factualWeight: Double?
    public var enthusiast: Interval
    public var factual: Interval
    public var enthusiastStandardised: Interval
    public var factualStandardised: Interval
    public var worstGroup: Interval
}

/// A paired (per-seed) comparison, and whether its interval lies above 0.
public struct PluralisticClaim: Codable, Equatable, Sendable {
    public var statement: String
    public var difference: Interval
    public var holds: Bool
}

/// results.json of `charter experiment pluralistic`.
public struct PluralisticResults: Codable, Equatable, Sendable {
    public var experiment = "pluralistic"
    public var configuration: PluralisticConfiguration
    public var seeds: [PluralisticSeed]
    public var selections: [PluralisticSummary]
    public var accuracy: [String: Interval]
    public var claims: [PluralisticClaim]
    /// Seeds in which best-of-n's factual gain rises (and the enthusiast gain does not rise) at every step of the weight sweep.
    public var monotoneSeeds: Int
    /// The same for the in-context policy's sweep (nil: no in-context policy).
    public var inContextMonotoneSeeds: Int?
    public var machine: MachineDescription

    public init(configuration: PluralisticConfiguration, seeds: [PluralisticSeed]) {
        self.configuration = configuration
        self.seeds = seeds
        machine = .current
        let labels = seeds.first?.selections.map(\.label) ?? []
        func perSeed(_ label: String) -> [PluralisticSelection] { seeds.compactMap { $0.selections.first { $0.label == label } } }
        selections = labels.map { label in
            let runs = perSeed(label)
            return PluralisticSummary(label: label, policy: runs.first?.policy ?? "best-of-n",
                                      kl: runs.first?.kl == nil ? nil : Statistics.mean(runs.compactMap(\.kl)), factualWeight: runs.first?.factualWeight,
                                      enthusiast: Statistics.interval95(runs.map(\.enthusiast)), factual: Statistics.interval95(runs.map(\.factual)),
                                      enthusiastStandardised: Statistics.interval95(runs.map(\.enthusiastStandardised)),
                                      factualStandardised: Statistics.interval95(runs.map(\.factualStandardised)),
                                      worstGroup: Statistics.interval95(runs.map(\.worstGroup)))
        }
        accuracy = Dictionary(uniqueKeysWithValues: Set(seeds.flatMap(\.accuracy.keys)).map { key in
            (key, Statistics.interval95(seeds.compactMap { $0.accuracy[key] }))
        })
        func claim(_ statement: String, _ values: [Double]) -> PluralisticClaim {
            let interval = Statistics.interval95(values)
            return PluralisticClaim(statement: statement, difference: interval, holds: interval.count > 1 && interval.lower > 0)
        }
        var claims: [PluralisticClaim] = []
        func prefix(_ policy: String) -> String { policy == "best-of-n" ? "best-of-\(configuration.selectionN)" : policy }
        for policy in ["best-of-n", "PPO", "in-context"] {
            let sweep = seeds.map { $0.selections.filter { $0.policy == policy && $0.method == "weighted" } }
            let prefix = prefix(policy)
            if let first = sweep.first?.first, let last = sweep.first?.last, first.label != last.label {
                let pairs = sweep.compactMap { runs in runs.first.flatMap { low in runs.last.map { (low, $0) } } }
                claims.append(claim(String(format: "%@: factual readers gain as their weight goes %.2f → %.2f (factual z, high − low weight)", prefix,
                                           first.factualWeight ?? 0, last.factualWeight ?? 0),
                                    pairs.map { $0.1.factualStandardised - $0.0.factualStandardised }))
                claims.append(claim(String(format: "%@: enthusiasts lose as the factual weight goes %.2f → %.2f (enthusiast z, low − high weight)", prefix,
                                           first.factualWeight ?? 0, last.factualWeight ?? 0),
                                    pairs.map { $0.0.enthusiastStandardised - $0.1.enthusiastStandardised }))
            }
            let maxMin = seeds.compactMap { $0.selections.first { $0.policy == policy && $0.method == "maxmin" } }
            let pooled = seeds.compactMap { $0.selections.first { $0.policy == policy && $0.method == "pooled" } }
            if maxMin.count == pooled.count, !maxMin.isEmpty {
                claims.append(claim("\(prefix): the pooled reward model favours its majority (pooled: enthusiast z − factual z)",
                                    pooled.map { $0.enthusiastStandardised - $0.factualStandardised }))
                claims.append(claim("\(prefix): MaxMin serves the worse-off group better than the pooled model (min-group z, MaxMin − pooled)",
                                    zip(maxMin, pooled).map { $0.worstGroup - $1.worstGroup }))
                claims.append(claim("\(prefix): MaxMin serves the minority (factual readers) better than the pooled model (factual z, MaxMin − pooled)",
                                    zip(maxMin, pooled).map { $0.factualStandardised - $1.factualStandardised }))
            }
        }
        // Where the in-context policy lands against the reward-model methods at the ends of its sweep: the group the
        // weight serves, paired per seed (above 0: the method gives that group more than the prompted policy does).
        for policy in ["best-of-n", "PPO"] {
            for (weight, group) in [(0.0, ReviewGroups.enthusiast), (1.0, ReviewGroups.factual)] {
                let pairs = seeds.compactMap { seed -> (PluralisticSelection, PluralisticSelection)? in
                    func at(_ policy: String) -> PluralisticSelection? { seed.selections.first { $0.policy == policy && $0.method == "weighted" && $0.factualWeight == weight } }
                    return at(policy).flatMap { method in at("in-context").map { (method, $0) } }
                }
                guard pairs.count == seeds.count, !pairs.isEmpty else { continue }
                claims.append(claim(String(format: "%@ gives %@ more than the in-context policy at factual weight %.2f (%@ z, %@ − in-context)",
                                           prefix(policy), group == ReviewGroups.factual ? "factual readers" : "enthusiasts", weight, group, prefix(policy)),
                                    pairs.map { group == ReviewGroups.factual ? $0.factualStandardised - $1.factualStandardised
                                                                              : $0.enthusiastStandardised - $1.enthusiastStandardised }))
            }
        }
        self.claims = claims
        func monotone(_ policy: String) -> Int {
            seeds.map { $0.selections.filter { $0.policy == policy && $0.method == "weighted" } }.filter { runs in
                zip(runs, runs.dropFirst()).allSatisfy { $1.factualStandardised >= $0.factualStandardised && $1.enthusiastStandardised <= $0.enthusiastStandardised }
            }.count
        }
        monotoneSeeds = monotone("best-of-n")
        inContextMonotoneSeeds = seeds.contains { $0.selections.contains { $0.policy == "in-context" } } ? monotone("in-context") : nil
    }
}

/// results.json and report.html.
public enum PluralisticReport {
    public static func write(_ results: PluralisticResults, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = try ResultsFile.write(results, to: directory)
        _ = try page(results).write(to: directory)
    }

    static func interval(_ interval: Interval, digits: Int = 2) -> String {
        interval.text { String(format: "%+.\(digits)f", $0) }
    }

    /// The claims as plain lines (the command prints them).
    public static func summary(_ results: PluralisticResults) -> String {
        (results.claims.map { "\($0.statement): \(interval($0.difference)) — \($0.holds ? "holds" : "not shown")" }
            + ["weight sweep monotone for both groups in \(results.monotoneSeeds) of \(results.seeds.count) seeds"]
            + (results.inContextMonotoneSeeds.map { ["in-context weight sweep monotone for both groups in \($0) of \(results.seeds.count) seeds"] } ?? []))
            .joined(separator: "\n")
    }

    static func page(_ results: PluralisticResults) -> HTMLPage {
        let c = results.configuration
        var page = HTMLPage(title: "Pluralistic rewards: heads per group, weights and MaxMin")
        page.heading("Pluralistic rewards: one head per group, combined by weights or MaxMin")
        page.paragraph("Two groups judge the same reviews of the frontier experiment's review language. Enthusiasts want glowing reviews: "
                       + "r_e = (#positive − #negative)/#words. Factual readers want reviews without hype, praise or complaint: "
                       + "r_f = (#neutral − #positive − #negative)/#words. Per seed a reference model is trained from scratch; "
                       + "\(c.pairsPerPrompt) pairs per training prompt are sampled from it and labelled once by each group (ties skipped per group). "
                       + "A reward head per group is trained on its own labels (\(c.rewardSteps) steps; charter reward --head), and a pooled reward "
                       + "model on one label per pair from a crowd that is \(Int((100 * c.majorityShare).rounded()))% enthusiasts (the single reward "
                       + "model of standard RLHF). Best-of-\(c.selectionN) out of \(c.samplesPerPrompt) reference samples per held-out prompt then "
                       + "selects by the weighted heads (reward_aggregation: weighted), by MaxMin over the heads (reward_aggregation: maxmin; "
                       + "Chakraborty et al. 2024), or by the pooled model. PPO (β = \(c.ppoKLCoefficient) fixed, \(c.ppoEpisodes) episodes) optimises "
                       + "the same rewards: the weighted heads at factual weight \(c.ppoFactualWeights.map { String(format: "%.2f", $0) }.joined(separator: ", ")), "
                       + "MaxMin, and the pooled model; each final policy is sampled \(c.evaluationSamples) times on held-out prompts.")
        let inContext = results.selections.filter { $0.policy == "in-context" }
        if !inContext.isEmpty {
            let examples = results.seeds.compactMap(\.inContextExamples)
            let line: String = PluralisticInContext.prefix(c.inContextDesign, factualWeight: 0.25).trimmingCharacters(in: .newlines)
            let range: String = examples.min().map { "\($0)–\(examples.max() ?? $0)" } ?? "—"
            let how: String = "The in-context alternative changes no weights per user: one policy reads the weights from a line before the prompt "
                + "(\"\(line)\" for factual weight 0.25\(c.inContextDesign == .heads ? ": a crowd of \(PluralisticInContext.crowdSize) readers, E an enthusiast, F a factual reader" : "")) "
                + "and is sampled at temperature 1, with no reward model and no selection. "
            let teach: String = "The review world's models have never seen an instruction, so the reference is taught once to read that line: "
                + "reward-conditioned SFT (Korbak et al. 2023, conditional training) for \(c.inContextSteps) steps of 32"
            let training: String
            switch c.inContextDesign {
            case .heads:
                training = teach + ", with the targets Rewards-in-Context (Yang et al. 2024) would give it: the reference is sampled "
                    + "\(c.inContextSamplesPerPrompt) times per training prompt, and for each weight w of the sweep the \(c.inContextKeptPerPrompt) samples "
                    + "per prompt that the heads weighted by w rank highest (the objective best-of-n selects by) follow the line for w "
                    + "(\(range) examples per seed). It uses the heads, so the labelled pairs and nothing more, and no ground truth. "
            case .labels:
                training = teach + " on the same labelled pairs the heads train on — for each weight w of the sweep and each pair, the completion "
                    + "chosen by a decider who is a factual reader with probability w (an enthusiast otherwise), after the line for w; pairs whose "
                    + "decider's group tied are left out (\(range) examples per seed). "
            }
            let use: String = "That one training changes weights once; a new weighting is a new prompt. Each weight's policy is sampled "
                + "\(c.evaluationSamples) times on held-out prompts; its KL is log π(y | line, x) − log π_ref(y | x)."
            page.paragraph(how + training + use)
        }
        page.paragraph("Each selection is scored by both groups' ground truth. z is the group's mean reward of the selected reviews minus its mean "
                       + "over all reference samples, in units of its standard deviation there, so the two groups' gains share a scale; "
                       + "best-of-n is the exact expectation over all n-subsets of each prompt's pool.")
        page.paragraph("Kernel path \(results.machine.kernelPath) on \(results.machine.cpu) (\(results.machine.threads) threads); "
                       + "\(Int(results.seeds.flatMap(\.seconds.values).reduce(0, +).rounded())) s in all.")
        page.heading("Claims (\(results.seeds.count) seed\(results.seeds.count == 1 ? "" : "s"); paired per seed, mean [95% t-interval])", level: 2)
        page.table(header: ["comparison", "difference", "verdict"], rows: results.claims.map {
            [$0.statement, interval($0.difference), $0.holds ? "holds (interval above 0)" : "not shown"]
        })
        let inContextMonotone: String = results.inContextMonotoneSeeds.map { ", and in \($0) of \(results.seeds.count) seeds in context" } ?? ""
        page.paragraph("The weight sweep moves both groups monotonically (factual gain never falls, enthusiast gain never rises, as the factual "
                       + "weight grows) in \(results.monotoneSeeds) of \(results.seeds.count) seeds under best-of-n\(inContextMonotone).")
        let inContextSeries = inContext.isEmpty ? [] : [SVGChart.Series("in-context (weights in the prompt)",
                                                                         inContext.map { SVGChart.Point($0.enthusiastStandardised.mean, $0.factualStandardised.mean) },
                                                                         labels: inContext.map { String(format: "prompt w_f %.2f", $0.factualWeight ?? 0) })]
        for policy in ["best-of-n", "PPO", "in-context"] {
            let rows = results.selections.filter { $0.policy == policy }
            guard !rows.isEmpty else { continue }
            let weighted = rows.filter { $0.factualWeight != nil }, others = rows.filter { $0.factualWeight == nil }
            if policy == "in-context" {
                // Its points are on the two charts above; here the numbers and the KL.
                page.heading("The trade-off in context (weights in the prompt, one conditioned policy, no reward model)", level: 2)
                page.table(header: ["prompted weights", "enthusiast r_e", "factual r_f", "enthusiast z", "factual z", "worse-off group z", "KL"], rows: rows.map {
                    [$0.label, interval($0.enthusiast, digits: 3), interval($0.factual, digits: 3), interval($0.enthusiastStandardised),
                     interval($0.factualStandardised), interval($0.worstGroup), String(format: "%.2f", $0.kl ?? 0)]
                })
                continue
            }
            page.heading(policy == "PPO" ? "The trade-off under PPO (\(c.ppoEpisodes) episodes, β = \(c.ppoKLCoefficient))" : "The trade-off under best-of-\(c.selectionN)", level: 2)
            page.charts([
                SVGChart.lines(title: "\(policy): each group's gain (z)",
                               series: [SVGChart.Series("weighted heads", weighted.map { SVGChart.Point($0.enthusiastStandardised.mean, $0.factualStandardised.mean) },
                                                        labels: weighted.map { String(format: "w_f %.2f", $0.factualWeight!) })]
                                   + others.map { SVGChart.Series($0.label, [SVGChart.Point($0.enthusiastStandardised.mean, $0.factualStandardised.mean)], labels: [$0.label]) }
                                   + inContextSeries,
                               xLabel: "enthusiasts' gain (z)", yLabel: "factual readers' gain (z)", style: .points),
                SVGChart.bars(title: "\(policy): the worse-off group's gain (z), mean and 95% interval",
                              groups: rows.map { row in row.factualWeight.map { String(format: "w_f %.2f", $0) } ?? String(row.label.split(separator: " ").last ?? "") },
                              series: [SVGChart.BarSeries("min-group z", values: rows.map { $0.worstGroup.mean },
                                                          intervals: rows.map { $0.worstGroup.lower...$0.worstGroup.upper })],
                              yLabel: "z"),
            ])
            page.table(header: ["selection", "enthusiast r_e", "factual r_f", "enthusiast z", "factual z", "worse-off group z"] + (policy == "PPO" ? ["KL"] : []),
                       rows: rows.map {
                [$0.label, interval($0.enthusiast, digits: 3), interval($0.factual, digits: 3), interval($0.enthusiastStandardised),
                 interval($0.factualStandardised), interval($0.worstGroup)] + (policy == "PPO" ? [String(format: "%.2f", $0.kl ?? 0)] : [])
            })
        }
        page.heading("Reward models against each group's ground truth", level: 2)
        page.paragraph("Agreement with the group's ground-truth order on fresh pairs of reference samples (held-out prompts, ties skipped).")
        page.table(header: ["reward model", "agrees with enthusiasts", "agrees with factual readers"], rows: ["enthusiast head", "factual head", "pooled"].map { scorer in
            [scorer] + [ReviewGroups.enthusiast, ReviewGroups.factual].map { group in
                results.accuracy["\(scorer)/\(group)"].map { $0.text { String(format: "%.1f%%", 100 * $0) } } ?? "—"
            }
        })
        page.definitions([
            (term: "weighted (factual w)", text: "best-of-n by (1 − w)·z_enthusiast-head + w·z_factual-head, heads standardised on their training responses"),
            (term: "maxmin", text: "best-of-n by min(z_enthusiast-head, z_factual-head): the worse-off group's predicted reward (MaxMin-RLHF's objective)"),
            (term: "pooled", text: "best-of-n by one reward model trained on the crowd's labels"),
            (term: "in-context (factual w)", text: "plain samples of the conditioned policy prompted with the weight line for w; no reward model at use time"),
            (term: "95% t-interval", text: "mean ± t(0.975, seeds − 1) × standard error over seeds; a claim holds only when its interval lies above 0"),
        ] + (results.selections.contains { $0.policy == "in-context" } && c.inContextDesign == .heads
             ? [(term: "crowd line", text: "\"crowd: \" and \(PluralisticInContext.crowdSize) letters, one per reader: E an enthusiast, F a factual reader; "
                 + "F's share is the factual weight")] : []))
        page.heading("Seeds", level: 2)
        page.table(header: ["seed", "pairs (enthusiast / factual / pooled)", "in-context conditioning examples", "in-context training s", "seconds"],
                   rows: results.seeds.map { seed in
            ["\(seed.seed)", "\(seed.pairs[ReviewGroups.enthusiast] ?? 0) / \(seed.pairs[ReviewGroups.factual] ?? 0) / \(seed.pairs["pooled"] ?? 0)",
             seed.inContextExamples.map(String.init) ?? "—", seed.seconds["in-context training"].map { String(format: "%.0f", $0) } ?? "—",
             String(format: "%.0f", seed.seconds.values.reduce(0, +))]
        })
        return page
    }
}
