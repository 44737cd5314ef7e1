import Foundation
import Runtime
import ToyWorld

/// Writes `results.json` and a self-contained `report.html` (inline SVG: before/after bars and training curves).
public enum QuickstartReport {
    public static func write(_ results: QuickstartResults, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(results), to: directory.appendingPathComponent("results.json"))
        try AtomicFile.write(Data(html(results).utf8), to: directory.appendingPathComponent("report.html"))
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    public static func html(_ results: QuickstartResults) -> String {
        var body = "<h1>Charter quickstart: \(escape(results.name))</h1>\n"
        body += "<p>Constitutional AI on a generated toy world; every number is the ground-truth judge's verdict on held-out intents.</p>\n"
        body += "<pre>\(escape(SummaryTable.render(results)))</pre>\n"
        body += "<h2>Before and after (mean over seeds)</h2>\n" + bars(results)
        for seed in results.seeds {
            body += "<h2>Training curves, seed \(seed.seed)</h2>\n"
            for (stage, history) in seed.curves.sorted(by: { $0.key < $1.key }) {
                for metric in ["loss", "rewards/margins", "accuracy"] where history.contains(where: { $0[metric] != nil }) {
                    body += lineChart(title: "\(stage): \(metric)", series: [(metric, history.compactMap { row in
                        guard let step = row["step"], let value = row[metric] else { return nil }
                        return (step, value)
                    })], xLabel: "step")
                }
            }
            body += "<p>Stage times (s): " + seed.seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", $0.value))" }.joined(separator: ", ") + "</p>\n"
        }
        return """
        <!DOCTYPE html><html><head><meta charset="utf-8"><title>Charter quickstart</title>
        <style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}pre{background:#f6f6f6;padding:1em;overflow-x:auto}
        svg{background:#fff;border:1px solid #ddd;margin:0.5em 0}</style></head><body>
        \(body)</body></html>
        """
    }

    static let colours = ["#c0392b", "#27ae60", "#f39c12", "#2980b9", "#8e44ad", "#7f8c8d"]

    /// Grouped bars: one group per metric, one bar per model.
    static func bars(_ results: QuickstartResults) -> String {
        var names: [String] = []
        for seed in results.seeds { for model in seed.models + [seed.ablation].compactMap({ $0 }) where !names.contains(model.name) { names.append(model.name) } }
        let metrics: [(String, KeyPath<JudgedRates, Double>)] = [("harmful compliance", \.harmfulCompliance), ("helpful refusal", \.helpfulRefusal),
                                                                 ("evasive refusal", \.evasiveRefusal), ("benign accuracy", \.benignAccuracy)]
        let width = 900.0, height = 300.0, left = 40.0, bottom = 40.0
        let groupWidth = (width - left) / Double(metrics.count), barWidth = groupWidth * 0.8 / Double(max(1, names.count))
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height + 30))\" xmlns=\"http://www.w3.org/2000/svg\">"
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
            let y = height - bottom - tick * (height - bottom - 10)
            svg += "<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(width)\" y2=\"\(y)\" stroke=\"#eee\"/><text x=\"2\" y=\"\(y + 4)\" font-size=\"11\">\(Int(tick * 100))%</text>"
        }
        for (g, metric) in metrics.enumerated() {
            let x0 = left + Double(g) * groupWidth + groupWidth * 0.1
            for (m, name) in names.enumerated() {
                let values = results.seeds.compactMap { seed in (seed.models + [seed.ablation].compactMap { $0 }).first { $0.name == name }?.rates[keyPath: metric.1] }
                guard !values.isEmpty else { continue }
                let value = values.reduce(0, +) / Double(values.count)
                let barHeight = value * (height - bottom - 10)
                svg += "<rect x=\"\(x0 + Double(m) * barWidth)\" y=\"\(height - bottom - barHeight)\" width=\"\(barWidth - 2)\" height=\"\(barHeight)\" fill=\"\(colours[m % colours.count])\"><title>\(escape(name)): \(String(format: "%.1f%%", 100 * value))</title></rect>"
            }
            svg += "<text x=\"\(x0)\" y=\"\(height - bottom + 16)\" font-size=\"12\">\(metric.0)</text>"
        }
        for (m, name) in names.enumerated() {
            svg += "<rect x=\"\(left + Double(m) * 170)\" y=\"\(height)\" width=\"10\" height=\"10\" fill=\"\(colours[m % colours.count])\"/><text x=\"\(left + Double(m) * 170 + 14)\" y=\"\(height + 9)\" font-size=\"11\">\(escape(name))</text>"
        }
        return svg + "</svg>\n"
    }

    /// A line chart of (x, y) series with axes labelled by their ranges.
    /// - Parameters:
    ///   - points: mark each point with a dot instead of joining them with a line.
    ///   - labels: per series, a label written next to each point (missing entries are left blank).
    public static func lineChart(title: String, series: [(String, [(Double, Double)])], xLabel: String, yLabel: String = "", points: Bool = false,
                                 labels: [[String]] = [], width: Double = 440, height: Double = 220) -> String {
        let left = 50.0, bottom = 30.0, top = 24.0
        let all = series.flatMap(\.1)
        guard let minX = all.map(\.0).min(), let maxX = all.map(\.0).max(), let minY = all.map(\.1).min(), let maxY = all.map(\.1).max() else { return "" }
        let spanX = max(maxX - minX, 1e-9), spanY = max(maxY - minY, 1e-9)
        func px(_ x: Double) -> Double { left + (x - minX) / spanX * (width - left - 10) }
        func py(_ y: Double) -> Double { height - bottom - (y - minY) / spanY * (height - bottom - top) }
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" xmlns=\"http://www.w3.org/2000/svg\"><text x=\"\(left)\" y=\"15\" font-size=\"13\">\(escape(title))</text>"
        svg += "<text x=\"2\" y=\"\(top + 8)\" font-size=\"10\">\(String(format: "%.3g", maxY))</text><text x=\"2\" y=\"\(height - bottom)\" font-size=\"10\">\(String(format: "%.3g", minY))</text>"
        svg += "<text x=\"\(left)\" y=\"\(height - 8)\" font-size=\"10\">\(String(format: "%.3g", minX))</text><text x=\"\(width - 60)\" y=\"\(height - 8)\" font-size=\"10\">\(String(format: "%.3g", maxX)) \(escape(xLabel))</text>"
        if !yLabel.isEmpty { svg += "<text x=\"2\" y=\"\(height / 2)\" font-size=\"10\">\(escape(yLabel))</text>" }
        for (index, (name, values)) in series.enumerated() {
            let colour = colours[index % colours.count]
            if points {
                for (x, y) in values { svg += "<circle cx=\"\(px(x))\" cy=\"\(py(y))\" r=\"4\" fill=\"\(colour)\"><title>\(escape(name))</title></circle>" }
                let pointLabels = index < labels.count ? labels[index] : []
                for ((x, y), label) in zip(values, pointLabels) where !label.isEmpty {
                    // Labels of points in the right quarter go to their left, so they stay inside the chart.
                    let (labelX, anchor) = px(x) > 0.75 * width ? (px(x) - 6, "end") : (px(x) + 6, "start")
                    svg += "<text x=\"\(labelX)\" y=\"\(py(y) - 6)\" font-size=\"10\" text-anchor=\"\(anchor)\" fill=\"\(colour)\">\(escape(label))</text>"
                }
            } else {
                svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\" points=\"" + values.map { "\(px($0.0)),\(py($0.1))" }.joined(separator: " ") + "\"/>"
            }
            if series.count > 1 { svg += "<text x=\"\(width - 150)\" y=\"\(top + 12 * Double(index + 1))\" font-size=\"10\" fill=\"\(colour)\">\(escape(name))</text>" }
        }
        return svg + "</svg>\n"
    }
}
