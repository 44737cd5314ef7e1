import Foundation
import Reports

/// results.json and report.html of `charter experiment weak-to-strong`.
public enum WeakToStrongReport {
    /// Writes results.json and report.html into `directory`.
    public static func write(_ results: WeakToStrongResults, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = try ResultsFile.write(results, to: directory)
        _ = try page(results).write(to: directory)
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f%%", 100 * value) }
    static func ratio(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "undefined" }

    /// "62.0% [55.1%, 68.9%]" (the mean alone for one seed).
    public static func interval(_ interval: Interval) -> String { interval.text(percent) }
    /// A PGR interval ("0.41 [0.12, 0.70]"), or "undefined" when no seed had a gap.
    public static func gapInterval(_ interval: Interval) -> String {
        interval.count == 0 ? "undefined" : interval.text { String(format: "%.2f", $0) }
    }

    /// One line per task for the console.
    public static func summary(_ results: WeakToStrongResults) -> [String] {
        results.tasks.map {
            "\($0.task.rawValue): weak \(interval($0.weak)), weak-to-strong \(interval($0.weakToStrong)), + confidence loss "
                + "\(interval($0.weakToStrongConfidence)), ceiling \(interval($0.ceiling)); PGR \(gapInterval($0.performanceGapRecovered)), "
                + "with confidence loss \(gapInterval($0.performanceGapRecoveredConfidence))"
        }
    }

    static func page(_ results: WeakToStrongResults) -> HTMLPage {
        let configuration = results.configuration
        let seedCount = Set(results.outcomes.map(\.seed)).count
        var page = HTMLPage(title: "Weak-to-strong generalisation on toy-world tasks")
        page.heading("Weak-to-strong generalisation (Burns et al. 2023) with ground truth")
        page.paragraph("Per seed and task: a weak model (\(configuration.weak.text)) is fine-tuned on ground-truth labels and labels a held-out "
                       + "set with its probabilities. A strong model (\(configuration.strong.text)) is fine-tuned on those weak labels with "
                       + "cross-entropy (weak-to-strong) and with the auxiliary confidence loss (α warmed up linearly to \(configuration.maximumAlpha) "
                       + "over the first \(Int(100 * configuration.warmupFraction))% of the run, hardened predictions at the adaptive per-batch "
                       + "threshold); the strong ceiling is fine-tuned on the held-out set's ground truth. Every run takes \(configuration.steps) "
                       + "steps of batch \(configuration.batchSize) at learning rate \(configuration.learningRate)"
                       + (configuration.headOnlyStudents
                          ? "; the two students and the ceiling train only their linear head on the pretrained strong model's frozen features "
                            + "(a linear probe), at learning rate \(configuration.headLearningRate). " : ". ")
                       + "Both models start from scratch "
                       + "with one tokenizer; the strong model (and the weak one for \(configuration.weakPretrainingSteps) steps) is first pretrained for "
                       + "\(configuration.strongPretrainingSteps) next-token steps on \(configuration.corpusPerIntent) dialogues of every intent. "
                       + "The weak model's ground truth covers the world's training intents only; the held-out and test sets cover every intent. "
                       + "Accuracies are on a separate test set (\(configuration.perIntent) examples of every intent).")
        page.heading("Test accuracy (\(seedCount) seed\(seedCount == 1 ? "" : "s"), mean [95% t-interval])", level: 2)
        page.table(header: ["task", "weak", "weak-to-strong", "w2s + confidence loss", "strong ceiling", "PGR", "PGR with confidence loss"],
                   rows: results.tasks.map {
                       [$0.task.rawValue, interval($0.weak), interval($0.weakToStrong), interval($0.weakToStrongConfidence), interval($0.ceiling),
                        gapInterval($0.performanceGapRecovered), gapInterval($0.performanceGapRecoveredConfidence)]
                   })
        for task in results.tasks {
            let clearGap = task.gap.count > 1 ? task.gap.lower > 0 : task.gap.mean > 0
            if !clearGap {
                page.warning("\(task.task.rawValue): the ceiling is not clearly above the weak model (ceiling − weak \(interval(task.gap))); its PGR is noise.")
            }
            if task.seedsWithoutGap > 0 {
                page.warning("\(task.task.rawValue): \(task.seedsWithoutGap) seed(s) had a ceiling no better than the weak model and are left out of the PGR interval.")
            }
            let best = max(task.performanceGapRecoveredConfidence.mean, task.performanceGapRecovered.mean)
            if !clearGap { continue }  // warned about above: a PGR over no gap says nothing
            let confidence = task.performanceGapRecoveredConfidence
            if confidence.count > 1 && confidence.mean >= 0.3 && confidence.lower <= 0 {
                // The mean reaches the target but the interval does not exclude 0: no conclusion.
                page.warning("\(task.task.rawValue): PGR with the confidence loss is \(gapInterval(confidence)); the mean reaches 0.3 but the interval includes 0, so nothing is concluded.")
            } else if confidence.count > 1 && confidence.mean >= 0.3 {
                page.passed("\(task.task.rawValue): the confidence loss recovers \(String(format: "%.2f", task.performanceGapRecoveredConfidence.mean)) of the gap (target ≥ 0.3).")
            } else {
                page.warning("\(task.task.rawValue): PGR with the confidence loss is \(gapInterval(task.performanceGapRecoveredConfidence)), below the 0.3 target (best mean PGR \(String(format: "%.2f", best))).")
            }
        }
        page.definitions([
            (term: "test accuracy", text: "the fraction of test examples whose predicted class (p > 0.5) is the ground truth's; the test set is a separate draw from the world"),
            (term: "PGR", text: "performance gap recovered, (student − weak) / (ceiling − weak): 0 when the strong student only imitates its supervisor, 1 when it is as good as with ground truth; computed per seed, then averaged"),
            (term: "confidence loss", text: "L = (1 − α)·CE(f, f_w) + α·CE(f, f̂_t): the student is also pulled towards its own hardened predictions, so it can disagree with the weak labels (Burns et al. 2023, eq. 1)"),
            (term: "95% t-interval", text: "mean ± t(0.975, n − 1) × standard error over seeds (Statistics.interval95)"),
        ])
        let models = ["weak", "weak-to-strong", "w2s + confidence", "ceiling"]
        page.chart(SVGChart.bars(title: "Test accuracy by model", groups: results.tasks.map(\.task.rawValue), series: models.indices.map { model in
            let intervals = results.tasks.map { [$0.weak, $0.weakToStrong, $0.weakToStrongConfidence, $0.ceiling][model] }
            return SVGChart.BarSeries(models[model], values: intervals.map(\.mean), intervals: intervals.map { $0.lower...$0.upper })
        }, yLabel: "test accuracy", yAxis: ChartAxis(covering: [0.4, 1], percent: true)))
        let gaps = results.tasks.flatMap { [$0.performanceGapRecovered, $0.performanceGapRecoveredConfidence] }.filter { $0.count > 0 }
        page.chart(SVGChart.bars(title: "Performance gap recovered", groups: results.tasks.map(\.task.rawValue), series: [
            SVGChart.BarSeries("cross-entropy", values: results.tasks.map { $0.performanceGapRecovered.count > 0 ? $0.performanceGapRecovered.mean : nil },
                               intervals: results.tasks.map { $0.performanceGapRecovered.count > 0 ? $0.performanceGapRecovered.lower...$0.performanceGapRecovered.upper : nil }),
            SVGChart.BarSeries("confidence loss", values: results.tasks.map { $0.performanceGapRecoveredConfidence.count > 0 ? $0.performanceGapRecoveredConfidence.mean : nil },
                               intervals: results.tasks.map { $0.performanceGapRecoveredConfidence.count > 0 ? $0.performanceGapRecoveredConfidence.lower...$0.performanceGapRecoveredConfidence.upper : nil }),
        ], yLabel: "PGR", yAxis: ChartAxis(covering: [0, 1] + gaps.flatMap { [$0.lower, $0.upper] })))
        page.heading("Seeds", level: 2)
        page.table(header: ["task", "seed", "weak", "weak labels (held out)", "weak-to-strong", "w2s + confidence", "ceiling", "PGR", "PGR (confidence)", "seconds"],
                   rows: results.outcomes.map {
                       [$0.task.rawValue, "\($0.seed)", percent($0.weak), percent($0.weakLabelAccuracy), percent($0.weakToStrong),
                        percent($0.weakToStrongConfidence), percent($0.ceiling), ratio($0.performanceGapRecovered),
                        ratio($0.performanceGapRecoveredConfidence), String(format: "%.0f", $0.seconds)]
                   })
        for outcome in results.outcomes where outcome.seed == results.outcomes.first?.seed && !outcome.examples.isEmpty {
            page.heading("Test examples the weak model gets wrong (\(outcome.task.rawValue), seed \(outcome.seed))", level: 2)
            page.examples(outcome.examples, id: "examples-\(outcome.task.rawValue)")
        }
        return page
    }
}
