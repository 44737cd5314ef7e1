import Foundation
import LanguageModels
import Settings
import Runtime

/// Settings of supervised CAI's critique → revision loop (Bai et al. 2022, §3).
public struct CritiqueConfiguration: KeyedSettings, Equatable, Sendable {
    /// Critique–revision rounds per prompt, each with a freshly sampled principle (the paper uses up to 4).
    public var rounds = 4
    public var prompting = PromptingStyle.transcript
    /// Few-shot critique examples shown (nil: all of the constitution's).
    public var fewShot: Int?
    /// Seeds principle choice and sampling per item (with the item id).
    public var seed: UInt64 = 0
    public var sampling = SamplingOptions(maximumTokens: 256, temperature: 0.7)

    public init() {}

    public static var fields: [SettingsField<Self>] {
        [.init("rounds", \.rounds, where: .from(1, to: 16)), .init("prompting", \.prompting),
         .init("few_shot", \.fewShot, where: .from(0, to: 64), omitsNil: true),
         .init("seed", \.seed), .init("sampling", \.sampling)]
    }
}

/// One critique → revision round of the audit trail.
public struct RevisionRound: Codable, Equatable, Sendable {
    public var round: Int
    public var principleID: String
    public var critiqueRequest: String
    public var critique: String
    public var revisionRequest: String
    public var revision: String
    public var critiqueSeed: UInt64
    public var revisionSeed: UInt64

    enum CodingKeys: String, CodingKey {
        case round, principleID = "principle_id", critiqueRequest = "critique_request", critique
        case revisionRequest = "revision_request", revision, critiqueSeed = "critique_seed", revisionSeed = "revision_seed"
    }
}

/// The audit record of one prompt: every text the model wrote, which principle each round used, and how the model
/// was called — enough for a reviewer to read and to reproduce the item.
public struct RevisionRecord: Codable, Equatable, Sendable {
    public var id: String
    public var prompt: PromptValue
    public var initialResponse: String
    /// The seed of the initial response; nil when the response came with the prompt (e.g. from a `sample` stage).
    public var initialSeed: UInt64?
    public var rounds: [RevisionRound]
    public var finalRevision: String
    public var model: String
    public var prompting: PromptingStyle
    public var sampling: SamplingOptions
    public var fewShot: Int
    public var constitution: String

    enum CodingKeys: String, CodingKey {
        case id, prompt, initialResponse = "initial_response", initialSeed = "initial_seed", rounds
        case finalRevision = "final_revision", model, prompting, sampling, fewShot = "few_shot", constitution
    }
}

/// Supervised CAI (Bai et al. 2022, §3.1): a helpful model answers a red-team prompt, then repeatedly critiques
/// its latest response by a sampled principle and revises it. Each round critiques the previous round's revision
/// (the conversation's assistant turn is replaced by it), so prompts stay short however many rounds run.
public struct CritiqueRevision: Sendable {
    public let constitution: Constitution
    public let configuration: CritiqueConfiguration
    let principles: [Principle]
    let examples: [CritiqueExample]

    /// - Throws: ``ConstitutionalError`` when the constitution has no critique principle or rounds < 1.
    public init(constitution: Constitution, configuration: CritiqueConfiguration) throws {
        guard configuration.rounds >= 1 else { throw ConstitutionalError("rounds must be at least 1, got \(configuration.rounds)") }
        try configuration.checkRanges()
        principles = constitution.critiquePrinciples
        guard !principles.isEmpty else {
            throw ConstitutionalError("constitution \(constitution.label) has no principle with critique_request and revision_request")
        }
        self.constitution = constitution
        self.configuration = configuration
        examples = Array(constitution.critiqueExamples.prefix(configuration.fewShot ?? .max))
    }

    /// The principle ids used by item `id`, one per round (seeded by the item, with replacement, by weight).
    public func principleIDs(for id: String) -> [String] {
        var random = ItemRandom(seed: configuration.seed, id: id, purpose: "principles")
        return (0..<configuration.rounds).map { _ in principles[random.weightedIndex(principles.map(\.samplingWeight))].id }
    }

    /// Runs the initial response (unless the item brings one) and every round for one prompt.
    public func run(_ item: PromptItem, model: any LanguageModel) async throws -> RevisionRecord {
        let seed = configuration.seed
        var initialSeed: UInt64?
        let initial: String
        if let given = item.response {
            initial = given
        } else {
            let seed = ItemRandom.seed(seed, item.id, "initial")
            initialSeed = seed
            initial = try await generate(model, transcript: CritiquePrompts.responsePrompt(item.conversation), messages: item.conversation, seed: seed)
        }
        var current = initial
        var rounds: [RevisionRound] = []
        for (index, principleID) in principleIDs(for: item.id).enumerated() {
            guard let principle = principles.first(where: { $0.id == principleID }),
                let critiqueRequest = principle.critiqueRequest, let revisionRequest = principle.revisionRequest
            else { preconditionFailure("critique principle \(principleID) lost its requests") }
            let conversation = item.conversation + [ChatMessage(role: "assistant", content: current)]
            let critiqueSeed = ItemRandom.seed(seed, item.id, "round-\(index + 1)-critique")
            let revisionSeed = ItemRandom.seed(seed, item.id, "round-\(index + 1)-revision")
            let critiqueTranscript = CritiquePrompts.critiquePrompt(examples: examples, conversation: conversation, request: critiqueRequest)
            let critiqueMessages = CritiquePrompts.critiqueMessages(examples: examples, conversation: conversation, request: critiqueRequest)
            let critique = try await generate(model, transcript: critiqueTranscript, messages: critiqueMessages, seed: critiqueSeed)
            let revision = try await generate(
                model, transcript: CritiquePrompts.revisionPrompt(critiquePrompt: critiqueTranscript, critique: critique, request: revisionRequest),
                messages: CritiquePrompts.revisionMessages(critiqueMessages: critiqueMessages, critique: critique, request: revisionRequest),
                seed: revisionSeed)
            rounds.append(RevisionRound(round: index + 1, principleID: principleID, critiqueRequest: critiqueRequest, critique: critique,
                                        revisionRequest: revisionRequest, revision: revision, critiqueSeed: critiqueSeed, revisionSeed: revisionSeed))
            current = revision
        }
        return RevisionRecord(id: item.id, prompt: item.prompt, initialResponse: initial, initialSeed: initialSeed, rounds: rounds,
                              finalRevision: current, model: model.name, prompting: configuration.prompting,
                              sampling: configuration.sampling, fewShot: examples.count, constitution: constitution.label)
    }

    /// One generated turn, trimmed, in the configured prompting style.
    func generate(_ model: any LanguageModel, transcript: String, messages: [ChatMessage], seed: UInt64) async throws -> String {
        let completion: Completion
        switch configuration.prompting {
        case .transcript:
            completion = try await model.complete(CompletionRequest(prompt: transcript, options: configuration.sampling.with(seed: seed, stop: CritiquePrompts.stops)))
        case .chat:
            completion = try await model.chat(ChatRequest(messages: messages, options: configuration.sampling.with(seed: seed, stop: [])))
        }
        return completion.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
