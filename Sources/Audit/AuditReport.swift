import Foundation
import Reports

/// `report.html` of an audit through the shared report toolkit: finding counts, the length, position and soft-label
/// distributions, annotator agreement, unreadable lines, and the top suspects with both responses side by side.
struct AuditReport {
    let page: HTMLPage

    /// - Parameter texts: the texts of the ``topSuspects(_:)``, by line.
    init(_ result: AuditResult, texts: [Int: PairTexts]) {
        var page = HTMLPage(title: "Charter audit: \(result.file)")
        page.heading("Data audit: \(result.file)")
        page.paragraph("\(result.pairs.count) readable \(result.type.rawValue) pairs (\(result.format.rawValue)), \(result.unreadable.count) unreadable lines, "
                       + "\(result.evidence.count) pairs flagged (\(Self.percent(result.evidence.count, of: result.pairs.count))). "
                       + (result.rewardModels == nil ? "Model-free findings only (no reward models given); " : "Model-free and reward-model findings; ")
                       + "every flagged pair is in findings.jsonl with its evidence and stable pair id.")
        let counts = result.counts
        page.table(header: ["finding", "pairs", "share", "what it means"],
                   rows: counts.map { [$0.kind.rawValue, "\($0.pairs)", Self.percent($0.pairs, of: result.pairs.count), $0.kind.explanation] },
                   caption: "Pairs flagged per finding (a pair can have several)")
        page.chart(SVGChart.bars(title: "Pairs flagged per finding", groups: counts.map { Self.shortName($0.kind) },
                                 series: [SVGChart.BarSeries("pairs", values: counts.map { Double($0.pairs) })], yLabel: "pairs", height: 320))

        page.heading("Length bias", level: 2)
        let bias = result.lengthBias
        var sentence = "The chosen response is the longer one in \(bias.chosenLonger) of \(bias.comparablePairs) pairs whose responses differ in length "
            + "(\(Self.percent(bias.chosenLonger, of: bias.comparablePairs)); 50% would be no length preference)."
        if let correlation = bias.marginCorrelation {
            sentence += String(format: " The label margin correlates with the length difference at r = %.3f over %d pairs with a margin.", correlation, bias.pairsWithMargin)
        } else {
            sentence += " No label margins (scores or soft labels) to correlate with length."
        }
        page.paragraph(sentence)
        page.chart(SVGChart.histogram(title: "log₂(chosen length / rejected length): right of 0, chosen is longer",
                                      series: [("pairs", bias.logLengthRatios)], lower: -4, upper: 4, bins: 16))

        if !result.positionBias.principles.isEmpty {
            page.heading("Position bias of AI labels", level: 2)
            page.paragraph("Share of each principle's judgements whose verdict flipped when the responses swapped places (asked in both orders). "
                           + "A flip means the feedback model preferred a position rather than a response; 0% is no position bias.")
            let principles = result.positionBias.principles
            page.chart(SVGChart.bars(title: "Flip rate per principle", groups: principles.map(\.id),
                                     series: [SVGChart.BarSeries("flip rate", values: principles.map(\.flipRate))],
                                     yLabel: "judgements flipped", yAxis: ChartAxis(lower: 0, upper: 1, step: 0.25, percent: true)))
            page.table(header: ["principle", "judgements", "flips", "flip rate"],
                       rows: principles.map { [$0.id, "\($0.judgements)", "\($0.flips)", Self.percent($0.flips, of: $0.judgements)] })
        }
        let soft = result.pairs.compactMap(\.chosenProbability)
        if !soft.isEmpty {
            page.heading("Soft labels", level: 2)
            page.paragraph("chosen_probability of \(soft.count) pairs; those within \(result.configuration.lowConfidenceMargin) of ½ are flagged low_confidence.")
            page.chart(SVGChart.histogram(title: "chosen_probability", series: [("pairs", soft)], lower: 0, upper: 1, bins: 10))
        }
        if let annotators = result.annotators {
            page.heading("Annotator agreement", level: 2)
            let alpha = annotators.alpha.map { String(format: "%.3f", $0) } ?? "undefined (one value only)"
            let anonymous = annotators.anonymousJudgements > 0
                ? " \(annotators.anonymousJudgements) judgements name no annotator (HelpSteer2 and HelpSteer3 publish none): they count in every statistic but have no row below." : ""
            page.paragraph("\(annotators.units) pairs labelled by two or more judgements (\(annotators.judgements) judgements, \(annotators.tieJudgements) of them ties), "
                           + "\(annotators.disagreeingUnits) of them not unanimous. Krippendorff's alpha (nominal; ties a third value): \(alpha) — 1 is perfect agreement, "
                           + "0 is chance. Entropy 0 bits is unanimous, 1 bit an even two-way split, log₂ 3 ≈ 1.58 an even three-way split." + anonymous)
            let upper = annotators.tieJudgements > 0 ? log2(3.0) : 1
            page.chart(SVGChart.histogram(title: "Per-pair entropy of the annotators' preference (bits)", series: [("pairs", annotators.entropies)], lower: 0, upper: upper, bins: 5))
            page.table(header: ["annotator", "judgements", "compared with the others' plurality", "agreement"],
                       rows: annotators.annotators.map { [$0.name, "\($0.judgements)", "\($0.compared)", $0.agreement.map { String(format: "%.1f%%", 100 * $0) } ?? "–"] })
        }
        if let models = result.rewardModels { Self.rewardModels(models, pairs: result.pairs.count, into: &page) }
        if let judge = result.judge { Self.judge(judge, into: &page) }
        if !result.unreadable.isEmpty {
            page.heading("Unreadable lines", level: 2)
            page.table(header: ["line", "error"], rows: result.unreadable.prefix(100).map { ["\($0.line)", $0.description] },
                       caption: result.unreadable.count > 100 ? "The first 100 of \(result.unreadable.count) (all in audit.json)" : nil)
        }
        Self.suspects(result, texts: texts, into: &page)
        self.page = page
    }

    /// The reward models, their agreement with the labels, and the distribution of their preference for chosen.
    static func rewardModels(_ summary: RewardModelSummary, pairs: Int, into page: inout HTMLPage) {
        page.heading("Reward-model findings", level: 2)
        var text: String
        switch summary.source {
        case let .crossFitted(base, folds, repeats, _, _):
            text = "Cross-fitted ensemble (Wang et al. 2024, \"Secrets of RLHF Part II\"): pairs split into \(folds) folds by prompt, \(repeats) "
                + "random split\(repeats == 1 ? "" : "s"); each reward model trained from \(base.lastPathComponent) on the other folds and scoring only its own, "
                + "so every pair is scored by \(repeats) model\(repeats == 1 ? "" : "s") that never saw it."
        case let .given(folders):
            text = "\(folders.count) given reward model\(folders.count == 1 ? "" : "s") scored every pair."
        }
        text += " \(summary.scoredPairs) of \(pairs) pairs scored (\(summary.unscoredPairs) too long for the context)."
            + (summary.reference.map { reference in
                String(format: " Suspected mislabel: the mean of the models' mean P(chosen ≻ rejected) and the reference model's relevance vote ≤ %.2f (%d pairs). ",
                       1 - summary.mislabelConfidence, summary.suspectedMislabels)
                    + "The reference model (\(reference.reference.model.path)) scored each response's log-likelihood under its own prompt minus "
                    + "its mean under \(reference.reference.otherPrompts) other pairs' prompts; the chosen response's minus the rejected one's, g, votes "
                    + String(format: "σ(g / %g) for chosen (%d of %d pairs; the others are judged by the reward models alone). ",
                             reference.reference.scale, reference.scoredPairs, summary.scoredPairs)
            } ?? String(format: " Suspected mislabel: mean P(chosen ≻ rejected) ≤ %.2f (%d pairs). ", 1 - summary.mislabelConfidence, summary.suspectedMislabels))
            + "Both bad: both rewards below the midpoint of the model's median chosen and median rejected reward, for more than half of the models (\(summary.bothBad) pairs)."
            + String(format: " Training and scoring took %.0f s.", summary.seconds)
        page.paragraph(text)
        let atChance = summary.models.filter { ($0.agreement ?? 0) <= 0.5 + TrainingChecks.chanceMargin }
        if !atChance.isEmpty {
            page.warning("\(atChance.count) of \(summary.models.count) reward models agree with the labels on at most "
                         + String(format: "%.0f%%", 100 * (0.5 + TrainingChecks.chanceMargin)) + " of the pairs they scored ("
                         + atChance.map { "\($0.name): " + ($0.agreement.map { String(format: "%.1f%%", 100 * $0) } ?? "no pairs") }.joined(separator: ", ")
                         + "): at chance, so their scores give no findings. Train longer, start from a stronger model, or check the labels.")
        }
        page.table(header: ["model", "training pairs", "scored pairs", "agrees with the label", "low threshold", "seconds"],
                   rows: summary.models.map { [$0.name, "\($0.trainingPairs)", "\($0.scoredPairs)",
                                               $0.agreement.map { String(format: "%.1f%%", 100 * $0) } ?? "–",
                                               String(format: "%.3f", $0.lowThreshold), String(format: "%.0f", $0.seconds)] })
        page.chart(SVGChart.histogram(title: "Mean P(chosen ≻ rejected) under the reward models (left: the models prefer rejected)",
                                      series: [("pairs", summary.chosenPreferences)], lower: 0, upper: 1, bins: 10))
    }

    /// The AI judge's grading of single responses.
    static func judge(_ summary: JudgeSummary, into page: inout HTMLPage) {
        page.heading("AI judge", level: 2)
        page.paragraph("\(summary.model) graded each response of \(summary.judgedPairs) of \(summary.totalPairs) pairs on its own: harmful? unhelpful "
                       + "(refusing a harmless request, evading, answering wrongly)? off topic? Each question was asked with the options (A) Yes / (B) No "
                       + "in both orders and the probabilities of yes averaged, so a judge answering by position gives ½. "
                       + String(format: "A response is bad when any P(yes) exceeds %.2f: ", summary.threshold)
                       + "bad chosen \(summary.badChosen), bad rejected \(summary.badRejected), both bad \(summary.bothBad) pairs (flagged both_bad with the "
                       + "judge's probabilities as evidence)." + String(format: " Judging took %.0f s.", summary.seconds))
        if summary.atChance {
            page.warning("The judge is at chance: only \(summary.decidedResponses) of \(2 * summary.judgedPairs) responses got an answer at least "
                         + String(format: "%.1f", ResponseJudge.decisiveMargin) + " from ½, so its grades are noise and it gave no findings. "
                         + "Use a stronger judge (an instruction-tuned model of several billion parameters, e.g. on a vLLM endpoint).")
        }
        if summary.judgedPairs < summary.totalPairs {
            page.warning("Only the first \(summary.judgedPairs) of \(summary.totalPairs) pairs were judged (--judge-limit); the others have no judge findings.")
        }
    }

    /// The flagged pairs with the most kinds of finding (ties by line), as many as the configuration shows.
    static func topSuspects(_ result: AuditResult) -> [PairEvidence] {
        result.evidence.enumerated().sorted { ($1.element.kinds.count, $0.offset) < ($0.element.kinds.count, $1.offset) }
            .prefix(result.configuration.topSuspects).map(\.element)
    }

    /// Each top suspect with its evidence and both responses side by side.
    static func suspects(_ result: AuditResult, texts: [Int: PairTexts], into page: inout HTMLPage) {
        let top = topSuspects(result)
        guard !top.isEmpty else { return }
        page.heading("Top suspects", level: 2)
        page.paragraph("The \(top.count) flagged pairs with the most kinds of finding; texts cut at 1,500 characters.")
        for record in top {
            guard let pair = texts[record.line] else { continue }
            page.heading("Line \(record.line) · pair \(record.pairID) · \(record.kinds.map(\.rawValue).joined(separator: ", "))", level: 3)
            page.preformatted(record.findings.map { "\($0.kind.rawValue): \($0.evidence.serialized(.python))" }.joined(separator: "\n"))
            page.preformatted("prompt (end): " + String(pair.prompt.suffix(600)))
            page.table(header: ["chosen", "rejected"], rows: [[String(pair.chosen.prefix(1500)), String(pair.rejected.prefix(1500))]])
        }
    }

    /// A label short enough for 11 bars side by side.
    static func shortName(_ kind: Finding.Kind) -> String {
        switch kind {
        case .exactDuplicate: return "exact dup."
        case .nearDuplicate: return "near dup."
        case .identicalResponses: return "identical"
        case .contradiction: return "contradict."
        case .preferenceCycle: return "cycle"
        case .positionBias: return "position"
        case .lowConfidence: return "low conf."
        case .annotatorDisagreement: return "annotators"
        case .personalData: return "personal"
        case .emptyResponse: return "empty"
        case .truncatedResponse: return "truncated"
        case .suspectedMislabel: return "mislabel?"
        case .bothBad: return "both bad"
        }
    }

    static func percent(_ part: Int, of whole: Int) -> String {
        whole > 0 ? String(format: "%.1f%%", 100 * Double(part) / Double(whole)) : "–"
    }
}
