import Foundation
import LanguageModels
import NeuralNetworks
import Tensors

/// A reward model folder as PPO's reward: the sequence classifier's score of prompt + response, read at the last
/// non-padding token (transformers' rule, as TRL's `get_reward`).
///
/// A shared-trunk folder (`num_labels` K) scores all K heads in one forward pass through ``headScores(_:)``; as a
/// single reward (``scores(_:)``) it needs `num_labels` 1.
public final class RewardModelScorer: RewardFunction {
    public let model: SequenceClassifier
    /// Score the policy's token ids directly (policy and reward model share a tokenizer, TRL's assumption), or
    /// re-tokenize the decoded prompt + response with the reward model's own tokenizer.
    public let sharesTokenizer: Bool
    public let batchSize: Int

    public init(model: SequenceClassifier, sharesTokenizer: Bool, batchSize: Int = 8) {
        model.setTrainable(false)
        self.model = model
        self.sharesTokenizer = sharesTokenizer
        self.batchSize = batchSize
    }

    public func scores(_ rollouts: [ScoredRollout]) throws -> [Float] {
        if sharesTokenizer {
            return try model.scores(rollouts.map { $0.promptIds + $0.responseIds }, batchSize: batchSize)
        }
        return try model.scores(rollouts.map { $0.prompt + $0.response }, batchSize: batchSize)
    }

    /// Every head's score, head-major (`[head][rollout]`), from one forward pass per batch.
    public func headScores(_ rollouts: [ScoredRollout]) throws -> [[Float]] {
        let rows = sharesTokenizer ? try model.labelScores(rollouts.map { $0.promptIds + $0.responseIds }, batchSize: batchSize)
                                   : try model.labelScores(rollouts.map { $0.prompt + $0.response }, batchSize: batchSize)
        return (0..<model.labelCount).map { head in rows.map { $0[head] } }
    }
}

extension ValueHead {
    /// A value head initialised from a reward model's `score` layer (TRL initialises its critic from the reward
    /// model) — row `column` of a shared trunk's K heads; the bias starts at 0 since transformers' score layer has none.
    public convenience init(rewardModel: SequenceClassifier, column: Int = 0) {
        precondition((0..<rewardModel.labelCount).contains(column), "column \(column) of a score layer with \(rewardModel.labelCount) rows")
        let width = rewardModel.score.inputSize
        let weight = Tensor(shape: [1, width], scalars: Array(rewardModel.score.weight.scalars[(column * width)..<((column + 1) * width)]))
        weight.requiresGrad = true
        let bias = Tensor.zeros([1])
        bias.requiresGrad = true
        self.init(projection: Linear(weight: weight, bias: bias))
    }
}
