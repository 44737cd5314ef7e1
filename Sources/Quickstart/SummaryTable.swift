import Foundation
import Reports
import ToyWorld

/// The results as tables: per model, the held-out rates (mean over seeds with the 95% t-interval), label quality,
/// and the claims with their evidence. The terminal prints them; the report shows the same rows as HTML tables.
public enum SummaryTable {
    /// The models of the main table, in order.
    static let tableModels = [ModelName.helpfulOnly, ModelName.slCAI, ModelName.rlCAI, ModelName.dpo, ModelName.onlineDPO,
                              ModelName.partial, ModelName.irrelevant, ModelName.irrelevantDPO]

    static let columns: [(String, (ModelResult) -> Double)] = [
        ("harmful compliance", { $0.rates.harmfulCompliance }), ("helpful refusal", { $0.rates.helpfulRefusal }),
        ("evasive refusal", { $0.rates.evasiveRefusal }), ("over-refusal (borderline)", \.overRefusal),
        ("borderline answered (seen intents)", \.borderlineAccuracy), ("benign accuracy", { $0.rates.benignAccuracy }),
        ("benign, unseen phrasing", \.benignAccuracyUnseenPhrasing),
    ]

    /// Header and rows of the model table.
    static func modelRows(_ results: QuickstartResults) -> (header: [String], rows: [[String]]) {
        let names = tableModels.filter { name in results.seeds.contains { $0.model(name) != nil } }
        let rows = names.map { name in
            [name] + columns.map { column in TableText.percent95(results.seeds.compactMap { $0.model(name).map(column.1) }) }
        }
        return (["model"] + columns.map(\.0), rows)
    }

    /// Header and rows of the label-quality table.
    static func labelRows(_ results: QuickstartResults) -> (header: [String], rows: [[String]]) {
        var rows: [[String]] = []
        func row(_ name: String, _ qualities: [LabelQuality]) {
            guard !qualities.isEmpty else { return }
            rows.append([name, TableText.percent95(qualities.map(\.decidableRate)), TableText.percent95(qualities.map(\.agreement)),
                         TableText.percent95(qualities.map(\.positionBiasRate)), TableText.percent95(qualities.map(\.decidablePositionBiasRate)),
                         TableText.percent95(qualities.map(\.harmfulAgreement)),
                         TableText.percent95(qualities.map(\.borderlineAgreement))])
        }
        row("direct (trained on)", results.seeds.map(\.labels))
        let sizes = Set(results.seeds.flatMap(\.labels.agreementByEnsembleSize.keys)).sorted()
        for size in sizes where size < (sizes.last ?? 0) {
            rows.append(["direct, first \(size) principle\(size == 1 ? "" : "s") only", "", TableText.percent95(results.seeds.compactMap { $0.labels.agreementByEnsembleSize[size] }), "", "", "", ""])
        }
        row("chain of thought (clamped)", results.seeds.compactMap(\.chainOfThoughtLabels))
        row("irrelevant constitution", results.seeds.compactMap(\.irrelevantLabels))
        return (["AI labels", "decidable pairs", "agreement", "position flips", "flips, decidable pairs", "agreement, harmful", "agreement, borderline"], rows)
    }

    /// The constitutions whose critique stages are scored, in table order.
    static let critiqueConstitutions = [("full", "full"), ("partial", "partial (two categories)"), ("irrelevant", "irrelevant (style only)")]

    /// Header and rows of the critique table: each critique stage's critiques against the world's rule.
    static func critiqueRows(_ results: QuickstartResults) -> (header: [String], rows: [[String]]) {
        let rows = critiqueConstitutions.compactMap { key, name -> [String]? in
            let qualities = results.seeds.compactMap { $0.critiques?[key] }
            guard !qualities.isEmpty else { return nil }
            return [name, String(Int(Statistics.mean(qualities.map { Double($0.critiques) }).rounded())), TableText.percent95(qualities.map(\.categoryNamed)),
                    TableText.percent95(qualities.map(\.decisionAgreement)), TableText.percent95(qualities.map(\.wrongObjections)),
                    TableText.percent95(qualities.map(\.missedObjections))]
        }
        return (["critiques, constitution", "rounds per seed", "category named", "decision as the world's", "wrong objections", "missed objections"], rows)
    }

    /// Online DPO against PPO and DPO, paired by seed (nothing when the run had no online DPO stage).
    static func onlineDPOComparison(_ results: QuickstartResults) -> [String] {
        guard results.seeds.contains(where: { $0.model(ModelName.onlineDPO) != nil }) else { return [] }
        let metrics: [(String, (ModelResult) -> Double)] = [("harmful compliance", { $0.rates.harmfulCompliance }),
                                                             ("evasiveness", { $0.evasiveness }), ("benign accuracy", { $0.rates.benignAccuracy })]
        return [ModelName.rlCAI, ModelName.slCAI, ModelName.dpo].map { other in
            "online DPO − \(other), paired: " + metrics.map { "\($0.0) \(Claims.percent(Claims.difference(results.seeds, ModelName.onlineDPO, other, $0.1)))" }
                .joined(separator: "; ")
        }
    }

    public static func render(_ results: QuickstartResults) -> String {
        var lines = ["Judged by the toy world's ground truth; seed\(results.seeds.count == 1 ? "" : "s") \(results.seeds.map { String($0.seed) }.joined(separator: ", ")); mean [95% interval over seeds]",
                     "kernel path \(results.machine.kernelPath), \(results.machine.cpu), \(results.machine.threads) threads", ""]
        func table(_ header: [String], _ rows: [[String]]) { lines.append(TableText.render(header: header, rows: rows)) }
        let models = modelRows(results)
        table(models.header, models.rows)
        lines.append("harmful columns: held-out harmful intents; over-refusal: \(results.configuration.borderlineHoldout.heldOutRequests) (fine to answer); borderline answered: fresh requests of the borderline training intents;")
        lines.append("benign accuracy: benign requests in training phrasings; unseen phrasing: each benign intent's held-out phrasing.")
        lines.append(contentsOf: onlineDPOComparison(results))
        lines.append("")
        let labels = labelRows(results)
        table(labels.header, labels.rows)
        let critiques = critiqueRows(results)
        if !critiques.rows.isEmpty { table(critiques.header, critiques.rows) }
        for claim in results.claims {
            lines.append("Claim \(claim.id), \(claim.title): \(claim.conclusion)")
            for line in claim.evidence { lines.append("    \(line)") }
        }
        for check in QuickstartReport.checks(results) where check.failed { lines.append("WARNING: \(check.warning)") }
        lines.append(results.timeDescription)
        return lines.joined(separator: "\n")
    }
}
