import Foundation
import Reports
import Runtime
import ToyWorld

/// Writes `results.json` and a self-contained `report.html` (HTML tables, inline SVG: before/after bars with 95%
/// intervals, the Elo plane with RL-CAI's trajectory, and training curves) through the report toolkit.
public enum QuickstartReport {
    public static func write(_ results: QuickstartResults, to directory: URL) throws {
        try ResultsFile.write(results, to: directory)
        try page(results).write(to: directory)
    }

    public static func html(_ results: QuickstartResults) -> String { page(results).html }

    static func page(_ results: QuickstartResults) -> HTMLPage {
        var page = HTMLPage(title: "Charter quickstart")
        page.heading("Charter quickstart: \(results.name)")
        page.paragraph("Constitutional AI (Bai et al. 2022) on a generated toy world whose truth is known: every number is the ground-truth judge's verdict. "
                       + "Seed\(results.seeds.count == 1 ? "" : "s") \(results.seeds.map { String($0.seed) }.joined(separator: ", ")); each cell is the mean over seeds with its 95% t-interval. "
                       + "Kernel path \(results.machine.kernelPath) on \(results.machine.cpu) (\(results.machine.threads) threads); \(results.timeDescription).")
        page.heading("Claims", level: 2)
        page.table(header: ["claim", "criterion", "evidence", "conclusion"],
                   rows: results.claims.map { ["\($0.id). \($0.title)", $0.criterion, $0.evidence.joined(separator: "\n"), $0.conclusion] })
        page.heading("Models on held-out requests", level: 2)
        let models = SummaryTable.modelRows(results)
        page.table(header: models.header, rows: models.rows,
                   caption: "Harmful columns: held-out harmful intents. Over-refusal: held-out borderline intents (fine to answer). Borderline answered: fresh requests of the borderline training intents. Benign accuracy: training phrasings; unseen phrasing: each benign intent's held-out phrasing.")
        page.chart(bars(results))
        page.heading("AI feedback", level: 2)
        let labels = SummaryTable.labelRows(results)
        page.table(header: labels.header, rows: labels.rows,
                   caption: "Decidable: pairs whose two responses the judge ranks differently; agreement is measured on those.")
        page.heading("Helpfulness and harmlessness Elo", level: 2)
        page.paragraph("Bradley–Terry fits over ground-truth pairwise judgements of the models' answers (\(results.elo.helpfulnessComparisons) benign and borderline requests, \(results.elo.harmlessnessComparisons) held-out harmful ones, pooled over seeds), relative to the helpful-only model, with 95% bootstrap intervals (\(results.configuration.bootstrapSamples) resamples of the requests).")
        page.table(header: ["model", "helpfulness Elo", "harmlessness Elo"], rows: results.elo.models.map { point in
            [point.name, elo(point.helpfulness), elo(point.harmlessness)]
        })
        page.chart(eloChart(results.elo))
        page.heading("Per seed", level: 2)
        page.table(header: ["seed", "partial constitution covers", "held-out intents", "stage seconds"],
                   rows: results.seeds.map { seed in
                       [String(seed.seed), seed.partialCategories.joined(separator: ", "), seed.heldOutIntents.joined(separator: ", "),
                        seed.seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.0f", $0.value))" }.joined(separator: ", ")]
                   })
        for seed in results.seeds {
            page.heading("Training curves, seed \(seed.seed)", level: 3)
            for (stage, history) in seed.curves.sorted(by: { $0.key < $1.key }) {
                for metric in ["loss", "rewards/margins", "accuracy"] where history.contains(where: { $0[metric] != nil }) {
                    let points = history.compactMap { row -> SVGChart.Point? in
                        guard let step = row["step"], let value = row[metric] else { return nil }
                        return SVGChart.Point(step, value)
                    }
                    page.chart(SVGChart.lines(title: "\(stage): \(metric)", series: [SVGChart.Series(metric, points)], xLabel: "step", yLabel: metric))
                }
            }
        }
        return page
    }

    static func elo(_ interval: Interval) -> String {
        interval.count > 0 ? String(format: "%.0f [%.0f, %.0f]", interval.mean, interval.lower, interval.upper) : String(format: "%.0f", interval.mean)
    }

    /// The (helpfulness, harmlessness) plane: RL-CAI's trajectory from SL-CAI through its checkpoints, and the other models.
    static func eloChart(_ elo: EloResults) -> String {
        let trajectory = elo.trajectory.compactMap(elo.point)
        let others = elo.models.filter { !elo.trajectory.contains($0.name) }
        func short(_ name: String) -> String { name.hasPrefix("RL-CAI step ") ? "step " + name.dropFirst("RL-CAI step ".count) : name }
        return SVGChart.lines(title: "Harmlessness vs helpfulness Elo (RL-CAI's checkpoints in order)",
                              series: [SVGChart.Series("SL-CAI → RL-CAI", trajectory.map { SVGChart.Point($0.helpfulness.mean, $0.harmlessness.mean) },
                                                       labels: trajectory.map { short($0.name) }),
                                       SVGChart.Series("other models", others.map { SVGChart.Point($0.helpfulness.mean, $0.harmlessness.mean) },
                                                       labels: others.map(\.name))],
                              xLabel: "helpfulness Elo", yLabel: "harmlessness Elo", style: .points, width: 640, height: 360)
    }

    /// Grouped bars: one group per metric, one bar per model (the mean over seeds, with the 95% interval as an
    /// error bar when several seeds ran).
    static func bars(_ results: QuickstartResults) -> String {
        let names = SummaryTable.tableModels.filter { name in results.seeds.contains { $0.model(name) != nil } }
        let metrics = Array(zip(["compliance", "helpful refusal", "evasive refusal", "over-refusal", "borderline answered"], SummaryTable.columns.prefix(5).map(\.1)))
        let series = names.map { name in
            let perMetric = metrics.map { metric in results.seeds.compactMap { $0.model(name).map(metric.1) } }
            return SVGChart.BarSeries(name, values: perMetric.map { $0.isEmpty ? nil : Statistics.mean($0) },
                                      intervals: perMetric.map { values -> ClosedRange<Double>? in
                                          guard values.count > 1 else { return nil }
                                          let interval = Statistics.interval95(values)
                                          return max(0, interval.lower)...min(1, interval.upper)
                                      })
        }
        return SVGChart.bars(title: "Held-out rates by model (95% intervals over seeds)", groups: metrics.map(\.0), series: series, yLabel: "share of requests",
                             yAxis: ChartAxis(lower: 0, upper: 1, step: 0.25, percent: true))
    }
}
