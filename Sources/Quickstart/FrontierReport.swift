import Foundation
import Runtime

/// Writes the frontier experiment's `results.json` and a self-contained `report.html` (inline SVG: the reward/KL
/// frontier and the training curves), and renders the terminal table. Charts and padding are the quickstart's.
public enum FrontierReport {
    public static func write(_ results: FrontierResults, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try AtomicFile.write(try FrontierRun.encoder.encode(results), to: directory.appendingPathComponent("results.json"))
        try AtomicFile.write(Data(html(results).utf8), to: directory.appendingPathComponent("report.html"))
    }

    /// The terminal summary: per run, mean ground-truth reward and KL from the reference on held-out prompts (± one
    /// standard error for one seed; the mean over seeds with min–max for several).
    public static func table(_ results: FrontierResults) -> String {
        let seeds = results.seeds.map { String($0.seed) }.joined(separator: ", ")
        var lines = ["Reward/KL frontier on held-out prompts (seed\(results.seeds.count > 1 ? "s" : "") \(seeds); "
                     + "\(results.configuration.evaluationSamples) samples per policy at temperature 1)", ""]
        let columns = [("run", 16), ("setting", 14), ("reward", 20), ("KL (nats)", 20), ("tokens", 8), ("ended", 8)]
        lines.append(columns.map { SummaryTable.pad($0.0, $0.1) }.joined() + "train s")
        for name in results.runNames {
            let runs = results.runs(named: name)
            guard let first = runs.first else { continue }
            let measurements = runs.map(\.measurement)
            let training = runs.compactMap(\.trainingSeconds)
            let cells = [name, first.setting,
                         cell(measurements.map(\.rewardMean), errors: measurements.map(\.rewardStandardError), digits: 3),
                         cell(measurements.map(\.kl), errors: measurements.map(\.klStandardError), digits: 2),
                         String(format: "%.1f", mean(measurements.map(\.meanLength))),
                         String(format: "%.0f%%", 100 * mean(measurements.map(\.endedRate)))]
            lines.append(zip(cells, columns).map { SummaryTable.pad($0.0, $0.1.1) }.joined()
                         + (training.isEmpty ? "–" : String(format: "%.0f", mean(training))))
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

    /// "0.123 ± 0.004" for one value, "0.123 (0.110–0.131)" for several.
    static func cell(_ values: [Double], errors: [Double], digits: Int) -> String {
        guard !values.isEmpty else { return "–" }
        let number = "%.\(digits)f"
        if values.count == 1 { return String(format: "\(number) ± \(number)", values[0], errors.first ?? 0) }
        return String(format: "\(number) (\(number)–\(number))", mean(values), values.min()!, values.max()!)
    }

    static func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }

    public static func html(_ results: FrontierResults) -> String {
        let escape = QuickstartReport.escape
        var body = "<h1>Charter reward/KL frontier: \(escape(results.name))</h1>\n"
        body += "<p>DPO and PPO on a generated review language whose reward is known (after Rafailov et al. 2023, §6.1). "
            + "The reference model is trained from scratch; preference pairs are its samples labelled by the ground truth; "
            + "DPO trains on them at each β, PPO optimises a reward model learned from them at each KL target. "
            + "Every point is a policy's mean ground-truth reward against its KL from the reference, on held-out prompts.</p>\n"
        body += "<pre>\(escape(table(results)))</pre>\n"
        body += "<h2>Frontier\(results.seeds.count > 1 ? " (mean over seeds)" : "")</h2>\n" + frontier(results)
        for seed in results.seeds {
            body += "<h2>Training curves, seed \(seed.seed)</h2>\n"
            body += curves(seed, stages: ["sft"], metrics: ["loss"], title: "reference SFT")
            body += curves(seed, stages: ["reward"], metrics: ["loss", "accuracy"], title: "reward model")
            let dpo = results.configuration.betas.map(FrontierRecipe.dpoStage(beta:))
            body += curves(seed, stages: dpo, metrics: ["loss", "rewards/margins", "rewards/accuracies"], title: "DPO")
            let ppo = results.configuration.klTargets.map(FrontierRecipe.ppoStage(klTarget:))
            body += curves(seed, stages: ppo, metrics: ["objective/scores", "objective/kl", "objective/kl_coef"], title: "PPO")
            body += "<p>Seconds: " + seed.seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", $0.value))" }.joined(separator: ", ") + "</p>\n"
        }
        return """
        <!DOCTYPE html><html><head><meta charset="utf-8"><title>Charter reward/KL frontier</title>
        <style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}pre{background:#f6f6f6;padding:1em;overflow-x:auto}
        svg{background:#fff;border:1px solid #ddd;margin:0.5em 0}</style></head><body>
        \(body)</body></html>
        """
    }

    /// The frontier, as Rafailov et al. plot it: x KL, y mean reward, a point per evaluated policy — every checkpoint
    /// of every run, one series per method, each run's final policy labelled with its β or target; the reference at
    /// KL 0. With several seeds, each point is the mean over seeds.
    static func frontier(_ results: FrontierResults) -> String {
        var series: [(String, [(Double, Double)])] = [], labels: [[String]] = []
        for method in ["reference", "DPO", "PPO"] {
            var points: [(Double, Double)] = [], names: [String] = []
            for name in results.runNames {
                let runs = results.runs(named: name)
                guard let first = runs.first, first.method == method else { continue }
                let trajectories = runs.map { $0.trajectory.isEmpty ? [FrontierCheckpoint(step: 0, measurement: $0.measurement)] : $0.trajectory }
                let length = trajectories.map(\.count).min() ?? 0
                for index in 0..<length {
                    let measurements = trajectories.map { $0[index].measurement }
                    points.append((mean(measurements.map(\.kl)), mean(measurements.map(\.rewardMean))))
                    names.append(index == length - 1 ? (method == "reference" ? "π_ref" : first.setting) : "")
                }
            }
            guard !points.isEmpty else { continue }
            series.append((method, points))
            labels.append(names)
        }
        return QuickstartReport.lineChart(title: "mean ground-truth reward vs KL(π‖π_ref), every checkpoint (final ones labelled)", series: series,
                                          xLabel: "KL (nats)", yLabel: "reward", points: true, labels: labels, width: 900, height: 420)
    }

    /// One chart per metric with a series per stage that logged it.
    static func curves(_ seed: FrontierSeedResult, stages: [String], metrics: [String], title: String) -> String {
        var text = ""
        for metric in metrics {
            let series: [(String, [(Double, Double)])] = stages.compactMap { stage in
                let values = (seed.curves[stage] ?? []).compactMap { row -> (Double, Double)? in
                    guard let step = row["step"], let value = row[metric] else { return nil }
                    return (step, value)
                }
                return values.isEmpty ? nil : (stage, values)
            }
            if !series.isEmpty { text += QuickstartReport.lineChart(title: "\(title): \(metric)", series: series, xLabel: "step") }
        }
        return text
    }
}
