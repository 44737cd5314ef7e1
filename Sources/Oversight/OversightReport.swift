import Foundation
import Reports

/// report.html of `charter oversee`: judge accuracy per protocol, accuracy against rounds, calibration, the
/// debaters' standings and example transcripts.
public enum OversightReport {
    static func percent(_ value: Double) -> String { String(format: "%.1f%%", 100 * value) }
    /// "62.0% [55.1%, 68.9%]".
    public static func interval(_ interval: Interval) -> String { interval.text(percent) }

    /// One line per protocol for the console.
    public static func summary(_ results: OversightResults) -> [String] {
        results.protocols.map { summary in
            var line = "\(summary.protocolName.rawValue): judge accuracy \(interval(summary.accuracy)) on \(summary.tasks) tasks, "
                + String(format: "Brier %.3f, ECE %.3f", summary.brierScore, summary.calibrationError)
            if let honest = summary.honestAccuracy, let dishonest = summary.dishonestAccuracy {
                line += "; honest consultant \(interval(honest)), dishonest \(interval(dishonest))"
            }
            return line
        } + (results.decomposition.map { decomposition in
            ["decompose: direct \(interval(decomposition.direct)), decomposed \(interval(decomposition.decomposed)) "
             + "(difference \(decomposition.difference.text { String(format: "%+.1f", 100 * $0) }) points)"
             + (decomposition.reference.map { ", with the reference sub-questions \(interval($0))" } ?? "") + " on \(decomposition.tasks) tasks"]
        } ?? [])
    }

    /// A transcript as the judge read it, with the judge's probability after each round.
    static func example(_ record: ProtocolTranscript) -> GenerationExample {
        let prompt = "\(record.question) (A) \(record.options[0]) (B) \(record.options[1]); correct: \(record.options[record.correctOption])"
        var responses: [GenerationExample.Response] = record.turns.map { .init(model: "\($0.speaker), round \($0.round)", text: $0.marked) }
        let probabilities: [String] = record.verdicts.map { String(format: "%.4f", $0.probabilityCorrect) }
        let verdict = record.final.score == 1 ? "right" : record.final.score == 0 ? "wrong" : "tie"
        responses.append(.init(model: "judge \(record.judge)", text: "p(correct) after each round: " + probabilities.joined(separator: ", "), verdict: verdict))
        return GenerationExample(kind: record.protocolName.rawValue, id: record.id, prompt: prompt, responses: responses)
    }

    static func decompositionSection(_ summary: DecompositionSummary, records: [DecompositionRecord], page: inout HTMLPage) {
        page.heading("Decomposition against answering directly", level: 2)
        page.paragraph("Direct: \(summary.model) reads the passage and answers. Decomposed: \(summary.decomposer) lists sub-questions, separate "
                       + "calls of \(summary.model) answer them in turn (each reads the passage and the earlier answers), and a final call that does "
                       + "not read the passage chooses from the sub-answers alone. Reference: the same with the task's own sub-questions, which takes "
                       + "the decomposer's skill out. Intervals are bootstrap 95% over tasks; the difference resamples tasks in pairs.")
        var rows = [["direct", interval(summary.direct)], ["decomposed", interval(summary.decomposed)]]
        if let reference = summary.reference { rows.append(["reference sub-questions", interval(reference)]) }
        rows.append(["decomposed − direct (points)", summary.difference.text { String(format: "%+.1f", 100 * $0) }])
        page.table(header: ["answering", "accuracy [95% bootstrap]"], rows: rows,
                   caption: String(format: "%d tasks, %.1f sub-questions per task", summary.tasks, summary.meanSubquestions)
                       + (summary.referenceStepAccuracy.map { ", reference steps answered right: \(percent($0))" } ?? ""))
        page.examples(records.prefix(2).map { record in
            GenerationExample(kind: "decompose", id: record.id,
                              prompt: "\(record.question) (A) \(record.options[0]) (B) \(record.options[1]); correct: \(record.options[record.correctOption])",
                              responses: record.subanswers.map { .init(model: "sub-question", text: "\($0.question) → \($0.answer)") }
                                  + [.init(model: "direct", text: String(format: "p(correct) %.3f", record.direct.probabilityCorrect), verdict: record.direct.score == 1 ? "right" : "wrong"),
                                     .init(model: "decomposed", text: String(format: "p(correct) %.3f", record.decomposed.probabilityCorrect), verdict: record.decomposed.score == 1 ? "right" : "wrong")])
        }, id: "decomposition-examples")
    }

    static func page(_ results: OversightResults, transcripts: [OversightProtocol: [ProtocolTranscript]], decompositions: [DecompositionRecord] = []) -> HTMLPage {
        var page = HTMLPage(title: "Scalable oversight: debate, consultancy and blind judging")
        page.heading("Debate, consultancy and blind judging with hidden passages")
        page.paragraph("Each task is a question about a passage with two answers, one correct. The judge never sees the passage. "
                       + "Blind: the judge answers from the question alone. Consultancy: one consultant who read the passage argues for an "
                       + "assigned answer, the correct one for half the tasks. Debate: two debaters who read the passage argue for the two answers. "
                       + "Quotes are checked against the passage and shown to the judge as verified or unverified (Khan et al. 2024). The "
                       + "judge's answer is the normalised probability of \" (A)\" against \" (B)\", asked with the options in both orders and averaged.")
        page.definitions([
            ("judge accuracy", "the fraction of tasks where the judge's final probability favours the correct answer (an exact tie counts ½); the interval is the 2.5th–97.5th percentile of \(results.bootstrapSamples) bootstrap resamples of the tasks."),
            ("Brier score", "the mean of (1 − p_correct)²: 0 for confident right answers, 0.25 for always answering ½."),
            ("ECE", "expected calibration error of the probability of the first option over 10 equal-width bins: how far stated confidence is from the observed frequency."),
            ("position bias", "the fraction of verdicts whose favoured answer changed when the options were swapped (averaging both orders cancels it)."),
            ("Elo", "Bradley–Terry ratings of each debater on each side from the judge's final verdicts (one virtual tie per pair), relative to the first row, with bootstrap intervals over debates."),
        ])
        if let decomposition = results.decomposition { decompositionSection(decomposition, records: decompositions, page: &page) }
        guard !results.protocols.isEmpty else {
            if results.decomposition == nil { page.warning("No transcripts were found in this folder.") }
            return page
        }
        page.heading("Judge accuracy by protocol", level: 2)
        page.table(header: ["protocol", "tasks", "judge", "accuracy [95% bootstrap]", "mean p(correct)", "Brier", "ECE", "position bias"],
                   rows: results.protocols.map {
                       [$0.protocolName.rawValue, "\($0.tasks)", $0.judge, interval($0.accuracy), percent($0.meanProbabilityCorrect),
                        String(format: "%.3f", $0.brierScore), String(format: "%.3f", $0.calibrationError), percent($0.positionBiasRate)]
                   })
        if let consultancy = results.summary(.consultancy), let honest = consultancy.honestAccuracy, let dishonest = consultancy.dishonestAccuracy {
            page.paragraph("Consultancy: the judge is right \(interval(honest)) of the time when the consultant argues for the correct answer and "
                           + "\(interval(dishonest)) when it argues for the wrong one.")
        }
        let names = results.protocols.map(\.protocolName.rawValue)
        let accuracyChart = SVGChart.bars(
            title: "Judge accuracy (95% bootstrap intervals)", groups: names,
            series: [.init("accuracy", values: results.protocols.map(\.accuracy.mean),
                           intervals: results.protocols.map { $0.accuracy.lower...$0.accuracy.upper })],
            yLabel: "accuracy", yAxis: ChartAxis(lower: 0, upper: 1, step: 0.25, percent: true), width: 440)
        var roundSeries = results.protocols.filter { $0.protocolName != .blind }.map { summary in
            SVGChart.Series(summary.protocolName.rawValue, summary.accuracyByRound.enumerated().map { .init(Double($0.offset + 1), $0.element.mean) })
        }
        if let blind = results.summary(.blind) {
            let last = Double(results.protocols.map(\.accuracyByRound.count).max() ?? 1)
            roundSeries.append(SVGChart.Series("blind", [.init(0, blind.accuracy.mean), .init(max(last, 1), blind.accuracy.mean)]))
        }
        page.charts([accuracyChart, SVGChart.lines(title: "Judge accuracy after each round", series: roundSeries, xLabel: "rounds read", yLabel: "accuracy")])
        page.paragraph("Accuracy after each round is the judge's verdict on the transcript up to that round (blind is drawn flat for reference).")
        let quoteRows = results.protocols.flatMap { summary in
            summary.quotes.map { [summary.protocolName.rawValue, $0.side, "\($0.arguments)", String(format: "%.2f", $0.arguments == 0 ? 0 : Double($0.quotes) / Double($0.arguments)), percent($0.verifiedRate)] }
        }
        if !quoteRows.isEmpty {
            page.heading("Quotes", level: 2)
            page.table(header: ["protocol", "arguing for the … answer", "arguments", "quotes per argument", "verified"], rows: quoteRows)
        }
        if !results.debaters.isEmpty {
            page.heading("Debaters", level: 2)
            page.table(header: ["debater", "debates", "win rate", "Elo [95% bootstrap]"], rows: results.debaters.map {
                [$0.player, "\($0.debates)", percent($0.winRate), $0.elo.text { String(format: "%.0f", $0) }]
            })
            if let opening = results.openingWinRate {
                page.paragraph("The debater who spoke first in each round won \(percent(opening)) of the debates.")
            }
        }
        let examples = OversightProtocol.allCases.compactMap { transcripts[$0]?.first }.map(example)
        page.heading("Example transcripts (as the judge read them)", level: 2)
        page.examples(examples, id: "examples")
        return page
    }
}
