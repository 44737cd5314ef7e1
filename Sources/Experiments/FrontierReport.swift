import Foundation
import Reports
import Runtime

/// Writes the frontier experiment's `results.json` and a self-contained `report.html` through the report toolkit
/// (the training checks, what each stage does, the runs' table with an explanation of each column, the reward/KL
/// frontier, example continuations and the training curves), and renders the terminal table.
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
        for row in rows(results) {
            lines.append(zip(row, columns).map { TableText.pad($0.0, $0.1.1) }.joined() + row[row.count - 1])
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
        for check in checks(results) where check.failed { lines.append("WARNING: \(check.warning)") }
        lines.append(String(format: "total time %.0f s", results.totalSeconds))
        return lines.joined(separator: "\n")
    }

    public static func html(_ results: FrontierResults) -> String { page(results).html }

    /// The report page: what was run and how, the training checks, the table, the frontier, example continuations
    /// and every run's training curves.
    static func page(_ results: FrontierResults) -> HTMLPage {
        var page = HTMLPage(title: "Charter reward/KL frontier")
        page.heading("Charter reward/KL frontier: \(results.name)")
        page.paragraph("DPO and PPO on a generated review language whose reward is known (after Rafailov et al. 2023, §6.1). "
            + "Every point is a policy's mean ground-truth reward against its KL from the reference, on held-out prompts.")
        page.heading("Training checks", level: 2)
        page.trainingChecks(checks(results))
        page.heading("How the runs were made", level: 2)
        page.definitions(stages(results.configuration))
        page.heading("Runs", level: 2)
        page.table(header: ["run", "setting", "reward", "KL (nats)", "tokens", "ended", "train s"], rows: rows(results),
                   caption: "Held-out prompts, \(results.configuration.evaluationSamples) samples per policy at temperature 1: "
                       + (results.seeds.count > 1 ? "the mean over seeds (min–max)." : "the mean ± its standard error."))
        page.definitions(columns(results))
        page.heading("Frontier\(results.seeds.count > 1 ? " (mean over seeds)" : "")", level: 2)
        page.chart(frontier(results))
        if let seed = results.seeds.first(where: { !($0.examples ?? []).isEmpty }), let examples = seed.examples {
            page.heading("Example continuations, seed \(seed.seed)", level: 2)
            page.paragraph("The first continuation each run's final policy sampled for the first held-out prompts (the same sampler seed for every policy), with its ground-truth reward.")
            page.examples(examples, id: "examples")
        }
        page.heading("Training curves", level: 2)
        page.definitions(metrics)
        for seed in results.seeds {
            page.heading("Seed \(seed.seed)", level: 3)
            let dpo = results.configuration.betas.map(FrontierRecipe.dpoStage(beta:))
            let ppo = results.configuration.klTargets.map(FrontierRecipe.ppoStage(klTarget:))
            page.charts(curves(seed, stages: ["sft"], metrics: ["loss"], title: "reference SFT")
                        + curves(seed, stages: ["reward"], metrics: ["loss", "accuracy"], title: "reward model")
                        + curves(seed, stages: dpo, metrics: ["loss", "rewards/margins", "rewards/accuracies"], title: "DPO")
                        + curves(seed, stages: ppo, metrics: ["objective/scores", "objective/kl", "objective/kl_coef", "response_length"], title: "PPO"))
            page.paragraph("Seconds: " + seed.seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", $0.value))" }.joined(separator: ", "))
        }
        return page
    }

    /// Every seed's training checks: the reward model above chance, each PPO run's KL bounded.
    static func checks(_ results: FrontierResults) -> [TrainingChecks.Outcome] {
        results.seeds.flatMap { seed in
            [TrainingChecks.rewardModel(seed.curves["reward"] ?? [], stage: "seed \(seed.seed) reward model")]
                + results.configuration.klTargets.map(FrontierRecipe.ppoStage(klTarget:)).map { stage in
                    TrainingChecks.ppoKL(seed.curves[stage] ?? [], stage: "seed \(seed.seed) \(stage)")
                }
        }.compactMap { $0 }
    }

    /// The table's rows: per run, its setting, reward and KL with their intervals, tokens, share ended, training seconds.
    static func rows(_ results: FrontierResults) -> [[String]] {
        results.runNames.compactMap { name -> [String]? in
            let runs = results.runs(named: name)
            guard let first = runs.first else { return nil }
            let measurements = runs.map(\.measurement)
            let training = runs.compactMap(\.trainingSeconds)
            return [name, first.setting,
                    TableText.meanWithInterval(measurements.map(\.rewardMean), errors: measurements.map(\.rewardStandardError), digits: 3),
                    TableText.meanWithInterval(measurements.map(\.kl), errors: measurements.map(\.klStandardError), digits: 2),
                    String(format: "%.1f", Statistics.mean(measurements.map(\.meanLength))),
                    String(format: "%.0f%%", 100 * Statistics.mean(measurements.map(\.endedRate))),
                    training.isEmpty ? "–" : String(format: "%.0f", Statistics.mean(training))]
        }
    }

    /// What each stage does.
    static func stages(_ configuration: FrontierConfiguration) -> [(term: String, text: String)] {
        [("reference (SFT from scratch)", "A tiny Llama trained from random weights on the generated review corpus: π_ref, the starting point of every run and the anchor of every KL."),
         ("preference pairs", "Two continuations the reference samples per training prompt, labelled by the ground-truth reward (ties skipped): the only data DPO and the reward model see."),
         ("reward model", "A scalar head on the reference trained on the pairs with the Bradley–Terry loss −log σ(r(chosen) − r(rejected)); PPO optimises it, never the ground truth."),
         ("DPO at each β (\(configuration.betas.map(FrontierConfiguration.format).joined(separator: ", ")))", "DPO (Rafailov et al. 2023) on the pairs from the reference; a smaller β lets the policy move further from π_ref."),
         ("PPO at each KL target (\(configuration.klTargets.map(FrontierConfiguration.format).joined(separator: ", ")) nats)", "PPO against the reward model from the reference, its KL coefficient adapted so the KL per response approaches the target (Ziegler et al. 2019).")]
    }

    /// What each table column means.
    static func columns(_ results: FrontierResults) -> [(term: String, text: String)] {
        [("reward", "Mean ground-truth reward of the held-out continuations: \(results.groundTruth)."),
         ("KL (nats)", "KL(π‖π_ref) per continuation: \(results.klEstimator)."),
         ("tokens, ended", "Mean continuation length in tokens, and the share that ended with eos rather than at the length limit."),
         ("train s", "Seconds the training stage took when it ran (cached stages keep their time).")]
    }

    /// What each training curve shows.
    static let metrics: [(term: String, text: String)] = [
        ("loss", "Reference SFT: next-token cross-entropy. Reward model: −log σ(r(chosen) − r(rejected)). DPO: the sigmoid DPO loss."),
        ("accuracy (reward model)", "Share of the logged training pairs whose chosen continuation scored above the rejected one; 0.5 is chance."),
        ("rewards/margins, rewards/accuracies (DPO)", "β × (the policy's log-ratio to π_ref on the chosen continuation − on the rejected one), and the share of pairs where it is positive."),
        ("objective/scores, objective/kl, objective/kl_coef (PPO)", "The reward model's mean score of the sampled continuations, their mean KL from π_ref (nats per continuation), and the adaptive KL coefficient."),
        ("response_length (PPO)", "Mean tokens per sampled continuation."),
    ]

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

    /// One chart per metric with a series per stage that logged it (none for a metric no stage logged).
    static func curves(_ seed: FrontierSeedResult, stages: [String], metrics: [String], title: String) -> [String] {
        var charts: [String] = []
        for metric in metrics {
            let series: [SVGChart.Series] = stages.compactMap { stage in
                let values = (seed.curves[stage] ?? []).compactMap { row -> SVGChart.Point? in
                    guard let step = row["step"], let value = row[metric] else { return nil }
                    return SVGChart.Point(step, value)
                }
                return values.isEmpty ? nil : SVGChart.Series(stage, values)
            }
            if !series.isEmpty { charts.append(SVGChart.lines(title: "\(title): \(metric)", series: series, xLabel: "step", yLabel: metric)) }
        }
        return charts
    }
}
