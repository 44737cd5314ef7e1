import Foundation
import Settings

/// REINFORCE Leave-One-Out settings (TRL's `RLOOConfig`; recipe keys and defaults are TRL 1.16's).
///
/// RLOO: Ahmadian et al. 2024, "Back to Basics: Revisiting REINFORCE Style Optimization for Learning from Human
/// Feedback in LLMs". As GRPO, `num_generations` completions per prompt and no value model; the KL penalty is part of
/// the reward, each completion's baseline is the mean reward of the others in its group, and the ratio is taken per
/// sequence.
public struct RLOOConfiguration: GroupRolloutConfiguration, Equatable, Sendable {
    public var training = TrainingArguments()
    /// k, completions sampled per prompt (at least 2: the baseline leaves one out).
    public var generationCount = 2
    /// New tokens per completion at most.
    public var maximumCompletionLength = 512
    /// Sampling temperature; log-probs are taken under the same tempered distribution, as in TRL.
    public var temperature: Float = 1
    /// Nucleus sampling: the smallest set of tokens whose probability reaches top_p (1: all tokens).
    public var topP: Float = 1
    /// Sample among the k most likely tokens only (0: all tokens).
    public var topK = 0
    /// Drop tokens less likely than min_p × the most likely one's probability (nil: off).
    public var minP: Float?
    /// β of the sequence KL penalty in the reward (k1 estimator); 0 loads no reference model.
    public var beta: Float = 0.05
    /// Optimizer steps on each generation batch.
    public var iterationCount = 1
    /// ε_low of the clipped sequence ratio.
    public var epsilon: Float = 0.2
    /// ε_high of the clipped sequence ratio; nil: `epsilon`.
    public var epsilonHigh: Float?
    /// Weight of each reward function in the summed reward; nil: 1 each.
    public var rewardWeights: [Float]?
    /// Normalise the advantages over the generation batch to mean 0 and std 1.
    public var normalizeAdvantages = false
    /// Leave completions that hit `max_completion_length` without eos out of the loss (DAPO).
    public var maskTruncatedCompletions = false
    /// How a reward-model ensemble folder among the rewards combines its members (`reward_aggregation`,
    /// `reward_uncertainty_penalty`, `principle_weights`, `principle_groups`; read as PPO reads them).
    public var ensemble = RewardAggregationSettings()

    /// TRL's RLOO defaults: learning rate 1e-6 (a recipe without `learning_rate` keeps it).
    public init() { training.learningRate = 1e-6 }

    /// TRL's `RLOOConfig` keys, beside the training arguments'.
    public static var fields: [SettingsField<Self>] {
        sharedFields(method: "RLOO") + [
                .init("reward_weights", oneOrMany: \.rewardWeights),
                .init("normalize_advantages", \.normalizeAdvantages),
                .init("mask_truncated_completions", \.maskTruncatedCompletions)]
    }

    /// Checks values a run cannot start with, naming the key and the value.
    /// - Throws: `SettingsError`.
    public func validate() throws {
        try training.validate()
        try checkRanges()
        try rollout.validate()
    }
}
