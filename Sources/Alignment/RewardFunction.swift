import Datasets
import Foundation
import JSON

/// One finished rollout to be scored: the prompt and the response (cut after the stop token, TRL style), as ids and text.
public struct ScoredRollout: Sendable {
    /// The prompt's token ids (no padding).
    public var promptIds: [Int32]
    /// The response's token ids, ending with the stop token when the policy produced one.
    public var responseIds: [Int32]
    /// The decoded prompt and response.
    public var prompt: String
    public var response: String
    /// Whether the response ended with the stop (eos) token.
    public var endsWithStopToken: Bool
    /// The prompt's other dataset columns (e.g. GRPO's `answer`), which TRL passes to reward functions as keywords.
    public var columns: [JSONValue.Member] = []
    /// A conversational prompt's messages (nil for a standard prompt); `prompt` is then the rendered chat text.
    public var promptMessages: [Message]?

    public init(promptIds: [Int32], responseIds: [Int32], prompt: String, response: String, endsWithStopToken: Bool) {
        self.promptIds = promptIds
        self.responseIds = responseIds
        self.prompt = prompt
        self.response = response
        self.endsWithStopToken = endsWithStopToken
    }
}

/// What PPO maximises: a scalar score per rollout. Implemented by a reward model folder (a sequence classifier
/// read at the response's last token) and by plain Swift functions (`ClosureReward`) for programmatic rewards.
public protocol RewardFunction: AnyObject {
    /// One score per rollout, in order.
    /// - Throws: when the scorer cannot run (a missing file, a failing endpoint); the trainer stops with the error.
    func scores(_ rollouts: [ScoredRollout]) throws -> [Float]
    /// Metrics about the last call's scores that the trainer logs beside its own (an ensemble's spread); empty by default.
    var lastMetrics: [String: Double] { get }
}

extension RewardFunction {
    public var lastMetrics: [String: Double] { [:] }
}

/// A reward written in Swift: a closure over each rollout (its texts and token ids).
///
/// ```swift
/// let reward = ClosureReward { rollout in Float(rollout.response.filter { $0 == "!" }.count) }
/// ```
public final class ClosureReward: RewardFunction {
    let score: (ScoredRollout) throws -> Float

    public init(_ score: @escaping (ScoredRollout) throws -> Float) { self.score = score }

    public func scores(_ rollouts: [ScoredRollout]) throws -> [Float] { try rollouts.map(score) }
}
