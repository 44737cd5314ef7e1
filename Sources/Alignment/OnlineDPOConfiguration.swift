import Foundation
import Settings

/// Online DPO settings (TRL 1.16's `trl.experimental.online_dpo.OnlineDPOConfig`; recipe keys and defaults are TRL's).
///
/// Online DPO: Guo et al. 2024, "Direct Language Model Alignment from Online AI Feedback". For every prompt the current
/// policy samples two completions, a judge (reward functions or a reward model, or an AI judge asked pairwise) says
/// which is better, and the DPO loss of that (chosen, rejected) pair against the reference is minimised — DPO on
/// on-policy pairs, RLAIF done online. A step is one optimizer step over `per_device_train_batch_size` ×
/// `gradient_accumulation_steps` prompts (twice as many completions).
public struct OnlineDPOConfiguration: KeyedSettings, Equatable, Sendable {
    public var training = TrainingArguments()
    /// New tokens per completion at most.
    public var maximumNewTokens = 64
    /// Longest prompt + completion the log-probabilities are taken over; longer sequences lose their leftmost prompt
    /// tokens (the completion is kept whole), as TRL truncates.
    public var maximumLength = 512
    /// Sampling temperature. Unlike GRPO's, online DPO's log-probabilities are those of the untempered policy (TRL).
    public var temperature: Float = 0.9
    /// Nucleus sampling: the smallest set of tokens whose probability reaches top_p (1: all tokens).
    public var topP: Float = 1
    /// Sample among the k most likely tokens only (0: all tokens).
    public var topK = 0
    /// Drop tokens less likely than min_p × the most likely one's probability (nil: off).
    public var minP: Float?
    /// Subtracted from the score of a completion that ended without eos (it hit `max_new_tokens`); nil: none.
    public var missingEOSPenalty: Float?
    /// β of the implicit reward β·log π/π_ref (τ of IPO). A list gives one β per epoch, its last for the epochs after.
    public var beta: [Float] = [0.1]
    /// `sigmoid` (DPO, Rafailov et al. 2023) or `ipo` (Azar et al. 2023; on summed log-probabilities, as TRL's online IPO).
    public var lossType = "sigmoid"
    /// Turn dropout (here: LoRA dropout) off in the policy, as TRL does by default.
    public var disableDropout = true
    /// Weight of each reward function in the summed score; nil: 1 each.
    public var rewardWeights: [Float]?
    /// How a reward-model ensemble folder (`reward_model_path`) combines its members (`reward_aggregation`,
    /// `reward_uncertainty_penalty`, `principle_weights`, `principle_groups`; read as PPO reads them).
    public var ensemble = RewardAggregationSettings()

    /// The loss types TRL 1.16's online DPO has.
    public static let lossTypes = ["sigmoid", "ipo"]

    /// TRL's online DPO defaults: learning rate 5e-7 (a recipe without `learning_rate` keeps it).
    public init() { training.learningRate = 5e-7 }

    /// TRL's `OnlineDPOConfig` keys, beside the training arguments' (`reward_model_path` is read by the command, which
    /// loads the folder; vLLM and generation_kwargs are refused by `TrainingRecipe.foreignKeys`).
    public static var fields: [SettingsField<Self>] {
        let limits = TrainingArguments.Limits.self
        return [.flattened(\.training),
                .init("max_new_tokens", \.maximumNewTokens, where: .from(1, to: limits.sequenceLength)),
                .init("max_length", \.maximumLength, where: .from(2, to: limits.sequenceLength)),
                .init("temperature", \.temperature,
                      where: SettingsCheck { $0.isFinite && $0 > 0 ? nil : "must be positive (online DPO samples its completions)" }.and(.atMost(100))),
                .init("top_p", \.topP, where: SettingsCheck { $0.isFinite && $0 > 0 && $0 <= 1 ? nil : "must be in (0, 1]" }),
                .init("top_k", \.topK, where: .from(0, to: 1_000_000)),
                .init("min_p", \.minP, where: .within(0...1)),
                .init("missing_eos_penalty", \.missingEOSPenalty,
                      where: SettingsCheck { $0.isFinite && $0 >= 0 ? nil : "must be a number of at least 0 (it is subtracted)" }),
                .init("beta", oneOrMany: \.beta, where: SettingsCheck<[Float]> { betas in
                    betas.isEmpty ? "needs at least one β" : betas.allSatisfy { $0.isFinite && $0 > 0 && $0 <= 100 } ? nil : "every β must be in (0, 100]" }),
                .init("loss_type", \.lossType, where: .oneOf(lossTypes)),
                .init("disable_dropout", \.disableDropout),
                .init("reward_weights", oneOrMany: \.rewardWeights), .flattened(\.ensemble)]
    }

    /// β for the epoch in progress (0-based): TRL's documented rule — the list's entry for that epoch, its last after.
    /// (TRL 1.16 indexes the list with the fractional `state.epoch`: a TypeError once a step of a multi-β run is done.)
    public func beta(epoch: Int) -> Float { beta[min(max(epoch, 0), beta.count - 1)] }

    public var loss: PreferenceLoss.Kind { lossType == "ipo" ? .ipo : .sigmoid }

    /// The shared rollout trainer's settings: two completions per prompt; a micro-batch is
    /// `per_device_train_batch_size` prompts, so `2 ×` that many completions.
    var rollout: GroupRolloutSettings {
        var completions = training
        completions.batchSize = 2 * training.batchSize
        return GroupRolloutSettings(training: completions, generationCount: 2, maximumCompletionLength: maximumNewTokens,
                                    temperature: temperature, beta: beta[0], iterationCount: 1, epsilonLow: 0, epsilonHigh: 0,
                                    rewardWeights: rewardWeights, maskTruncatedCompletions: false, topP: topP, topK: topK,
                                    minP: minP ?? 0, maximumLength: maximumLength, ensemble: ensemble)
    }

    /// Checks values a run cannot start with, naming the key and the value.
    /// - Throws: `SettingsError`.
    public func validate() throws {
        try training.validate()
        try checkRanges()
        _ = try ensemble.aggregation
        if maximumNewTokens >= maximumLength {
            throw SettingsError(key: "max_new_tokens", message: "is \(maximumNewTokens), not below max_length \(maximumLength): the prompt would be "
                                + "cut away entirely; raise max_length (TRL suggests max_new_tokens + 512) or lower max_new_tokens")
        }
    }
}
