import Foundation
import LanguageModels
import NeuralNetworks
import Tensors

/// A reward model folder as PPO's reward: the sequence classifier's score of prompt + response, read at the last
/// non-padding token (transformers' rule, as TRL's `get_reward`).
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
}

extension ValueHead {
    /// A value head initialised from a reward model's `score` layer (TRL initialises its critic from the reward
    /// model); the bias starts at 0 since transformers' score layer has none.
    public convenience init(rewardModel: SequenceClassifier) {
        let weight = rewardModel.score.weight.copied()
        weight.requiresGrad = true
        let bias = Tensor.zeros([1])
        bias.requiresGrad = true
        self.init(projection: Linear(weight: weight, bias: bias))
    }
}
