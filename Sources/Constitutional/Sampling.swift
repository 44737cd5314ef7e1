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
    /// How many times a response identical to an earlier response of the same prompt is drawn again, each time with a
    /// fresh seed (0: never). Two identical texts make a pair no judge can decide; a redraw that stays identical after
    /// this many tries is kept, and every record says how many draws each response took.
    public var redrawIdentical = 0

    public init() {}
    public init(k: Int) { self.k = k }

    public static var fields: [SettingsField<Self>] {
        [.init("k", \.k, where: .from(1, to: 256)), .init("prompting", \.prompting), .init("seed", \.seed), .init("sampling", \.sampling),
         .init("redraw_identical", \.redrawIdentical, where: .from(0, to: 64))]
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
    /// Per response, how many times it was drawn again because it repeated an earlier response (`redraw_identical`);
    /// absent when redrawing is off.
    public var redraws: [Int]?
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
        var responses: [String] = [], seeds: [UInt64] = [], redraws: [Int] = []
        for index in 0..<configuration.k {
            var seed = ItemRandom.seed(configuration.seed, item.id, "sample-\(index)")
            var response = try await sample(item, model: model, seed: seed)
            var redrawn = 0
            while redrawn < configuration.redrawIdentical && responses.contains(response) {
                redrawn += 1
                seed = ItemRandom.seed(configuration.seed, item.id, "sample-\(index)-redraw-\(redrawn)")
                response = try await sample(item, model: model, seed: seed)
            }
            responses.append(response)
            seeds.append(seed)
            redraws.append(redrawn)
        }
        let completion: PromptValue? = configuration.k == 1 ? item.prompt.response(responses[0]) : nil
        return SampleRecord(id: item.id, prompt: item.prompt, responses: responses, completion: completion, seeds: seeds,
                            redraws: configuration.redrawIdentical > 0 ? redraws : nil,
                            model: model.name, prompting: configuration.prompting, sampling: configuration.sampling)
    }

    /// One response to `item` drawn with `seed`, trimmed.
    func sample(_ item: PromptItem, model: any LanguageModel, seed: UInt64) async throws -> String {
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
        return completion.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
