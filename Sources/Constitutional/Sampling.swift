import Foundation
import LanguageModels
import Runtime
import Settings

/// Settings for sampling responses from a policy (the `sample` and `sample_pairs` stages, `label --sample-from`).
public struct SampleConfiguration: KeyedSettings, Equatable, Sendable {
    /// Responses per prompt (k ≥ 2 for pairs: every two of them form a pair).
    public var k = 2
    public var prompting = PromptingStyle.transcript
    public var seed: UInt64 = 0
    public var sampling = SamplingOptions(maximumTokens: 256, temperature: 1)

    public init() {}
    public init(k: Int) { self.k = k }

    public static var fields: [SettingsField<Self>] {
        [.init("k", \.k, where: .from(1, to: 256)), .init("prompting", \.prompting), .init("seed", \.seed), .init("sampling", \.sampling)]
    }
}

/// k sampled responses to one prompt, with how they were made. With k = 1 it is also a TRL prompt–completion line
/// (`completion`); with k ≥ 2 `charter label` reads `responses` as pairs.
public struct SampleRecord: Codable, Equatable, Sendable {
    public var id: String
    public var prompt: PromptValue
    public var responses: [String]
    public var completion: PromptValue?
    public var seeds: [UInt64]
    public var model: String
    public var prompting: PromptingStyle
    public var sampling: SamplingOptions
}

/// Samples k responses per prompt, each with its own seed derived from the item id.
public struct ResponseSampler: Sendable {
    public let configuration: SampleConfiguration

    public init(configuration: SampleConfiguration) throws {
        guard configuration.k >= 1 else { throw ConstitutionalError("k must be at least 1, got \(configuration.k)") }
        try configuration.checkRanges()
        self.configuration = configuration
    }

    public func run(_ item: PromptItem, model: any LanguageModel) async throws -> SampleRecord {
        var responses: [String] = [], seeds: [UInt64] = []
        for index in 0..<configuration.k {
            let seed = ItemRandom.seed(configuration.seed, item.id, "sample-\(index)")
            let completion: Completion
            switch configuration.prompting {
            case .transcript:
                completion = try await model.complete(CompletionRequest(
                    prompt: CritiquePrompts.responsePrompt(item.conversation),
                    options: configuration.sampling.with(seed: seed, stop: ["\n\nHuman:", "\n\nAssistant:"])))
            case .chat:
                completion = try await model.chat(ChatRequest(messages: item.conversation, options: configuration.sampling.with(seed: seed, stop: [])))
            }
            // The turn's content, as a transcript or chat message holds it: transcript prompting generates " I can't…"
            // after "Assistant:", and the space is the format's, not the response's (`PromptValue.response` writes it
            // back into `completion` and into label records).
            responses.append(completion.text.trimmingCharacters(in: .whitespacesAndNewlines))
            seeds.append(seed)
        }
        let completion: PromptValue? = configuration.k == 1 ? item.prompt.response(responses[0]) : nil
        return SampleRecord(id: item.id, prompt: item.prompt, responses: responses, completion: completion, seeds: seeds,
                            model: model.name, prompting: configuration.prompting, sampling: configuration.sampling)
    }
}
