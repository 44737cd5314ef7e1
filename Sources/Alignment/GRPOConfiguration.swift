import Foundation
import Settings

/// Group Relative Policy Optimization settings (TRL's `GRPOConfig`; recipe keys and defaults are TRL 1.16's).
///
/// GRPO: Shao et al. 2024, "DeepSeekMath: Pushing the Limits of Mathematical Reasoning in Open Language Models". Each
/// iteration samples `num_generations` completions per prompt, scores them with the reward functions, and uses the
/// reward relative to the group as the advantage of every token: no value model. One generation batch is
/// `per_device_train_batch_size` × `gradient_accumulation_steps` completions (`num_generations` must divide it).
public struct GRPOConfiguration: GroupRolloutConfiguration, Equatable, Sendable {
    public var training = TrainingArguments()
    /// G, completions sampled per prompt (the group of the group-relative advantage).
    public var generationCount = 8
    /// New tokens per completion at most (also Dr. GRPO's normalising constant).
    public var maximumCompletionLength = 512
    /// Sampling temperature; log-probs are taken under the same tempered distribution, as in TRL.
    public var temperature: Float = 1
    /// Nucleus sampling: the smallest set of tokens whose probability reaches top_p (1: all tokens).
    public var topP: Float = 1
    /// Sample among the k most likely tokens only (0: all tokens).
    public var topK = 0
    /// Drop tokens less likely than min_p × the most likely one's probability (nil: off).
    public var minP: Float?
    /// β of the k3 KL penalty to the reference; 0 (TRL's default) loads no reference model (DeepSeek-R1 uses 0.001).
    public var beta: Float = 0
    /// μ, optimizer steps on each generation batch (DeepSeekMath's GRPO iterations).
    public var iterationCount = 1
    /// ε_low of the clipped ratio.
    public var epsilon: Float = 0.2
    /// ε_high of the clipped ratio (DAPO's clip-higher recommends 0.28); nil: `epsilon`.
    public var epsilonHigh: Float?
    /// Loss aggregation: grpo, dr_grpo, dapo (TRL 1.16's default) or bnpo (see `GRPOLoss.LossType`).
    public var lossType = "dapo"
    /// Reward scaling: group, batch or none (TRL also reads true as group and false as none).
    public var scaleRewards = "group"
    /// Weight of each reward function in the summed reward; nil: 1 each.
    public var rewardWeights: [Float]?
    /// Multiply the KL term by the importance ratio (DeepSeek-V3.2's unbiased KL gradient; TRL 1.16's default).
    public var useBiasCorrectionKL = true
    /// Leave completions that hit `max_completion_length` without eos out of the loss (DAPO).
    public var maskTruncatedCompletions = false
    /// How a reward-model ensemble folder among the rewards combines its members (`reward_aggregation`,
    /// `reward_uncertainty_penalty`, `principle_weights`, `principle_groups`; read as PPO reads them).
    public var ensemble = RewardAggregationSettings()

    /// TRL's GRPO defaults: learning rate 1e-6 (a recipe without `learning_rate` keeps it).
    public init() { training.learningRate = 1e-6 }

    /// TRL's `GRPOConfig` keys, beside the training arguments'.
    public static var fields: [SettingsField<Self>] {
        sharedFields(method: "GRPO") + [
                .init("loss_type", \.lossType, where: .oneOf(GRPOLoss.LossType.allCases.map(\.rawValue))),
                scaleRewardsField,
                .init("reward_weights", oneOrMany: \.rewardWeights),
                .init("mask_truncated_completions", \.maskTruncatedCompletions),
                .init("use_bias_correction_kl", \.useBiasCorrectionKL)]
    }

    /// `scale_rewards`: "group", "batch", "none", or a boolean (true: group, false: none), written as its name.
    static var scaleRewardsField: SettingsField<Self> {
        let key = SettingsKey("scale_rewards")
        return SettingsField(keys: [key.stringValue], read: { configuration, container in
            guard container.contains(key), !(try container.decodeNil(forKey: key)) else { return }
            if let flag = try? container.decode(Bool.self, forKey: key) {
                configuration.scaleRewards = flag ? "group" : "none"
                return
            }
            let name = try SettingsField<Self>.decodeIfPresent(String.self, forKey: key, in: container) ?? "group"
            guard GRPOLoss.RewardScaling(rawValue: name) != nil else {
                throw SettingsError(key: key.stringValue, message: "\"\(name)\" is not group, batch, none, true or false")
            }
            configuration.scaleRewards = name
        }, write: { configuration, container in try container.encode(configuration.scaleRewards, forKey: key) })
    }

    public var loss: GRPOLoss.LossType { GRPOLoss.LossType(rawValue: lossType) ?? .dapo }
    public var rewardScaling: GRPOLoss.RewardScaling { GRPOLoss.RewardScaling(rawValue: scaleRewards) ?? .group }

    /// Checks values a run cannot start with, naming the key and the value.
    /// - Throws: `SettingsError`.
    public func validate() throws {
        try training.validate()
        try checkRanges()
        try rollout.validate()
    }
}
