import Constitutional
import Foundation
import LanguageModels

/// One judged comparison of two models' responses to one prompt (a "battle", as Chatbot Arena calls them).
public struct Battle: Codable, Equatable, Sendable {
    /// "<prompt id>/<model a>~<model b>".
    public var id: String
    public var promptID: String
    public var modelA: String
    public var modelB: String
    /// The judge's probability that A's response is better: the principle ensemble averaged over both orders.
    public var probabilityA: Double
    /// The ensemble's probability that A is better with A shown first, and with A shown second (nil when only one
    /// order was asked).
    public var probabilityAShownFirst: Double
    public var probabilityAShownSecond: Double?
    /// "a", "b" or "tie": a tie when the two orders prefer different responses (the judge preferred a position, not
    /// a response — MT-Bench's rule, Zheng et al. 2023, §3.4) or the probability is exactly ½.
    public var winner: Winner
    /// Response lengths in characters (the length-controlled win rate's regressor).
    public var lengthA: Int
    public var lengthB: Int
    public var principles: [String]
    public var judge: String

    public enum Winner: String, Codable, Sendable { case a, b, tie }

    enum CodingKeys: String, CodingKey {
        case id, promptID = "prompt_id", modelA = "model_a", modelB = "model_b", probabilityA = "p_a"
        case probabilityAShownFirst = "p_a_shown_first", probabilityAShownSecond = "p_a_shown_second", winner
        case lengthA = "length_a", lengthB = "length_b", principles, judge
    }

    /// The battle's outcome for A: 1 win, ½ tie, 0 loss.
    public var scoreA: Double { winner == .a ? 1 : winner == .tie ? 0.5 : 0 }
}

/// The AI judge of pairwise evaluation: `charter label`'s AI feedback (``AIFeedback``: the constitution's comparison
/// principles as a multiple-choice question, the answer read as the normalised probability of " (A)" vs " (B)" from
/// their log-probabilities, both orders, an ensemble over principles), applied to two models' responses.
public struct PairwiseJudge: Sendable {
    public let feedback: AIFeedback

    public init(feedback: AIFeedback) { self.feedback = feedback }

    /// Judges A's and B's responses to one prompt.
    public func judge(prompt: PromptItem, modelA: String, responseA: String, modelB: String, responseB: String,
                      judge model: any LanguageModel) async throws -> Battle {
        let id = Self.battleID(promptID: prompt.id, modelA: modelA, modelB: modelB)
        let pair = ResponsePair(id: id, prompt: prompt.prompt, conversation: prompt.conversation, first: responseA, second: responseB)
        let record = try await feedback.label(pair, model: model)
        let weights = record.judgements.map(\.weight)
        let shownFirst = PreferenceLabel.ensemble(record.judgements.map { $0.orders[0].probabilityFirst }, weights: weights)
        let shownSecond = record.judgements.allSatisfy({ $0.orders.count == 2 })
            ? PreferenceLabel.ensemble(record.judgements.map { $0.orders[1].probabilityFirst }, weights: weights) : nil
        return Battle(id: id, promptID: prompt.id, modelA: modelA, modelB: modelB, probabilityA: record.firstProbability,
                      probabilityAShownFirst: shownFirst, probabilityAShownSecond: shownSecond,
                      winner: Self.winner(shownFirst: shownFirst, shownSecond: shownSecond),
                      lengthA: responseA.count, lengthB: responseB.count, principles: record.judgements.map(\.principleID), judge: model.name)
    }

    /// A wins when every order asked prefers it; a tie when the orders disagree or a probability is exactly ½.
    public static func winner(shownFirst: Double, shownSecond: Double?) -> Battle.Winner {
        let orders = [shownFirst] + (shownSecond.map { [$0] } ?? [])
        if orders.allSatisfy({ $0 > 0.5 }) { return .a }
        if orders.allSatisfy({ $0 < 0.5 }) { return .b }
        return .tie
    }

    static func battleID(promptID: String, modelA: String, modelB: String) -> String { "\(promptID)/\(modelA)~\(modelB)" }
}
