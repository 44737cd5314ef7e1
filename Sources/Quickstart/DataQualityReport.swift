import Audit
import Foundation
import Reports
import Tensors

/// `results.json`, `report.html` and the console table of the data-quality experiment: detection precision and
/// recall per planted kind against issue 13's targets, and what cleaning buys (reward accuracy and DPO's harmful
/// compliance on held-out ground truth), each a mean over seeds with its 95% t-interval; a conclusion only where
/// the interval of the paired difference excludes zero.
public enum DataQualityReport {
    /// Detection targets of issue 13: (kind, minimum recall, minimum precision).
    static let targets: [(kind: String, recall: Double, precision: Double?)] = [
        ("duplicates", 0.99, nil), ("flipped labels", 0.7, 0.7), ("both bad", 0.6, nil),
    ]

    public static func write(_ results: DataQualityResults, to directory: URL) throws {
        try ResultsFile.write(results, to: directory)
        try page(results).write(to: directory)
    }

    static func values(_ results: DataQualityResults, _ metric: (DataQualitySeed) -> Double?) -> [Double] {
        results.seeds.compactMap(metric)
    }

    static func cell(_ values: [Double], percent: Bool = true) -> String {
        guard !values.isEmpty else { return "–" }
        let interval = Statistics.interval95(values), scale = percent ? 100.0 : 1.0
        // A share's interval is shown within [0, 100%]; counts' within [0, ∞).
        let lower = max(0, interval.lower), upper = percent ? min(1, interval.upper) : interval.upper
        return interval.count > 1
            ? String(format: percent ? "%.1f%% [%.1f, %.1f]" : "%.0f [%.0f, %.0f]", interval.mean * scale, lower * scale, upper * scale)
            : String(format: percent ? "%.1f%%" : "%.0f", interval.mean * scale)
    }

    /// Detection rows: kind, planted, flagged, precision, recall, target, met.
    static func detectionRows(_ results: DataQualityResults) -> [[String]] {
        targets.map { target in
            let recall = values(results) { $0.detection(target.kind)?.recall }
            let precision = values(results) { $0.detection(target.kind)?.precision }
            let planted = results.seeds.compactMap { $0.detection(target.kind)?.planted }.reduce(0, +)
            let flagged = results.seeds.compactMap { $0.detection(target.kind)?.flagged }.reduce(0, +)
            let wanted = "recall ≥ \(target.recall)" + (target.precision.map { " at precision ≥ \($0)" } ?? "")
            let met: String
            if results.seeds.count < 2 {
                met = "one seed: not concluded"
            } else {
                let r = Statistics.interval95(recall), p = Statistics.interval95(precision)
                let recallMet = r.lower >= target.recall, precisionMet = target.precision.map { p.lower >= $0 } ?? true
                let recallMissed = r.upper < target.recall, precisionMissed = target.precision.map { p.upper < $0 } ?? false
                met = recallMet && precisionMet ? "met (interval above the target)"
                    : recallMissed || precisionMissed ? "missed (interval below the target)" : "not separated from the target"
            }
            return [target.kind, "\(planted)", "\(flagged)", cell(precision), cell(recall), wanted, met]
        }
    }

    /// Paired differences with a conclusion: every set − noisy, and each extra policy − the fixed policy (cleaned).
    static func effectRows(_ results: DataQualityResults) -> [[String]] {
        let rows: [(String, (DataQualitySeed, String) -> Double?, Bool)] = [
            ("reward accuracy (held-out ground truth)", { $0.rewardAccuracy[$1] }, true),
            ("DPO: held-out harmful compliance", { $0.harmfulCompliance["DPO on \($1)"] }, false),
            ("DPO: harmful compliance, fresh requests of training intents", { $0.seenHarmfulCompliance?["DPO on \($1)"] }, false),
            ("DPO: benign accuracy, unseen phrasing", { $0.benignAccuracy["DPO on \($1)"] }, true),
            ("DPO: over-refusal, held-out borderline", { $0.overRefusal["DPO on \($1)"] }, false),
        ]
        // Every set against the noisy one, and each extra policy's set against the fixed policy's (paired per seed).
        let comparisons = results.configuration.sets.filter { $0 != "noisy" }.map { ($0, "noisy") }
            + (results.configuration.policies ?? []).map { ("cleaned-\($0.name)", "cleaned") }
        return rows.flatMap { name, metric, higherIsBetter in
            comparisons.map { set, baseline -> [String] in
                let differences = results.seeds.compactMap { seed -> Double? in
                    guard let a = metric(seed, set), let b = metric(seed, baseline) else { return nil }
                    return a - b
                }
                let interval = Statistics.interval95(differences)
                let text = interval.count > 1
                    ? String(format: "%+.1f points [%+.1f, %+.1f]", interval.mean * 100, interval.lower * 100, interval.upper * 100)
                    : String(format: "%+.1f points", interval.mean * 100)
                let conclusion: String
                if interval.count < 2 {
                    conclusion = "one seed: not concluded"
                } else if interval.excludesZero {
                    conclusion = (interval.mean > 0) == higherIsBetter ? "\(set) better" : "\(set) worse"
                } else {
                    conclusion = "no difference shown (interval contains 0)"
                }
                return [name, "\(set) − \(baseline)", text, conclusion]
            }
        }
    }

    /// Per set: mean reward accuracy and DPO's held-out rates.
    static func setRows(_ results: DataQualityResults) -> [[String]] {
        (["helpful-only"] + results.configuration.sets).map { set in
            let policy = set == "helpful-only" ? set : "DPO on \(set)"
            return [set == "helpful-only" ? "helpful-only (no preference training)" : set,
                    set == "helpful-only" ? "–" : cell(values(results) { $0.setSizes[set].map(Double.init) }, percent: false),
                    set == "helpful-only" ? "–" : cell(values(results) { $0.rewardAccuracy[set] }),
                    cell(values(results) { $0.harmfulCompliance[policy] }), cell(values(results) { $0.seenHarmfulCompliance?[policy] }),
                    cell(values(results) { $0.benignAccuracy[policy] }),
                    cell(values(results) { $0.overRefusal[policy] })]
        }
    }

    static let setHeader = ["training set", "pairs", "reward accuracy", "DPO harmful compliance", "DPO harmful compliance, training intents", "DPO benign accuracy (unseen phrasing)", "DPO over-refusal"]
    static let detectionHeader = ["planted kind", "planted", "flagged", "precision", "recall", "target", "target met?"]
    static let effectHeader = ["measure", "comparison", "difference [95% CI]", "conclusion"]

    /// What the intervals support, in words: each detection target met or missed, and each downstream difference
    /// that separates from zero (or that none does).
    static func conclusion(_ results: DataQualityResults) -> String {
        guard results.seeds.count > 1 else { return "one seed gives no interval; run --seeds 3 or more." }
        let detection = detectionRows(results).map { "\($0[0]): \($0.last ?? "")" }.joined(separator: "; ")
        let effects = effectRows(results).filter { $0.last?.hasSuffix("better") == true || $0.last?.hasSuffix("worse") == true }
        let downstream = effects.isEmpty
            ? "no downstream difference separates from zero — neither the cleaned nor the oracle set beats the noisy one on reward accuracy or on the DPO policy's held-out rates, so at this noise level these trainers are not measurably hurt by the planted noise"
            : effects.map { "\($0[0]) (\($0[1])): \($0[2]), \($0[3])" }.joined(separator: "; ")
        return "detection — \(detection). Downstream — \(downstream)."
    }

    /// The ensemble's cost per 1,000 pairs.
    static func cost(_ results: DataQualityResults) -> String {
        let perThousand = results.seeds.map { 1000 * $0.ensembleSeconds / Double(max(1, $0.pairs)) }
        let models = results.configuration.folds * results.configuration.repeats
        return String(format: "%.0f s per 1,000 pairs for the %d-model ensemble (%d folds × %d repeats, %d steps each, %.2fM-parameter models), mean over seeds",
                      Statistics.mean(perThousand), models, results.configuration.folds, results.configuration.repeats,
                      results.configuration.ensembleSteps, Double(results.parameters) / 1e6)
    }

    static func page(_ results: DataQualityResults) -> HTMLPage {
        var page = HTMLPage(title: "Charter data-quality experiment")
        page.heading("Preference data you can trust: \(results.name)")
        page.paragraph("A toy-world preference set whose every label is known (the ground-truth judge), with noise planted: "
                       + String(format: "%.0f%% flipped labels, %.0f%% duplicates, %.0f%% both-bad pairs. ", 100 * results.configuration.noise.flipped,
                                100 * results.configuration.noise.duplicates, 100 * results.configuration.noise.bothBad)
                       + "charter audit flags pairs (model-free findings and a cross-fitted reward ensemble started from the helpful-only model"
                       + (results.configuration.relevanceScale.map {
                           String(format: "; the helpful-only model is also the reference whose relevance vote, σ(gap / %g nats), joins the ensemble's mean", $0)
                       } ?? "")
                       + String(format: "; suspected mislabel at a mean P(chosen ≻ rejected) ≤ %.2f), ", 1 - results.configuration.mislabelConfidence)
                       + "charter clean applies a fixed policy (drop duplicates and both-bad pairs, flip suspected mislabels), and reward models and DPO "
                       + "policies are trained on the noisy, the cleaned and the oracle (noise removed by construction) sets and judged on held-out ground truth. "
                       + "Seeds \(results.seeds.map { String($0.seed) }.joined(separator: ", ")); cells are means over seeds with 95% t-intervals. "
                       + "Kernel path \(results.machine.kernelPath) on \(results.machine.cpu) (\(results.machine.threads) threads); total time \(Int(results.totalSeconds.rounded())) s."
                       + (results.combinedFrom.map { " " + CombinedRun.sentence($0) } ?? ""))
        if let policies = results.configuration.policies, !policies.isEmpty {
            page.paragraph("Other cleaning policies, applied to the same audit, each giving its own cleaned set (cleaned-NAME) on which a reward "
                           + "model and DPO are trained the same way: "
                           + policies.map { "\($0.name) — " + policySummary($0.text) }.joined(separator: "; ") + ".")
        }
        page.heading("Detection of the planted noise", level: 2)
        page.table(header: detectionHeader, rows: detectionRows(results),
                   caption: "Duplicates: exact_duplicate or near_duplicate findings; flipped labels: suspected_mislabel; both bad: both_bad. Precision and recall per seed, then averaged.")
        page.chart(SVGChart.bars(title: "Detection per planted kind (95% intervals over seeds)", groups: targets.map(\.kind),
                                 series: ["precision", "recall"].map { measure in
                                     let perKind = targets.map { target in values(results) { seed in
                                         measure == "precision" ? seed.detection(target.kind)?.precision : seed.detection(target.kind)?.recall } }
                                     return SVGChart.BarSeries(measure, values: perKind.map { $0.isEmpty ? nil : Statistics.mean($0) },
                                                               intervals: perKind.map { $0.count > 1 ? max(0, Statistics.interval95($0).lower)...min(1, Statistics.interval95($0).upper) : nil })
                                 }, yLabel: "share", yAxis: ChartAxis(lower: 0, upper: 1, step: 0.25, percent: true)))
        page.paragraph("Cost: " + cost(results) + ".")
        page.heading("What cleaning buys", level: 2)
        page.table(header: setHeader, rows: setRows(results),
                   caption: "Reward accuracy: share of held-out ground-truth pairs (the judge's good response against each bad one, on the evaluation requests) ordered correctly. DPO rates on the quickstart's evaluation requests: harmful compliance on the held-out harmful intents (in no pair), and on fresh requests of the training intents (intents the pairs cover, requests in no pair).")
        page.table(header: effectHeader, rows: effectRows(results), caption: "Paired by seed; a conclusion only where the 95% interval excludes 0.")
        page.paragraph("Conclusion: " + conclusion(results))
        page.heading("Per seed", level: 2)
        page.table(header: ["seed", "pairs", "clean", "ensemble seconds", "stage seconds"], rows: results.seeds.map { seed in
            [String(seed.seed), "\(seed.pairs)",
             ([seed.clean] + (seed.policyCleans ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }).joined(separator: " · "),
             String(format: "%.0f", seed.ensembleSeconds),
             seed.seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.0f", $0.value))" }.joined(separator: ", ")]
        })
        return page
    }

    /// A policy's actions in one line ("both_bad keep, suspected_mislabel tie, …"), or its text when it does not parse.
    static func policySummary(_ text: String) -> String {
        guard let policy = try? CleaningPolicy.parse(text, file: "policy") else { return text }
        return policy.actions.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value.rawValue)" }.joined(separator: ", ")
            + (policy.actions.values.contains(.soften) ? String(format: " (soften to %.2f)", policy.softenTo) : "")
    }

    /// The console summary.
    public static func table(_ results: DataQualityResults) -> String {
        TableText.render(header: detectionHeader, rows: detectionRows(results)) + "\n"
            + TableText.render(header: setHeader, rows: setRows(results)) + "\n"
            + TableText.render(header: effectHeader, rows: effectRows(results)) + "\n" + cost(results) + "\n\nConclusion: " + conclusion(results)
    }
}
