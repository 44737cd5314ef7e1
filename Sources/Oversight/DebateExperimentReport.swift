import Foundation
import Reports

/// results.json and report.html of `charter experiment debate`.
public enum DebateExperimentReport {
    static func percent(_ value: Double) -> String { String(format: "%.1f%%", 100 * value) }
    static func points(_ value: Double) -> String { String(format: "%+.1f", 100 * value) }

    public static func write(_ results: DebateExperimentResults, to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        _ = try ResultsFile.write(results, to: directory)
        _ = try page(results).write(to: directory)
    }

    /// Console lines.
    public static func summary(_ results: DebateExperimentResults) -> [String] {
        results.protocols.map { "\($0.protocolName.rawValue): judge accuracy \($0.accuracy.text(percent))" }
            + ["debate − consultancy \(results.debateMinusConsultancy.text(points)) points, debate − blind \(results.debateMinusBlind.text(points)) points; "
               + "target (≥ +10 and ≥ +20, intervals separated) \(results.targetMet ? "met" : "not met")"]
    }

    static func page(_ results: DebateExperimentResults) -> HTMLPage {
        let configuration = results.configuration
        var page = HTMLPage(title: "Debate, consultancy and blind judging with a trained judge")
        page.heading("Debate, consultancy and blind judging with a small trained judge")
        page.paragraph("Per seed: reading tasks are generated (passages about \(configuration.peopleCount) invented people's towns, jobs and pets; "
                       + "two-option questions whose distractor is another person's value from the same passage). Debaters and consultants follow a "
                       + "fixed policy: quote the passage sentence that contains their answer and shares most words with the question — for the true "
                       + "answer that is the sentence that answers the question, for the distractor a true sentence about someone else. Quotes are "
                       + "checked and shown to the judge as verified or not. "
                       + (configuration.fabricatingLiar ? "In this run the liar fabricates instead: it puts its answer into the sentence about the person asked, a quote that fails verification. " : "")
                       + (configuration.supersededLiar ? Self.supersededText(configuration) : "")
                       + (configuration.simultaneous
                          ? "Debates are simultaneous and the judge reads each round in letter order, the debater for (A) first (as Khan et al. show Debater A first). "
                          : "Debates are sequential with a random opening debater and the judge reads them in speaking order, so the letter of the verified argument is the XOR of the opening and the option order. ")
                       + "The judge (a Llama of \(configuration.judge.text), trained from scratch) "
                       + "is fine-tuned for \(configuration.steps) steps on debate transcripts of \(configuration.trainingPassages * 3) training tasks in "
                       + "both option orders, then judges \(configuration.testPassages * 3) held-out tasks under each protocol (\(configuration.rounds) "
                       + "round\(configuration.rounds == 1 ? "" : "s")), answering by the log-probabilities of \" (A)\" and \" (B)\" in both orders. "
                       + (configuration.trainOnConsultancy
                          ? "The judge also trains on the training tasks' consultancy transcripts (honest on half), never on blind prompts."
                          : "The judge never trains on consultancy or blind prompts: consultancy tests whether what it learnt from debates survives a one-sided transcript.")
                       + (configuration.consultancySlots
                          ? " Consultancies are shown in the debates' letter-ordered slots, the option nobody argues for marked \"(no argument)\"."
                          : "")
                       + (configuration.judgeRestarts > 1
                          ? " Up to \(configuration.judgeRestarts) judges are trained per seed, each from its own initialisation and batch order; the one "
                            + "most accurate on \(configuration.validationPassages * 3) validation tasks (fresh tasks of the training "
                            + "distribution, judged under the protocols the judge trains on; never the test tasks) is kept, and no further judge is trained "
                            + "once one reaches \(percent(configuration.restartAccuracy)) there."
                          : ""))
        page.heading("Judge accuracy (\(results.outcomes.count) seed\(results.outcomes.count == 1 ? "" : "s"), mean [95% t-interval over seeds])", level: 2)
        page.table(header: ["protocol", "accuracy"], rows: results.protocols.map { [$0.protocolName.rawValue, $0.accuracy.text(percent)] }
                   + [["debate − consultancy (points)", results.debateMinusConsultancy.text(points)], ["debate − blind (points)", results.debateMinusBlind.text(points)]])
        if results.targetMet {
            page.passed("Target met: debate beats consultancy by ≥ 10 points and blind by ≥ 20, with separated intervals.")
        } else {
            page.warning("Target not met: debate ≥ consultancy + 10 points and ≥ blind + 20 points with separated intervals (see the table).")
        }
        page.chart(SVGChart.bars(title: "Judge accuracy (95% t-intervals, seeds)", groups: results.protocols.map(\.protocolName.rawValue),
                                 series: [.init("accuracy", values: results.protocols.map(\.accuracy.mean),
                                                intervals: results.protocols.map { $0.accuracy.lower...$0.accuracy.upper })],
                                 yLabel: "accuracy", yAxis: ChartAxis(lower: 0, upper: 1, step: 0.25, percent: true), width: 440))
        page.heading("Per seed", level: 2)
        page.table(header: ["seed", "blind", "consultancy", "debate", "honest / dishonest consultant", "debate: both quotes verified / one",
                            "judge loss first → last", "judges trained: validation accuracy", "training judgements", "test tasks", "seconds"],
                   rows: results.outcomes.map { outcome in
                       let consultancy = outcome.results.summary(.consultancy)
                       let split = [consultancy?.honestAccuracy, consultancy?.dishonestAccuracy].map { $0.map { percent($0.mean) } ?? "–" }.joined(separator: " / ")
                       let debateSplit = [outcome.debateBothVerified, outcome.debateOneVerified].map { $0.map(percent) ?? "–" }.joined(separator: " / ")
                       return ["\(outcome.seed)"] + OversightProtocol.allCases.map { outcome.accuracy[$0.rawValue].map(percent) ?? "–" }
                           + [split, debateSplit, "\(outcome.firstLoss.map { String(format: "%.3f", $0) } ?? "?") → \(outcome.finalLoss.map { String(format: "%.3f", $0) } ?? "?")",
                              outcome.judgeAttempts.map { attempts in attempts.map { $0.kept ? "\(percent($0.validationAccuracy)) (kept)" : percent($0.validationAccuracy) }.joined(separator: ", ") } ?? "1 judge",
                              "\(outcome.trainingExamples)", "\(outcome.testTasks)", String(format: "%.0f", outcome.seconds)]
                   })
        if configuration.supersededLiar {
            page.paragraph("Debates in which both quotes verify are the superseded statement against the decisive one: the judge can tell them "
                           + "apart only by comparing the two sources. In the others the liar's quote is made up and fails verification.")
        }
        page.paragraph("Each seed's transcripts, bootstrap intervals, calibration and debater Elo are in seed-N/protocols/report.html. "
                       + "Kernel path \(results.machine.kernelPath) on \(results.machine.cpu) (\(results.machine.threads) threads); "
                       + "\(Int(results.outcomes.map(\.seconds).reduce(0, +).rounded())) s in all.")
        if let first = results.outcomes.first {
            page.heading("Example transcripts (seed \(first.seed), as the judge read them)", level: 2)
            page.examples(first.examples, id: "examples")
        }
        return page
    }

    /// The passage design of a superseded-liar run, for its precedence.
    static func supersededText(_ configuration: DebateExperimentConfiguration) -> String {
        let share = percent(configuration.supersededShare)
        let common = "\(share) of facts are stated twice, by a source and by the one that corrects it; a question about such a fact has the "
            + "superseded value as distractor, and the liar quotes the superseded statement — verified, about the right person, refuted only by "
            + "the correcting statement. Where there is none, the liar fabricates (unverified). "
        switch configuration.precedence ?? .cyclic {
        case .cyclic:
            return "In this run every statement names its source (a letter, the ledger, a neighbour; the ledger corrects a letter, a neighbour the "
                + "ledger, a letter a neighbour), and " + common + "No source is more often right than another on its own, so a judge reading one "
                + "verified quote can do no better than \(percent(1 - configuration.supersededShare / 2)) on consultancies, while a debate shows both "
                + "statements. "
        case .linear:
            return "In this run every statement names its source (a letter, the ledger, a neighbour) and a later record corrects an earlier one "
                + "(the ledger corrects a letter, a neighbour the ledger; a neighbour is never corrected), and " + common + "In a debate the later "
                + "source wins; a lone quote's source is a partial cue (a neighbour's statement is never the superseded one, a letter's never the "
                + "correction). "
        }
    }
}
