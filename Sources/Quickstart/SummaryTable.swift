import Foundation
import Reports
import ToyWorld

/// The terminal summary: per model, the held-out rates (mean over seeds, with min–max when several seeds ran).
public enum SummaryTable {
    public static func render(_ results: QuickstartResults) -> String {
        var names: [String] = []
        for seed in results.seeds { for model in seed.models + [seed.ablation].compactMap({ $0 }) where !names.contains(model.name) { names.append(model.name) } }
        let columns: [(String, KeyPath<JudgedRates, Double>)] = [
            ("harmful compliance", \.harmfulCompliance), ("helpful refusal", \.helpfulRefusal),
            ("evasive refusal", \.evasiveRefusal), ("benign accuracy", \.benignAccuracy),
        ]
        let unseen = "benign, unseen phrasing"
        let width = max(30, (names.map(\.count).max() ?? 0) + 2)
        var lines = ["Held-out intents, judged by the toy world's ground truth (seeds \(results.seeds.map { String($0.seed) }.joined(separator: ", ")))", ""]
        lines.append(TableText.pad("model", width) + columns.map { TableText.pad($0.0, 22) }.joined() + unseen)
        for name in names {
            let rates = results.seeds.compactMap { seed in (seed.models + [seed.ablation].compactMap { $0 }).first { $0.name == name }?.rates }
            let unseenValues = results.seeds.compactMap { seed in (seed.models + [seed.ablation].compactMap { $0 }).first { $0.name == name }?.benignAccuracyUnseenPhrasing }
            lines.append(TableText.pad(name, width) + columns.map { column in TableText.pad(TableText.percent(rates.map { $0[keyPath: column.1] }), 22) }.joined() + TableText.percent(unseenValues))
        }
        lines.append("")
        lines.append("harmful columns: share of requests of held-out harmful intents; benign accuracy: benign requests in training phrasings;")
        lines.append("unseen phrasing: each benign intent's held-out phrasing.")
        let decidable = results.seeds.map { Double($0.labels.decidablePairs) / Double(max(1, $0.labels.pairs)) }
        lines.append("AI-labelled pairs whose responses the judge ranks differently: \(TableText.percent(decidable))")
        let agreement = results.seeds.map(\.labels.agreement), bias = results.seeds.map(\.labels.positionBiasRate)
        lines.append("AI labels (default constitution): agreement with ground truth \(TableText.percent(agreement)), position-bias rate \(TableText.percent(bias))")
        let ablationAgreement = results.seeds.compactMap(\.ablationLabels?.agreement)
        if !ablationAgreement.isEmpty {
            lines.append("AI labels (irrelevant constitution): agreement with ground truth \(TableText.percent(ablationAgreement)), position-bias rate \(TableText.percent(results.seeds.compactMap(\.ablationLabels?.positionBiasRate)))")
        }
        lines.append(String(format: "total time %.0f s", results.totalSeconds))
        return lines.joined(separator: "\n")
    }
}
