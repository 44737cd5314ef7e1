import Foundation
import Reports
import Runtime

/// Writes the frontier experiment's `results.json` and a self-contained `report.html` (inline SVG: the reward/KL
/// frontier and the training curves) through the report toolkit, and renders the terminal table.
public enum FrontierReport {
    public static func write(_ results: FrontierResults, to directory: URL) throws {
        try ResultsFile.write(results, to: directory)
        try page(results).write(to: directory)
    }

    /// The terminal summary: per run, mean ground-truth reward and KL from the reference on held-out prompts (± one
    /// standard error for one seed; the mean over seeds with min–max for several).
    public static func table(_ results: FrontierResults) -> String {
        let seeds = results.seeds.map { String($0.seed) }.joined(separator: ", ")
        var lines = ["Reward/KL frontier on held-out prompts (seed\(results.seeds.count > 1 ? "s" : "") \(seeds); "
                     + "\(results.configuration.evaluationSamples) samples per policy at temperature 1)", ""]
        let columns = [("run", 16), ("setting", 14), ("reward", 20), ("KL (nats)", 20), ("tokens", 8), ("ended", 8)]
        lines.append(columns.map { TableText.pad($0.0, $0.1) }.joined() + "train s")
        for name in results.runNames {
            let runs = results.runs(named: name)
            guard let first = runs.first else { continue }
            let measurements = runs.map(\.measurement)
            let training = runs.compactMap(\.trainingSeconds)
            let cells = [name, first.setting,
                         TableText.meanWithInterval(measurements.map(\.rewardMean), errors: measurements.map(\.rewardStandardError), digits: 3),
                         TableText.meanWithInterval(measurements.map(\.kl), errors: measurements.map(\.klStandardError), digits: 2),
                         String(format: "%.1f", Statistics.mean(measurements.map(\.meanLength))),
                         String(format: "%.0f%%", 100 * Statistics.mean(measurements.map(\.endedRate)))]
            lines.append(zip(cells, columns).map { TableText.pad($0.0, $0.1.1) }.joined()
                         + (training.isEmpty ? "–" : String(format: "%.0f", Statistics.mean(training))))
        }
        lines.append("")
        lines.append("ground truth: \(results.groundTruth)")
        lines.append("KL(π‖π_ref): \(results.klEstimator)")
        for seed in results.seeds {
            let p = seed.pairs
            lines.append("seed \(seed.seed): \(p.labelled) pairs labelled, \(p.ties) of \(p.sampled) ties skipped; "
                         + String(format: "mean reward chosen %.3f, rejected %.3f", p.meanChosenReward, p.meanRejectedReward)
                         + (seed.curves["reward"]?.last(where: { $0["accuracy"] != nil })?["accuracy"]
                            .map { String(format: "; reward model training accuracy %.2f", $0) } ?? ""))
        }
        lines.append(String(format: "total time %.0f s", results.totalSeconds))
        return lines.joined(separator: "\n")
    }

    public static func html(_ results: FrontierResults) -> String { page(results).html }

    /// The report page: what was run, the table, the frontier and every run's training curves.
    static func page(_ results: FrontierResults) -> HTMLPage {
        var page = HTMLPage(title: "Charter reward/KL frontier")
        page.heading("Charter reward/KL frontier: \(results.name)")
        page.paragraph("DPO and PPO on a generated review language whose reward is known (after Rafailov et al. 2023, §6.1). "
            + "The reference model is trained from scratch; preference pairs are its samples labelled by the ground truth; "
            + "DPO trains on them at each β, PPO optimises a reward model learned from them at each KL target. "
            + "Every point is a policy's mean ground-truth reward against its KL from the reference, on held-out prompts.")
        page.preformatted(table(results))
        page.heading("Frontier\(results.seeds.count > 1 ? " (mean over seeds)" : "")", level: 2)
        page.chart(frontier(results))
        for seed in results.seeds {
            page.heading("Training curves, seed \(seed.seed)", level: 2)
            page.chart(curves(seed, stages: ["sft"], metrics: ["loss"], title: "reference SFT"))
            page.chart(curves(seed, stages: ["reward"], metrics: ["loss", "accuracy"], title: "reward model"))
            let dpo = results.configuration.betas.map(FrontierRecipe.dpoStage(beta:))
            page.chart(curves(seed, stages: dpo, metrics: ["loss", "rewards/margins", "rewards/accuracies"], title: "DPO"))
            let ppo = results.configuration.klTargets.map(FrontierRecipe.ppoStage(klTarget:))
            page.chart(curves(seed, stages: ppo, metrics: ["objective/scores", "objective/kl", "objective/kl_coef"], title: "PPO"))
            page.paragraph("Seconds: " + seed.seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", $0.value))" }.joined(separator: ", "))
        }
        return page
    }

    /// The frontier, as Rafailov et al. plot it: x KL, y mean reward, a point per evaluated policy — every checkpoint
    /// of every run, one series per method, each run's final policy labelled with its β or target; the reference at
    /// KL 0. With several seeds, each point is the mean over seeds.
    static func frontier(_ results: FrontierResults) -> String {
        var series: [SVGChart.Series] = []
        for method in ["reference", "DPO", "PPO"] {
            var points: [SVGChart.Point] = [], names: [String] = []
            for name in results.runNames {
                let runs = results.runs(named: name)
                guard let first = runs.first, first.method == method else { continue }
                let trajectories = runs.map { $0.trajectory.isEmpty ? [FrontierCheckpoint(step: 0, measurement: $0.measurement)] : $0.trajectory }
                let length = trajectories.map(\.count).min() ?? 0
                for index in 0..<length {
                    let measurements = trajectories.map { $0[index].measurement }
                    points.append(SVGChart.Point(Statistics.mean(measurements.map(\.kl)), Statistics.mean(measurements.map(\.rewardMean))))
                    names.append(index == length - 1 ? (method == "reference" ? "π_ref" : first.setting) : "")
                }
            }
            guard !points.isEmpty else { continue }
            series.append(SVGChart.Series(method, points, labels: names))
        }
        return SVGChart.lines(title: "mean ground-truth reward vs KL(π‖π_ref), every checkpoint (final ones labelled)", series: series,
                              xLabel: "KL(π‖π_ref) (nats)", yLabel: "mean ground-truth reward", style: .points, width: 900, height: 420)
    }

    /// One chart per metric with a series per stage that logged it.
    static func curves(_ seed: FrontierSeedResult, stages: [String], metrics: [String], title: String) -> String {
        var text = ""
        for metric in metrics {
            let series: [SVGChart.Series] = stages.compactMap { stage in
                let values = (seed.curves[stage] ?? []).compactMap { row -> SVGChart.Point? in
                    guard let step = row["step"], let value = row[metric] else { return nil }
                    return SVGChart.Point(step, value)
                }
                return values.isEmpty ? nil : SVGChart.Series(stage, values)
            }
            if !series.isEmpty { text += SVGChart.lines(title: "\(title): \(metric)", series: series, xLabel: "step", yLabel: metric) }
        }
        return text
    }
}
