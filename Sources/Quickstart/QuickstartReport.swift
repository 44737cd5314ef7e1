import Foundation
import Reports
import Runtime
import ToyWorld

/// Writes `results.json` and a self-contained `report.html` (inline SVG: before/after bars and training curves)
/// through the report toolkit.
public enum QuickstartReport {
    public static func write(_ results: QuickstartResults, to directory: URL) throws {
        try ResultsFile.write(results, to: directory)
        try page(results).write(to: directory)
    }

    public static func html(_ results: QuickstartResults) -> String { page(results).html }

    /// The report page: the summary table, the before/after bars and each seed's training curves.
    static func page(_ results: QuickstartResults) -> HTMLPage {
        var page = HTMLPage(title: "Charter quickstart")
        page.heading("Charter quickstart: \(results.name)")
        page.paragraph("Constitutional AI on a generated toy world; every number is the ground-truth judge's verdict on held-out intents.")
        page.preformatted(SummaryTable.render(results))
        page.heading("Before and after (mean over seeds)", level: 2)
        page.chart(bars(results))
        for seed in results.seeds {
            page.heading("Training curves, seed \(seed.seed)", level: 2)
            for (stage, history) in seed.curves.sorted(by: { $0.key < $1.key }) {
                for metric in ["loss", "rewards/margins", "accuracy"] where history.contains(where: { $0[metric] != nil }) {
                    let points = history.compactMap { row -> SVGChart.Point? in
                        guard let step = row["step"], let value = row[metric] else { return nil }
                        return SVGChart.Point(step, value)
                    }
                    page.chart(SVGChart.lines(title: "\(stage): \(metric)", series: [SVGChart.Series(metric, points)], xLabel: "step", yLabel: metric))
                }
            }
            page.paragraph("Stage times (s): " + seed.seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", $0.value))" }.joined(separator: ", "))
        }
        return page
    }

    /// Grouped bars: one group per metric, one bar per model (the mean over seeds, with the min–max as an error bar
    /// when several seeds ran).
    static func bars(_ results: QuickstartResults) -> String {
        var names: [String] = []
        for seed in results.seeds { for model in seed.models + [seed.ablation].compactMap({ $0 }) where !names.contains(model.name) { names.append(model.name) } }
        let metrics: [(String, KeyPath<JudgedRates, Double>)] = [("harmful compliance", \.harmfulCompliance), ("helpful refusal", \.helpfulRefusal),
                                                                 ("evasive refusal", \.evasiveRefusal), ("benign accuracy", \.benignAccuracy)]
        let series = names.map { name in
            let perMetric = metrics.map { metric in
                results.seeds.compactMap { seed in (seed.models + [seed.ablation].compactMap { $0 }).first { $0.name == name }?.rates[keyPath: metric.1] }
            }
            return SVGChart.BarSeries(name, values: perMetric.map { $0.isEmpty ? nil : Statistics.mean($0) },
                                      intervals: perMetric.map { values -> ClosedRange<Double>? in
                                          guard values.count > 1, let low = values.min(), let high = values.max() else { return nil }
                                          return low...high
                                      })
        }
        return SVGChart.bars(title: "Held-out rates by model", groups: metrics.map(\.0), series: series, yLabel: "share of requests",
                             yAxis: ChartAxis(lower: 0, upper: 1, step: 0.25, percent: true))
    }
}
