import Foundation
import Reports

/// results.json and report.html of `charter experiment grpo-arithmetic`.
public enum GRPOArithmeticReport {
    /// Writes results.json and report.html into `directory`.
    public static func write(_ results: GRPOArithmeticResults, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = try ResultsFile.write(results, to: directory)
        _ = try page(results).write(to: directory)
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f%%", 100 * value) }

    /// "62.0% [55.1%, 68.9%]" (the mean alone for one seed).
    public static func interval(_ interval: Interval) -> String {
        interval.text(percent)
    }

    static func page(_ results: GRPOArithmeticResults) -> HTMLPage {
        let configuration = results.configuration
        var page = HTMLPage(title: "GRPO on arithmetic: held-out exact match")
        page.heading("GRPO with a verifiable reward on arithmetic")
        page.paragraph("Each seed holds out \(configuration.heldOutCount) of the \(configuration.operandLimit * configuration.operandLimit) sums "
                       + "a + b (operands below \(configuration.operandLimit)), trains a tiny Llama from scratch with \(configuration.sftSteps) SFT "
                       + "steps on the others, then runs \(configuration.grpoSteps) GRPO iterations (\(configuration.grpoPrompts) prompts × "
                       + "\(configuration.numGenerations) completions, temperature \(configuration.temperature), β = 0, loss dapo) with the exact-match "
                       + "reward on the training sums. The SFT control continues SFT from the same model for as many optimizer steps.")
        page.heading("Held-out accuracy (\(results.seeds.count) seed\(results.seeds.count == 1 ? "" : "s"), mean [95% t-interval])", level: 2)
        page.table(header: ["model", "held-out exact match"], rows: [
            ["after SFT", interval(results.accuracyAfterSFT)],
            ["after GRPO", interval(results.accuracyAfterGRPO)],
            ["SFT control (same extra steps)", interval(results.accuracyAfterSFTControl)],
            ["GRPO − SFT (paired per seed)", interval(results.gainOverSFT)],
            ["GRPO − SFT control (paired per seed)", interval(results.gainOverControl)],
        ])
        if results.gainOverSFT.excludesZero && results.gainOverSFT.lower > 0 {
            page.passed("GRPO raised held-out accuracy over the SFT model: the 95% interval of the paired gain excludes 0.")
        } else {
            page.warning("The 95% interval of GRPO's paired gain over the SFT model does not exclude 0 at this number of seeds.")
        }
        page.definitions([
            (term: "held-out exact match", text: "the fraction of held-out sums whose greedy completion's last number equals a + b; these sums are in neither the SFT nor the GRPO data"),
            (term: "training reward", text: "the mean exact-match reward of the sampled completions of each GRPO iteration's training prompts"),
            (term: "95% t-interval", text: "mean ± t(0.975, n − 1) × standard error over seeds (Statistics.interval95); paired gains are computed per seed first"),
        ])
        page.chart(SVGChart.bars(title: "Held-out exact match", groups: ["after SFT", "after GRPO", "SFT control"], series: [
            SVGChart.BarSeries("mean over seeds", values: [results.accuracyAfterSFT.mean, results.accuracyAfterGRPO.mean, results.accuracyAfterSFTControl.mean],
                               intervals: [results.accuracyAfterSFT, results.accuracyAfterGRPO, results.accuracyAfterSFTControl].map { $0.lower...$0.upper }),
        ], yLabel: "exact match", yAxis: ChartAxis(covering: [0, 1], percent: true)))
        page.chart(SVGChart.lines(title: "GRPO training reward", series: results.seeds.map { seed in
            SVGChart.Series("seed \(seed.seed)", seed.trainingReward.enumerated().map { SVGChart.Point(Double($0.offset + 1), $0.element) })
        }, xLabel: "GRPO iteration", yLabel: "mean exact match of samples"))
        page.heading("Seeds", level: 2)
        page.table(header: ["seed", "after SFT", "after GRPO", "SFT control", "seconds"], rows: results.seeds.map {
            ["\($0.seed)", percent($0.accuracyAfterSFT), percent($0.accuracyAfterGRPO), percent($0.accuracyAfterSFTControl), String(format: "%.0f", $0.seconds)]
        })
        if let first = results.seeds.first {
            page.heading("Examples (seed \(first.seed), held out)", level: 2)
            page.examples(first.examples, id: "examples")
        }
        return page
    }
}
