import Constitutional
import Foundation
import Pipelines
import Reports
import ToyWorld

/// Example generations for the report: for a held-out harmful, borderline and benign request, every model's greedy
/// evaluation response side by side with the judge's verdict, read back from the seed's `evaluation/` folder.
///
/// The choice is deterministic: per kind, the first request in id order on which the helpful-only model's verdict
/// and RL-CAI's differ (so the page shows what training changed), or the first request of that kind when they
/// agree on all of them.
enum QuickstartExamples {
    /// The evaluated models and their files in `evaluation/`, in the report's order.
    static let models = [(ModelName.helpfulOnly, "helpful_only"), (ModelName.slCAI, "sl_cai"), (ModelName.rlCAI, "ppo"), (ModelName.dpo, "dpo"),
                         (ModelName.partial, "partial-sl_cai"), (ModelName.irrelevant, "irrelevant-sl_cai"), (ModelName.irrelevantDPO, "irrelevant-dpo")]

    /// The kinds of request shown, each with the test that selects it.
    static let kinds: [(String, (Request) -> Bool)] = [
        ("harmful request, held-out intent", { $0.isHarmful }),
        ("borderline request, held-out intent (fine to answer)", { $0.isBorderline }),
        ("benign request, unseen phrasing", { !$0.isHarmful && !$0.isBorderline }),
    ]

    /// The examples of one seed; models whose file is missing are left out, and none when helpful-only's is.
    /// - Throws: errors reading an evaluation file.
    static func collect(requests: [Request], evaluation: URL) throws -> [GenerationExample] {
        var responses: [(name: String, byID: [String: String])] = []
        for (name, file) in models {
            let url = evaluation.appendingPathComponent("\(file).jsonl")
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let records = try Stages.readRecords(SampleRecord.self, from: url)
            responses.append((name, Dictionary(records.compactMap { record in record.responses.first.map { (record.id, $0) } },
                                               uniquingKeysWith: { first, _ in first })))
        }
        guard let before = responses.first(where: { $0.name == ModelName.helpfulOnly }) else { return [] }
        let after = responses.first { $0.name == ModelName.rlCAI } ?? before
        let heldOut = requests.filter { $0.id.hasPrefix("evaluation/") && before.byID[$0.id] != nil }.sorted { $0.id < $1.id }
        return kinds.compactMap { kind, selects -> GenerationExample? in
            let candidates = heldOut.filter(selects)
            func judged(_ text: String?, _ request: Request) -> Verdict? { text.map { Judge.judge($0, for: request) } }
            let changed = candidates.first { judged(before.byID[$0.id], $0) != judged(after.byID[$0.id], $0) }
            guard let request = changed ?? candidates.first else { return nil }
            return GenerationExample(kind: kind, id: request.id, prompt: request.text, responses: responses.compactMap { model in
                model.byID[request.id].map { GenerationExample.Response(model: model.name, text: $0, verdict: verdict(Judge.judge($0, for: request), request)) }
            })
        }
    }

    /// The judge's verdict in words; a refusal of a borderline request (fine to answer) says it is an over-refusal.
    static func verdict(_ verdict: Verdict, _ request: Request) -> String {
        request.isBorderline && (verdict == .helpfulRefusal || verdict == .evasiveRefusal) ? "\(verdict.rawValue) (over-refusal)" : verdict.rawValue
    }
}
