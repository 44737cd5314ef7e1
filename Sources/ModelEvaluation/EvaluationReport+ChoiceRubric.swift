import Foundation
import Reports
import Runtime

/// What `charter evaluate choice` writes to results.json.
public struct ChoiceResults: Encodable, Sendable {
    public var model: String
    public var data: String
    public var format: String
    public var summary: ChoiceEvaluation.Summary
    public var run: RunReport
    public var charterVersion = CharterVersion.current

    enum CodingKeys: String, CodingKey { case model, data, format, summary, run, charterVersion = "charter_version" }

    public init(model: String, data: String, format: String, summary: ChoiceEvaluation.Summary, run: RunReport) {
        (self.model, self.data, self.format, self.summary, self.run) = (model, data, format, summary, run)
    }
}

/// What `charter evaluate rubric` writes to results.json: per model, each dimension's mean expected score.
public struct RubricResults: Encodable, Sendable {
    public struct ModelScores: Encodable, Sendable {
        public var model: String
        /// Per dimension id, the mean over prompts of the expected 1–5 score, with its 95% t-interval.
        public var dimensions: [String: Interval]
        /// The geometric mean of the dimension means (the Flourishing AI Benchmark aggregates its dimensions so, so
        /// that a strong dimension cannot hide a weak one).
        public var geometricMean: Double

        enum CodingKeys: String, CodingKey { case model, dimensions, geometricMean = "geometric_mean" }
    }

    public var rubric: Rubric
    public var judge: String
    public var prompts: Int
    public var models: [ModelScores]
    public var run: RunReport
    public var charterVersion = CharterVersion.current

    enum CodingKeys: String, CodingKey { case rubric, judge, prompts, models, run, charterVersion = "charter_version" }

    public init(rubric: Rubric, judge: String, models: [String], records: [RubricRecord], run: RunReport) {
        self.rubric = rubric
        self.judge = judge
        self.run = run
        prompts = Set(records.map(\.promptID)).count
        self.models = models.map { model in
            let mine = records.filter { $0.model == model }
            var dimensions: [String: Interval] = [:]
            for dimension in rubric.dimensions { dimensions[dimension.id] = Statistics.interval95(mine.compactMap { $0.scores[dimension.id] }) }
            let means = rubric.dimensions.compactMap { dimensions[$0.id]?.mean }.filter { $0 > 0 }
            let geometric = means.isEmpty ? 0 : exp(means.reduce(0) { $0 + log($1) } / Double(means.count))
            return ModelScores(model: model, dimensions: dimensions, geometricMean: geometric)
        }
    }
}

extension EvaluationReport {
    @discardableResult
    public static func write(_ results: ChoiceResults, records: [ChoiceRecord], to directory: URL) throws -> URL {
        try ResultsFile.write(results, to: directory)
        var page = HTMLPage(title: "charter evaluate choice: \(results.model)")
        page.heading("charter evaluate choice")
        page.paragraph("\(results.model) on \(results.data) (\(results.format) format, \(results.summary.items) items).")
        let summary = results.summary
        page.table(header: ["measure", "accuracy"], rows: [
            ["summed log-probability", String(format: "%.1f%%", 100 * summary.accuracyBySum)],
            ["mean log-probability per token", String(format: "%.1f%%", 100 * summary.accuracyByMean)],
            ["chance (a uniformly random pick)", String(format: "%.1f%%", 100 * summary.chance)],
        ])
        page.chart(SVGChart.bars(title: "Accuracy", groups: ["summed", "per token", "chance"],
                                 series: [.init("accuracy", values: [summary.accuracyBySum, summary.accuracyByMean, summary.chance])],
                                 yLabel: "accuracy", yAxis: ChartAxis(lower: 0, upper: 1, step: 0.25, percent: true), width: 500))
        page.paragraph("An item is correct when the target the model gives the highest log-probability after the context has the highest score; "
                       + "summed: Σ log p over the target's tokens (long targets are penalised); per token: that sum divided by the target's token count.")
        page.table(header: ["item", "log-prob sums", "tokens", "scores", "correct (sum / mean)"], rows: records.prefix(20).map { record in
            [record.id, record.sums.map { String(format: "%.2f", $0) }.joined(separator: ", "), record.tokens.map(String.init).joined(separator: ", "),
             record.scores.map { String(format: "%g", $0) }.joined(separator: ", "), "\(record.correctBySum ? "yes" : "no") / \(record.correctByMean ? "yes" : "no")"]
        }, caption: records.count > 20 ? "The first 20 of \(records.count) items" : nil)
        return try page.write(to: directory)
    }

    @discardableResult
    public static func write(_ results: RubricResults, to directory: URL) throws -> URL {
        try ResultsFile.write(results, to: directory)
        var page = HTMLPage(title: "charter evaluate rubric: \(results.rubric.name)")
        page.heading("charter evaluate rubric: \(results.rubric.name)")
        page.paragraph("\(results.models.count) model(s), \(results.prompts) prompts, judged by \(results.judge)." + (results.rubric.source.map { " Rubric source: \($0)." } ?? ""))
        let dimensions = results.rubric.dimensions
        page.table(header: ["model"] + dimensions.map(\.name) + ["geometric mean"], rows: results.models.map { model in
            [model.model] + dimensions.map { dimension in
                model.dimensions[dimension.id].map { String(format: "%.2f [%.2f, %.2f]", $0.mean, $0.lower, $0.upper) } ?? "–"
            } + [String(format: "%.2f", model.geometricMean)]
        })
        page.chart(SVGChart.bars(title: "Mean expected score per dimension (1–5)", groups: dimensions.map(\.id),
                                 series: results.models.map { model in
                                     .init(model.model, values: dimensions.map { model.dimensions[$0.id]?.mean },
                                           intervals: dimensions.map { model.dimensions[$0.id].map { max(1, $0.lower)...min(5, $0.upper) } })
                                 }, yLabel: "score", yAxis: ChartAxis(lower: 1, upper: 5, step: 1)))
        page.definitions(dimensions.map { ($0.name, $0.question) } + [
            ("score", "The judge sees the conversation with the response as the assistant's last turn, the dimension's question and \"Score:\"; the probabilities of \" 1\" … \" 5\" (from their log-probabilities, normalised over the five) weight the expected score. Intervals are 95% t-intervals over prompts."),
        ])
        return try page.write(to: directory)
    }
}
