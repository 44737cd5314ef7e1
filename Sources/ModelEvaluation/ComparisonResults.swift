import Constitutional
import Foundation
import Reports
import Runtime

/// What `charter evaluate pairwise` and `charter evaluate ratings` write to results.json: every pair's win rates
/// and the Bradley–Terry ratings, from the same battles.
public struct ComparisonResults: Encodable, Sendable {
    /// "pairwise" or "ratings".
    public var kind: String
    public var models: [String]
    public var judge: String
    public var constitution: String
    public var configuration: FeedbackConfiguration
    public var prompts: Int
    public var battles: Int
    /// The share of battles whose two orders disagreed (ties).
    public var tieRate: Double
    public var pairwise: [PairwiseSummary]
    public var ratings: BradleyTerryRatings
    /// Agreement with a reference judge, when one was given.
    public var reference: ReferenceAgreement?
    public var run: RunReport
    public var charterVersion = CharterVersion.current
    public var date: String

    enum CodingKeys: String, CodingKey {
        case kind, models, judge, constitution, configuration, prompts, battles, tieRate = "tie_rate", pairwise, ratings, reference, run
        case charterVersion = "charter_version", date
    }

    /// Summarises `battles` of `models` (every pair i < j as A = i).
    public init(kind: String, models: [String], battles: [Battle], judge: String, feedback: AIFeedback, prompts: Int,
                run: RunReport, bootstrapRounds: Int, seed: UInt64) throws {
        self.kind = kind
        self.models = models
        self.judge = judge
        constitution = feedback.constitution.label
        configuration = feedback.configuration
        self.prompts = prompts
        self.battles = battles.count
        tieRate = battles.isEmpty ? 0 : Double(battles.filter { $0.winner == .tie }.count) / Double(battles.count)
        var summaries: [PairwiseSummary] = []
        for a in models.indices {
            for b in models.indices where b > a {
                if battles.contains(where: { Set([$0.modelA, $0.modelB]) == Set([models[a], models[b]]) }) {
                    summaries.append(try PairwiseSummary(battles: battles, modelA: models[a], modelB: models[b]))
                }
            }
        }
        pairwise = summaries
        ratings = try BradleyTerryRatings(battles: battles, models: models, rounds: bootstrapRounds, seed: seed)
        self.run = run
        date = ISO8601DateFormatter().string(from: Date())
    }
}

/// The report pages of `charter evaluate` (results.json and report.html through the Reports toolkit).
public enum EvaluationReport {
    /// Writes a comparison's results.json and report.html into `directory`, with up to `examples` battles shown.
    @discardableResult
    public static func write(_ results: ComparisonResults, battles: [Battle], models: [ModelResponses], examples: Int = 6,
                             to directory: URL) throws -> URL {
        try ResultsFile.write(results, to: directory)
        var page = HTMLPage(title: "charter evaluate \(results.kind): \(results.models.joined(separator: ", "))")
        page.heading("charter evaluate \(results.kind)")
        page.paragraph("\(results.models.count) models, \(results.prompts) prompts, \(results.battles) battles judged by \(results.judge) "
                       + "with the constitution \(results.constitution) (\(results.configuration.principlesPerPair) principle(s) per battle, "
                       + "\(results.configuration.bothOrders ? "both orders" : "one order"), \(results.configuration.chainOfThought ? "chain of thought" : "direct")). "
                       + String(format: "%.1f%% of battles were ties (the two orders preferred different responses).", 100 * results.tieRate))
        if results.tieRate > 0.5 {
            page.warning(String(format: "%.0f%% of battles are ties: the judge mostly prefers a position, not a response, so the win rates below say little.", 100 * results.tieRate))
        }
        page.heading("Win rates", level: 2)
        page.table(header: ["A", "B", "battles", "win rate of A [95%]", "W / L / T", "ties half", "length-controlled", "φ (length)", "mean length A / B"],
                   rows: results.pairwise.map { summary in
                       [summary.modelA, summary.modelB, "\(summary.battles)",
                        String(format: "%.1f%% [%.1f, %.1f]", 100 * summary.winRate.mean, 100 * max(0, summary.winRate.lower), 100 * min(1, summary.winRate.upper)),
                        "\(summary.wins) / \(summary.losses) / \(summary.ties)", String(format: "%.1f%%", 100 * summary.winRateTiesHalf),
                        String(format: "%.1f%%", 100 * summary.lengthControlled.winRate), String(format: "%+.2f", summary.lengthControlled.lengthCoefficient),
                        String(format: "%.0f / %.0f", summary.meanLengthA, summary.meanLengthB)]
                   })
        page.chart(SVGChart.bars(title: "Win rate of A against B", groups: results.pairwise.map { "\($0.modelA) vs \($0.modelB)" },
                                 series: [.init("win rate", values: results.pairwise.map { $0.winRate.mean },
                                                intervals: results.pairwise.map { max(0, $0.winRate.lower)...min(1, $0.winRate.upper) }),
                                          .init("length-controlled", values: results.pairwise.map { $0.lengthControlled.winRate }),
                                          .init("ties half", values: results.pairwise.map(\.winRateTiesHalf))],
                                 yLabel: "share of battles", yAxis: ChartAxis(lower: 0, upper: 1, step: 0.25, percent: true)))
        page.definitions([
            ("win rate", "The mean over prompts of the judge's probability that A's response is better (the normalised probability of \" (A)\" vs \" (B)\", averaged over both orders and the sampled principles), as AlpacaEval's win_rate; the interval is a 95% t-interval over prompts."),
            ("W / L / T, ties half", "Hard outcomes: A wins when both orders prefer A, loses when both prefer B, and ties when the orders disagree (MT-Bench's rule); ties half counts a tie as half a win."),
            ("length-controlled", "AlpacaEval 2's length-controlled win rate (its minimal GLM): a logistic regression of the judge's preference on tanh(length difference / its standard deviation) with an intercept θ; the rate is σ(θ), the predicted preference at equal length. φ is the length coefficient: positive when the judge prefers the longer response."),
        ])
        page.heading("Bradley–Terry ratings (Elo scale)", level: 2)
        let ratings = results.ratings.ratings
        page.table(header: ["rank", "model", "rating [95% bootstrap]", "battles", "score (wins + ties/2)"],
                   rows: ratings.enumerated().map { index, rating in
                       ["\(index + 1)", rating.model, String(format: "%.0f [%.0f, %.0f]", rating.rating.mean, rating.rating.lower, rating.rating.upper),
                        "\(rating.battles)", String(format: "%.1f%%", 100 * rating.score)]
                   })
        page.chart(SVGChart.bars(title: "Ratings with 95% bootstrap intervals", groups: ratings.map(\.model),
                                 series: [.init("rating", values: ratings.map { $0.rating.mean }, intervals: ratings.map { $0.rating.lower...$0.rating.upper })],
                                 yLabel: "Elo", yAxis: ChartAxis(covering: ratings.flatMap { [$0.rating.lower, $0.rating.upper] })))
        page.paragraph("Ratings are the maximum-likelihood Bradley–Terry fit, P(i beats j) = 1 / (1 + 10^((Rj − Ri)/400)), with a tie counted half to each side and "
                       + "\(results.ratings.prior) virtual tie(s) per pair, shifted so that their mean is 1000; intervals are the 2.5th and 97.5th percentiles of "
                       + "\(results.ratings.bootstrapRounds) refits on battles resampled with replacement (as Chatbot Arena computes them).")
        if let reference = results.reference {
            page.heading("Agreement with the reference judge", level: 2)
            page.paragraph("Reference: \(reference.reference). Of \(reference.battles) battles it judged, \(reference.decidable) are decidable (it prefers one response).")
            page.table(header: ["measure", "value"], rows: [
                ["AI winner = reference winner (AI ties count as disagreement)", String(format: "%.1f%%", 100 * reference.agreement)],
                ["AI preference on the reference's side of ½", String(format: "%.1f%%", 100 * reference.preferenceAgreement)],
            ] + reference.byGroup.sorted { $0.key < $1.key }.map { name, group in
                ["  \(name) (\(group.decidable) decidable)", String(format: "%.1f%%", 100 * group.preferenceAgreement)]
            } + [
                ["AI order", results.ratings.ratings.map(\.model).joined(separator: " > ")],
                ["reference order", reference.referenceRatings.ratings.map(\.model).joined(separator: " > ")],
                ["orders match (Kendall's τ)", "\(reference.orderMatches ? "yes" : "no") (\(String(format: "%.2f", reference.kendallTau)))"],
            ])
        }
        let byModel = Dictionary(uniqueKeysWithValues: models.map { ($0.name, Dictionary(uniqueKeysWithValues: $0.items.map { ($0.id, $0) })) })
        let shown = battles.prefix(examples).compactMap { battle -> GenerationExample? in
            guard let a = byModel[battle.modelA]?[battle.promptID], let b = byModel[battle.modelB]?[battle.promptID] else { return nil }
            let verdict = battle.winner == .tie ? "tie" : "\(battle.winner == .a ? battle.modelA : battle.modelB) wins"
            return GenerationExample(kind: "battle", id: battle.promptID, prompt: a.conversation.last?.content ?? "", responses: [
                .init(model: battle.modelA, text: a.response ?? "", verdict: String(format: "p = %.2f; %@", battle.probabilityA, verdict)),
                .init(model: battle.modelB, text: b.response ?? "", verdict: String(format: "p = %.2f", 1 - battle.probabilityA)),
            ])
        }
        if !shown.isEmpty {
            page.heading("Example battles", level: 2)
            page.examples(shown, id: "examples")
        }
        return try page.write(to: directory)
    }
}
