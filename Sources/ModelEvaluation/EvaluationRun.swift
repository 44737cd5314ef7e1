import Checksums
import Constitutional
import Foundation
import LanguageModels
import Pipelines
import Runtime

/// The resumable item runs behind `charter evaluate`: each judges or scores items with ``ItemRunner`` into an
/// append-only JSONL file (re-running resumes; a run started with other settings is refused, as the other batch
/// commands refuse it) and returns the finished records in input order.
public enum EvaluationRun {
    /// Judges every two models' responses to every shared prompt (A = the earlier model in `models`, both orders
    /// asked) into `output`.
    public static func battles(models: [ModelResponses], judge: PairwiseJudge, judges: [any LanguageModel], output: URL,
                               run: RunOptions) async throws -> (report: RunReport, battles: [Battle]) {
        guard models.count >= 2 else { throw EvaluationError("a comparison needs at least two models, got \(models.count)") }
        guard Set(models.map(\.name)).count == models.count else { throw EvaluationError("model names must be unique: \(models.map(\.name).joined(separator: ", "))") }
        let prompts = try ModelResponses.commonPrompts(models)
        let responses = models.map { model in Dictionary(uniqueKeysWithValues: model.items.map { ($0.id, $0.response ?? "") }) }
        var items: [(id: String, item: BattleItem)] = []
        for prompt in prompts {
            for a in models.indices {
                for b in models.indices where b > a {
                    let item = BattleItem(prompt: prompt, modelA: models[a].name, responseA: responses[a][prompt.id] ?? "",
                                          modelB: models[b].name, responseB: responses[b][prompt.id] ?? "")
                    items.append((PairwiseJudge.battleID(promptID: prompt.id, modelA: item.modelA, modelB: item.modelB), item))
                }
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try Stages.checkResumable(output: output, settings: [
            "configuration": String(decoding: try encoder.encode(judge.feedback.configuration), as: UTF8.self),
            "constitution_sha256": SHA256.hex(try judge.feedback.constitution.yaml()),
            "responses_sha256": ModelResponses.digest(models), "judges": judges.map(\.name).joined(separator: ", "),
        ])
        let report = try await runItems(items, label: "judge", workers: judges, output: output, options: run) { item, model in
            try await judge.judge(prompt: item.prompt, modelA: item.modelA, responseA: item.responseA, modelB: item.modelB,
                                  responseB: item.responseB, judge: model)
        }
        return (report, try Stages.readRecords(Battle.self, from: output))
    }

    struct BattleItem: Sendable {
        var prompt: PromptItem
        var modelA: String
        var responseA: String
        var modelB: String
        var responseB: String
    }

    /// Scores every multiple-choice item into `output`.
    public static func choices(_ items: [ChoiceItem], models: [any LanguageModel], input: URL, output: URL,
                               run: RunOptions) async throws -> (report: RunReport, records: [ChoiceRecord]) {
        try Stages.checkResumable(output: output, settings: ["input_sha256": try SHA256.hex(file: input), "models": models.map(\.name).joined(separator: ", ")])
        let report = try await runItems(items.map { ($0.id, $0) }, label: "choice", workers: models, output: output, options: run) { item, model in
            try await ChoiceEvaluation.score(item, model: model)
        }
        return (report, try Stages.readRecords(ChoiceRecord.self, from: output))
    }

    /// Scores every model's response to every shared prompt on `scorer`'s rubric into `output`.
    public static func rubric(models: [ModelResponses], scorer: RubricScorer, judges: [any LanguageModel], output: URL,
                              run: RunOptions) async throws -> (report: RunReport, records: [RubricRecord]) {
        let prompts = try ModelResponses.commonPrompts(models)
        var items: [(id: String, item: (PromptItem, String, String))] = []
        for model in models {
            let responses = Dictionary(uniqueKeysWithValues: model.items.map { ($0.id, $0.response ?? "") })
            for prompt in prompts { items.append(("\(model.name)/\(prompt.id)", (prompt, responses[prompt.id] ?? "", model.name))) }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try Stages.checkResumable(output: output, settings: [
            "rubric": String(decoding: try encoder.encode(scorer.rubric), as: UTF8.self),
            "responses_sha256": ModelResponses.digest(models), "judges": judges.map(\.name).joined(separator: ", "),
        ])
        let report = try await runItems(items, label: "rubric", workers: judges, output: output, options: run) { item, model in
            try await scorer.score(item.0, response: item.1, modelName: item.2, judge: model)
        }
        return (report, try Stages.readRecords(RubricRecord.self, from: output))
    }

    /// Runs `work` over `items` into `output` (its failures next to it) and sorts the file into input order.
    static func runItems<Item: Sendable, Record: Encodable & Sendable>(
        _ items: [(id: String, item: Item)], label: String, workers: [any LanguageModel], output: URL, options: RunOptions,
        work: @escaping @Sendable (Item, any LanguageModel) async throws -> Record
    ) async throws -> RunReport {
        let log = try ItemLog(url: output)
        let report = try await ItemRunner(options: options, label: label).run(
            items, workers: workers, log: log, failures: try FailureLog(url: Stages.failuresURL(for: output)), work: work)
        try log.sort(by: items.map(\.id))
        return report
    }
}
