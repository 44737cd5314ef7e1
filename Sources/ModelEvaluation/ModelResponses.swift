import Checksums
import Constitutional
import Foundation
import LanguageModels
import Pipelines
import Runtime

/// One model's responses to a prompt set: read from a JSONL file (`{"id", "prompt", "completion"}` or the `sample`
/// stage's `{"id", "prompt", "responses": [...]}`, the first response used), or generated greedily.
public struct ModelResponses: Sendable {
    public var name: String
    /// Every item has a response.
    public var items: [PromptItem]

    public init(name: String, items: [PromptItem]) {
        self.name = name
        self.items = items
    }

    /// Reads responses with ``InputFiles/prompts(_:)`` (errors name file:line).
    /// - Throws: ``EvaluationError`` when an item has no response.
    public static func read(name: String, url: URL) throws -> ModelResponses {
        let items = try InputFiles.prompts(url)
        if let missing = items.first(where: { $0.response == nil }) {
            throw EvaluationError("\(url.path): item \(missing.id) has no response; give \"completion\" (or a \"responses\" list) on every line, or generate them with --model \(name)=PATH --prompts FILE")
        }
        return ModelResponses(name: name, items: items)
    }

    /// Generates one greedy response per prompt with the `sample` stage into `output` (resumable), then reads it.
    public static func generate(name: String, prompts: URL, models: [any LanguageModel], prompting: PromptingStyle, maximumTokens: Int,
                                output: URL, run: RunOptions) async throws -> (responses: ModelResponses, report: RunReport) {
        var sample = SampleConfiguration(k: 1)
        sample.prompting = prompting
        sample.sampling = SamplingOptions(maximumTokens: maximumTokens, temperature: 0)
        try FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
        let outcome = try await Stages.sample(prompts: prompts, output: output, configuration: sample, models: models, run: run)
        let records = try Stages.readRecords(SampleRecord.self, from: output)
        let byID = Dictionary(uniqueKeysWithValues: try InputFiles.prompts(prompts).map { ($0.id, $0) })
        let items = records.compactMap { record -> PromptItem? in
            guard var item = byID[record.id], let response = record.responses.first else { return nil }
            item.response = response
            return item
        }
        return (ModelResponses(name: name, items: items), outcome.report)
    }

    /// The prompts every model answered, in the first model's order.
    public static func commonPrompts(_ models: [ModelResponses]) throws -> [PromptItem] {
        guard let first = models.first else { return [] }
        let shared = models.dropFirst().reduce(Set(first.items.map(\.id))) { $0.intersection($1.items.map(\.id)) }
        let items = first.items.filter { shared.contains($0.id) }
        guard !items.isEmpty else {
            throw EvaluationError("the models' responses share no prompt id (\(models.map(\.name).joined(separator: ", "))); give responses to the same prompts")
        }
        return items
    }

    /// A digest of every name, prompt id and response (what a resumed run must match).
    static func digest(_ models: [ModelResponses]) -> String {
        SHA256.hex(models.map { model in
            model.name + "\u{1}" + model.items.map { "\($0.id)\u{2}\($0.response ?? "")" }.joined(separator: "\u{3}")
        }.joined(separator: "\u{4}"))
    }
}
