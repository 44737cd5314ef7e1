import Foundation
import LanguageModels
import Settings
import Runtime

/// Settings of AI-feedback labelling (RLAIF; Bai et al. 2022, §4).
public struct FeedbackConfiguration: KeyedSettings, Equatable, Sendable {
    /// Principles sampled per pair (without replacement, by weight) and ensembled (§4.1 ensembles over principles).
    public var principlesPerPair = 4
    /// Reason step by step before answering (§4.1 "CoT"); labels are then clamped to [clamp_low, clamp_high].
    public var chainOfThought = false
    public var clampLow = 0.4
    public var clampHigh = 0.6
    /// Ask each question in both orders and average, cancelling position bias (and measuring it).
    public var bothOrders = true
    /// Few-shot comparisons shown (nil: all; chain-of-thought shows only examples with reasoning).
    public var fewShot: Int?
    public var seed: UInt64 = 0
    /// Sampling of chain-of-thought reasoning.
    public var reasoning = SamplingOptions(maximumTokens: 256, temperature: 0)

    public init() {}

    public static var fields: [SettingsField<Self>] {
        [.init("principles_per_pair", \.principlesPerPair, where: .from(1, to: 64)), .init("chain_of_thought", \.chainOfThought),
         .init("clamp_low", \.clampLow, where: .within(0...1)), .init("clamp_high", \.clampHigh, where: .within(0...1)),
         .init("both_orders", \.bothOrders), .init("few_shot", \.fewShot, where: .from(0, to: 64), omitsNil: true),
         .init("seed", \.seed), .init("reasoning", \.reasoning)]
    }
}

/// One question asked in one order.
public struct OrderJudgement: Codable, Equatable, Sendable {
    /// "first-as-A" or "first-as-B".
    public var order: String
    public var logProbabilityA: Double
    public var logProbabilityB: Double
    /// Normalised p(" (A)"), before any clamping.
    public var probabilityA: Double
    /// Probability that the first response is better (clamped in chain-of-thought mode).
    public var probabilityFirst: Double
    public var reasoning: String?

    enum CodingKeys: String, CodingKey {
        case order, logProbabilityA = "logprob_a", logProbabilityB = "logprob_b", probabilityA = "p_a"
        case probabilityFirst = "p_first", reasoning
    }
}

/// One principle's verdict on a pair.
public struct PrincipleJudgement: Codable, Equatable, Sendable {
    public var principleID: String
    public var weight: Double
    public var orders: [OrderJudgement]
    /// Probability that the first response is better, averaged over the orders asked.
    public var probabilityFirst: Double
    /// Whether the preferred response changed with the order (nil when only one order was asked).
    public var flipped: Bool?

    enum CodingKeys: String, CodingKey {
        case principleID = "principle_id", weight, orders, probabilityFirst = "p_first", flipped
    }
}

/// A labelled pair: TRL preference fields (`prompt`, `chosen`, `rejected`), the soft label `chosen_probability`
/// (the ensemble's probability that `chosen` is better, ≥ ½), and the audit trail.
public struct LabelRecord: Codable, Equatable, Sendable {
    public var id: String
    public var prompt: PromptValue
    public var chosen: PromptValue
    public var rejected: PromptValue
    public var chosenProbability: Double
    /// Ensemble probability that the pair's first response is better.
    public var firstProbability: Double
    /// Whether `chosen` is the pair's first response.
    public var chosenIsFirst: Bool
    public var judgements: [PrincipleJudgement]
    /// Judgements whose preferred response flipped with the order.
    public var positionFlips: Int
    public var feedbackModel: String
    public var mode: String
    public var constitution: String

    enum CodingKeys: String, CodingKey {
        case id, prompt, chosen, rejected, chosenProbability = "chosen_probability", firstProbability = "first_probability"
        case chosenIsFirst = "chosen_is_first", judgements, positionFlips = "position_flips", feedbackModel = "feedback_model"
        case mode, constitution
    }
}

/// AI feedback (Bai et al. 2022, §4.1): the feedback model sees the conversation, a comparison principle and the two
/// responses as options (A)/(B); the soft label is the normalised probability of " (A)" vs " (B)".
///
/// The options are scored with ``LanguageModel/score(prompt:completion:)`` — the full log-probability of " (A)" and
/// of " (B)" after the prompt — rather than read from the next token's top log-probs: " (A)" is usually several
/// tokens (" (", "A", ")"), so the first token is the same for both options and carries no preference, and a
/// top-k list may omit one option altogether. Scoring is exact for any tokenizer, locally and on servers that
/// echo prompt log-probs (vLLM, `charter serve`), at the cost of two scoring calls per question.
public struct AIFeedback: Sendable {
    public let constitution: Constitution
    public let configuration: FeedbackConfiguration
    let principles: [Principle]
    let examples: [ComparisonExample]

    /// - Throws: ``ConstitutionalError`` when the constitution has no comparison principle or settings are invalid.
    public init(constitution: Constitution, configuration: FeedbackConfiguration) throws {
        principles = constitution.comparisonPrinciples
        guard !principles.isEmpty else { throw ConstitutionalError("constitution \(constitution.label) has no principle with a comparison question") }
        guard configuration.principlesPerPair >= 1 else {
            throw ConstitutionalError("principles_per_pair must be at least 1, got \(configuration.principlesPerPair)")
        }
        guard 0 <= configuration.clampLow, configuration.clampLow <= configuration.clampHigh, configuration.clampHigh <= 1 else {
            throw ConstitutionalError("clamp_low \(configuration.clampLow) and clamp_high \(configuration.clampHigh) must satisfy 0 ≤ low ≤ high ≤ 1")
        }
        try configuration.checkRanges()
        self.constitution = constitution
        self.configuration = configuration
        let usable = configuration.chainOfThought ? constitution.comparisonExamples.filter { $0.reasoning != nil } : constitution.comparisonExamples
        examples = Array(usable.prefix(configuration.fewShot ?? .max))
    }

    /// The principles asked about pair `id` (seeded by the item; distinct while the constitution has enough).
    public func principleIDs(for id: String) -> [String] {
        var random = ItemRandom(seed: configuration.seed, id: id, purpose: "comparison-principles")
        return random.weightedSampleWithoutReplacement(principles.map(\.samplingWeight), count: configuration.principlesPerPair)
            .map { principles[$0].id }
    }

    /// Labels one pair.
    public func label(_ pair: ResponsePair, model: any LanguageModel) async throws -> LabelRecord {
        var judgements: [PrincipleJudgement] = []
        for principleID in principleIDs(for: pair.id) {
            guard let principle = principles.first(where: { $0.id == principleID }), let question = principle.comparison else {
                preconditionFailure("comparison principle \(principleID) lost its question")
            }
            var orders = [try await ask(pair, question: question, firstAsA: true, principleID: principleID, model: model)]
            if configuration.bothOrders {
                orders.append(try await ask(pair, question: question, firstAsA: false, principleID: principleID, model: model))
            }
            let probability = orders.count == 2
                ? PreferenceLabel.orderAveraged(firstAsA: orders[0].probabilityFirst, firstAsB: orders[1].probabilityFirst)
                : orders[0].probabilityFirst
            let flipped = orders.count == 2 ? PreferenceLabel.flipsWithOrder(firstAsA: orders[0].probabilityFirst, firstAsB: orders[1].probabilityFirst) : nil
            judgements.append(PrincipleJudgement(principleID: principleID, weight: principle.samplingWeight, orders: orders,
                                                 probabilityFirst: probability, flipped: flipped))
        }
        let first = PreferenceLabel.ensemble(judgements.map(\.probabilityFirst), weights: judgements.map(\.weight))
        let chosenIsFirst = first >= 0.5
        return LabelRecord(
            id: pair.id, prompt: pair.prompt,
            chosen: pair.prompt.response(chosenIsFirst ? pair.first : pair.second),
            rejected: pair.prompt.response(chosenIsFirst ? pair.second : pair.first),
            chosenProbability: chosenIsFirst ? first : 1 - first, firstProbability: first, chosenIsFirst: chosenIsFirst,
            judgements: judgements, positionFlips: judgements.filter { $0.flipped == true }.count, feedbackModel: model.name,
            mode: configuration.chainOfThought ? "chain-of-thought" : "direct", constitution: constitution.label)
    }

    /// Asks one question in one order and scores both options.
    func ask(_ pair: ResponsePair, question: String, firstAsA: Bool, principleID: String, model: any LanguageModel) async throws -> OrderJudgement {
        // Shown as "(A) content": a transcript completion's leading space (" I can't") is the format's, not the response's.
        let (shownFirst, shownSecond) = (pair.first.trimmingCharacters(in: .whitespacesAndNewlines), pair.second.trimmingCharacters(in: .whitespacesAndNewlines))
        let (a, b) = firstAsA ? (shownFirst, shownSecond) : (shownSecond, shownFirst)
        var prompt: String
        var reasoning: String?
        if configuration.chainOfThought {
            prompt = ComparisonPrompts.chainOfThought(examples: examples, conversation: pair.conversation, principle: question, responseA: a, responseB: b)
            let seed = ItemRandom.seed(configuration.seed, pair.id, "reasoning-\(principleID)-\(firstAsA ? "first-as-A" : "first-as-B")")
            let completion = try await model.complete(CompletionRequest(prompt: prompt, options: configuration.reasoning.with(seed: seed, stop: ComparisonPrompts.reasoningStops)))
            let text = completion.text.trimmingCharacters(in: .whitespacesAndNewlines)
            reasoning = text
            prompt += " \(text)\(ComparisonPrompts.answerCue)"
        } else {
            prompt = ComparisonPrompts.direct(examples: examples, conversation: pair.conversation, principle: question, responseA: a, responseB: b)
        }
        let scoreA = try await model.score(prompt: prompt, completion: ComparisonPrompts.optionA).totalLogProbability
        let scoreB = try await model.score(prompt: prompt, completion: ComparisonPrompts.optionB).totalLogProbability
        guard scoreA.isFinite, scoreB.isFinite else {
            throw ConstitutionalError("\(model.name) returned non-finite log-probabilities for the options (\(scoreA), \(scoreB))")
        }
        let probabilityA = PreferenceLabel.softLabel(logProbabilityA: scoreA, logProbabilityB: scoreB)
        var first = firstAsA ? probabilityA : 1 - probabilityA
        if configuration.chainOfThought { first = PreferenceLabel.clamp(first, low: configuration.clampLow, high: configuration.clampHigh) }
        return OrderJudgement(order: firstAsA ? "first-as-A" : "first-as-B", logProbabilityA: scoreA, logProbabilityB: scoreB,
                              probabilityA: probabilityA, probabilityFirst: first, reasoning: reasoning)
    }
}
