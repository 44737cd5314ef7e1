import Foundation
import Reports

/// The self-contained pages of `charter probe train` (the layer sweep: held-out AUROC by layer per method, and the
/// chosen probe) and `charter probe eval` (the probabilities of positives and negatives as histograms, with the
/// probe's threshold and the metrics).
public enum ProbeReport {
    /// The training page: what was trained on what, the chosen layer and method, the sweep as a chart and a table.
    public static func training(_ probe: Probe.Description, activations: String) -> HTMLPage {
        var page = HTMLPage(title: "Charter probe: \(probe.model.name)")
        page.heading("Probe trained on \(activations)")
        page.paragraph("Model \(probe.model.name) (\(probe.model.architecture), hidden size \(probe.model.hiddenSize), \(probe.model.layerCount) blocks); "
                       + "position \(probe.position.rawValue), scope \(probe.scope), features \(probe.normalisation). Every collected hidden state "
                       + "(0 = embeddings, i = output of block i) was fitted with each method on the training split and measured on the held-out "
                       + "split (\(probe.trainingRows) training rows, \(probe.heldOutRows) held-out rows); the probe keeps the best held-out AUROC. "
                       + "Its threshold lets at most " + String(format: "%.1f%%", 100 * probe.targetFalsePositiveRate)
                       + " of the held-out negative examples trigger.")
        page.table(header: ["chosen", "value"], rows: [
            ["hidden state", String(probe.layer)],
            ["method", probe.method.rawValue],
            ["held-out AUROC", String(format: "%.4f", probe.metrics.auroc)],
            ["held-out accuracy at p = 0.5", String(format: "%.4f", probe.metrics.accuracy)],
            ["held-out expected calibration error", String(format: "%.4f", probe.metrics.calibrationError)],
            ["threshold", String(format: "%.4f", probe.threshold)],
            ["held-out true / false positive rate at the threshold", String(format: "%.3f / %.3f", probe.truePositiveRate, probe.falsePositiveRate)],
        ])
        let methods = Probe.Method.allCases.filter { method in probe.sweep.contains { $0.method == method } }
        page.chart(SVGChart.lines(title: "Held-out AUROC by hidden state", series: methods.map { method in
            SVGChart.Series(method.rawValue, probe.sweep.filter { $0.method == method }.sorted { $0.layer < $1.layer }
                .map { SVGChart.Point(Double($0.layer), $0.metrics.auroc) })
        }, xLabel: "hidden state (0 = embeddings)", yLabel: "AUROC"))
        page.table(header: ["hidden state", "method", "AUROC", "accuracy", "calibration error", "positives", "negatives"],
                   rows: probe.sweep.sorted { ($0.layer, $0.method.rawValue) < ($1.layer, $1.method.rawValue) }.map { entry in
            [String(entry.layer), entry.method.rawValue, String(format: "%.4f", entry.metrics.auroc), String(format: "%.4f", entry.metrics.accuracy),
             String(format: "%.4f", entry.metrics.calibrationError), String(entry.metrics.positives), String(entry.metrics.negatives)]
        }, caption: "Every layer and method of the sweep, measured on the held-out split (per row).")
        return page
    }

    /// The evaluation page: the metrics, the rates at the probe's threshold and the score histograms by label.
    public static func evaluation(_ probe: Probe.Description, activations: String, scores: [Double], labels: [Bool]) -> HTMLPage {
        var page = HTMLPage(title: "Charter probe evaluation: \(probe.model.name)")
        page.heading("Probe evaluated on \(activations)")
        let metrics = ProbeMetrics(scores: scores, labels: labels)
        let positives = zip(scores, labels).filter { $0.1 }.map(\.0), negatives = zip(scores, labels).filter { !$0.1 }.map(\.0)
        func share(_ values: [Double]) -> String {
            values.isEmpty ? "–" : String(format: "%.3f", Double(values.filter { $0 >= probe.threshold }.count) / Double(values.count))
        }
        page.paragraph("The probe reads hidden state \(probe.layer) of \(probe.model.name) at position \(probe.position.rawValue) "
                       + "(\(probe.method.rawValue)); an example's score is its probability, and it triggers at p ≥ "
                       + String(format: "%.4f", probe.threshold) + ".")
        page.table(header: ["measure", "value"], rows: [
            ["examples (positive / negative)", "\(metrics.positives) / \(metrics.negatives)"],
            ["AUROC", String(format: "%.4f", metrics.auroc)],
            ["accuracy at p = 0.5", String(format: "%.4f", metrics.accuracy)],
            ["expected calibration error", String(format: "%.4f", metrics.calibrationError)],
            ["true positive rate at the threshold", share(positives)],
            ["false positive rate at the threshold", share(negatives)],
        ])
        page.chart(SVGChart.histogram(title: "Probe probability by label (threshold " + String(format: "%.3f", probe.threshold) + ")",
                                      series: [("positive", positives), ("negative", negatives)], lower: 0, upper: 1, bins: 20, yLabel: "examples"))
        page.definitions([
            ("AUROC", "the probability that a random positive example scores above a random negative one (ties count ½; 0.5 is chance)."),
            ("expected calibration error", "over 10 equal-width probability bins, the example-weighted mean of |share of positives − mean probability|."),
        ])
        return page
    }
}
