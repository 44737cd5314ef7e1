import Foundation
import Settings

/// PPO-RLHF settings (TRL's `PPOConfig`; recipe keys are TRL's). One iteration samples `batch_size` prompts
/// (`per_device_train_batch_size` × `gradient_accumulation_steps`), rolls them out, scores them, and runs
/// `num_ppo_epochs` passes of `num_mini_batches` optimizer steps over the rollouts.
public struct PPOConfiguration: KeyedSettings, Equatable, Sendable {
    public var training = TrainingArguments()
    /// Passes over each batch of rollouts (Schulman et al. 2017 use K = 3–10 epochs per batch).
    public var ppoEpochs = 4
    /// Optimizer steps per PPO epoch; the batch is split into this many minibatches.
    public var miniBatchCount = 1
    /// ε of the clipped surrogate: the probability ratio is clipped to [1 − ε, 1 + ε] (Schulman et al. 2017).
    public var clipRange: Float = 0.2
    /// ε_v of the clipped value loss: new values stay within ±ε_v of the rollout's.
    public var valueClipRange: Float = 0.2
    /// Weight of the value loss in policy loss + vf_coef · value loss.
    public var valueCoefficient: Float = 0.1
    /// Discount γ of GAE (Schulman et al. 2016); 1 for episodic text.
    public var gamma: Float = 1
    /// λ of GAE: bias–variance trade-off of the advantage (Schulman et al. 2016).
    public var lambda: Float = 0.95
    /// β of the per-token KL penalty to the reference (Ziegler et al. 2019; Ouyang et al. 2022); the initial β
    /// when `kl_target` is set.
    public var klCoefficient: Float = 0.05
    /// Target KL (nats per response) of Ziegler et al.'s adaptive controller; nil keeps β fixed (TRL's behaviour).
    public var klTarget: Float?
    /// Horizon (episodes) of the adaptive KL controller (Ziegler et al. 2019 use 10 000).
    public var klHorizon: Float = 10_000
    /// Per-token KL estimator: "k1" (log π − log π_ref) or "k3" ((r − 1) − log r), Schulman's "Approximating KL".
    public var klEstimator = PPOLoss.KLEstimator.k1
    /// Whiten the shaped rewards (mean kept) before GAE.
    public var whitenRewards = false
    /// Whiten the advantages over the batch (TRL always does).
    public var whitenAdvantages = true
    /// Subtracted from the score of a response with no eos token (TRL's `missing_eos_penalty`).
    public var missingEOSPenalty: Float?
    /// New tokens per response.
    public var responseLength = 53
    /// Sampling temperature of rollouts; log-probs are taken under the same tempered distribution, as in TRL.
    public var temperature: Float = 0.7
    /// "eos": generation stops at the tokenizer's eos and the response is cut after it; nil: no stop token.
    public var stopToken: String?
    /// A stop token id instead of `stop_token` (mutually exclusive).
    public var stopTokenId: Int?
    /// Rollouts per generation call and per no-gradient forward pass.
    public var rolloutForwardBatchSize = 64
    /// Episodes (rollouts) to train on; nil: `num_train_epochs` × the number of prompts.
    public var totalEpisodes: Int?
    /// Times during training that greedy completions of evaluation prompts are written to completions.jsonl.
    public var sampleGenerationCount = 10
    /// How a reward-model ensemble's members become one reward (`reward_aggregation`, `reward_uncertainty_penalty`,
    /// `principle_weights`, `principle_groups`; the keys GRPO, RLOO and online DPO read too). Used only when the reward
    /// model folder is an ensemble (it has ensemble.json).
    public var ensemble = RewardAggregationSettings()
    /// A held-out monitor for reward hacking (`monitor_reward_model`): a reward model or ensemble folder, or
    /// `cmd:PROGRAM ARGS…` (a judge run as a program, `CommandReward`'s protocol), that scores the rollouts every
    /// `monitor_steps` iterations; see ``RewardHackingAlarm``.
    public var monitorRewardModel: String?
    public var monitorSteps = 1
    /// A spot check (`monitor_samples`): the monitor scores only the first this many rollouts of each checked batch
    /// (the batch's prompts come in the loop's shuffled order), as a judge that costs a label per sample would; nil:
    /// every rollout.
    public var monitorSamples: Int?
    /// The alarm's fall threshold, as a fraction of the monitor's rise (or of its first batch's spread).
    public var monitorTolerance = 0.5
    /// The weight of the newest reading in the alarm's moving averages (`monitor_smoothing`); lower it for a noisy
    /// monitor such as a judge on a few samples (`monitor_samples`).
    public var monitorSmoothing = 0.3
    /// End the run (saving the model as it is) when the alarm fires.
    public var stopOnDivergence = false

    public init() {}

    /// TRL's `PPOConfig` keys, beside the training arguments' (defaults are the property values above); unset
    /// optional values are left out of the encoding. Upper bounds of counts and lengths are `TrainingArguments.Limits`;
    /// `num_mini_batches` is bounded by the batch it must divide.
    public static var fields: [SettingsField<Self>] {
        let limits = TrainingArguments.Limits.self
        let nonNegative = SettingsCheck<Float>.finite.and(.atLeast(0))
        return [.flattened(\.training), .init("num_ppo_epochs", \.ppoEpochs, where: .from(1, to: 100)),
         .init("num_mini_batches", \.miniBatchCount, where: .atLeast(1)),
         .init("cliprange", \.clipRange, where: SettingsCheck.positive.and(.atMost(10))),
         .init("cliprange_value", \.valueClipRange, where: .positive), .init("vf_coef", \.valueCoefficient, where: nonNegative),
         .init("gamma", \.gamma, where: .within(0...1)), .init("lam", \.lambda, where: .within(0...1)),
         .init("kl_coef", \.klCoefficient, where: nonNegative),
         .init("kl_target", \.klTarget, where: SettingsCheck { $0.isFinite && $0 > 0 ? nil : "must be positive (omit it for a fixed kl_coef)" },
               omitsNil: true),
         .init("kl_horizon", \.klHorizon, where: .positive), klEstimatorField,
         .init("whiten_rewards", \.whitenRewards), .init("whiten_advantages", \.whitenAdvantages),
         .init("missing_eos_penalty", \.missingEOSPenalty, where: nonNegative, omitsNil: true),
         .init("response_length", \.responseLength, where: .from(1, to: limits.sequenceLength)),
         .init("temperature", \.temperature,
               where: SettingsCheck { $0.isFinite && $0 > 0 ? nil : "must be positive (PPO samples its rollouts)" }.and(.atMost(100))),
         .init("stop_token", \.stopToken, where: SettingsCheck { $0 == "eos" ? nil : "must be \"eos\" or absent" }, omitsNil: true),
         .init("stop_token_id", \.stopTokenId, where: .from(0, to: Int(Int32.max)), omitsNil: true),
         .init("local_rollout_forward_batch_size", \.rolloutForwardBatchSize, where: .from(1, to: limits.batchSize)),
         .init("total_episodes", \.totalEpisodes, where: .from(1, to: limits.steps), omitsNil: true),
         .init("num_sample_generations", \.sampleGenerationCount, where: .from(0, to: limits.steps)),
         .flattened(\.ensemble),
         .init("monitor_reward_model", \.monitorRewardModel,
               where: SettingsCheck { $0.isEmpty ? "must name a reward model or ensemble folder, or cmd:PROGRAM" : nil }, omitsNil: true),
         .init("monitor_steps", \.monitorSteps, where: .from(1, to: limits.steps)),
         .init("monitor_samples", \.monitorSamples, where: .from(1, to: limits.batchSize), omitsNil: true),
         .init("monitor_tolerance", \.monitorTolerance, where: SettingsCheck<Double>.finite.and(.atLeast(0))),
         .init("monitor_smoothing", \.monitorSmoothing, where: SettingsCheck { $0 > 0 && $0 <= 1 ? nil : "must be in (0, 1] (the newest reading's weight)" }),
         .init("stop_on_divergence", \.stopOnDivergence),
         // TRL's older `PPOConfig` called these `target` / `horizon` (with `init_kl_coef`); read, never written.
         alias("target_kl", of: "kl_target") { $0.klTarget = $1 }, alias("horizon", of: "kl_horizon") { $0.klHorizon = $1 },
         alias("init_kl_coef", of: nil) { $0.klCoefficient = $1 }]
    }

    /// `kl_estimator`: "k1" or "k3", written as its name.
    static var klEstimatorField: SettingsField<Self> {
        let key = SettingsKey("kl_estimator")
        return SettingsField(keys: [key.stringValue], read: { configuration, container in
            guard let name = try SettingsField<Self>.decodeIfPresent(String.self, forKey: key, in: container) else { return }
            guard let estimator = PPOLoss.KLEstimator(rawValue: name) else {
                throw SettingsError(key: key.stringValue, message: "\"\(name)\" is not k1 or k3")
            }
            configuration.klEstimator = estimator
        }, write: { configuration, container in try container.encode(configuration.klEstimator.rawValue, forKey: key) })
    }

    /// A read-only older name of a number: applied when `primary` (if any) holds no value.
    static func alias(_ name: String, of primary: String?, _ apply: @escaping (inout Self, Float) -> Void) -> SettingsField<Self> {
        let key = SettingsKey(name)
        return SettingsField(keys: [name], read: { configuration, container in
            if let primary, try SettingsField<Self>.decodeIfPresent(Float.self, forKey: SettingsKey(primary), in: container) != nil { return }
            if let value = try SettingsField<Self>.decodeIfPresent(Float.self, forKey: key, in: container) { apply(&configuration, value) }
        }, write: { _, _ in })
    }

    /// Rollouts per iteration (TRL's `local_batch_size`).
    public var batchSize: Int { training.batchSize * training.gradientAccumulationSteps }

    /// Iterations (rollout + update) for `promptCount` prompts (TRL's `num_total_batches`).
    public func iterations(promptCount: Int) -> Int {
        if training.maximumSteps > 0 { return training.maximumSteps }
        let episodes = totalEpisodes ?? Int(training.epochs * Float(promptCount))
        return max(1, (episodes + batchSize - 1) / batchSize)
    }

    /// Checks values a run cannot start with, naming the key and the value.
    /// - Throws: `SettingsError`.
    public func validate() throws {
        try training.validate()
        try checkRanges()
        func require(_ condition: Bool, _ key: String, _ message: String) throws {
            if !condition { throw SettingsError(key: key, message: message) }
        }
        try require(batchSize % miniBatchCount == 0, "num_mini_batches",
                    "must divide the batch (per_device_train_batch_size × gradient_accumulation_steps = \(batchSize)) (got \(miniBatchCount))")
        try require(stopToken == nil || stopTokenId == nil, "stop_token_id", "set stop_token or stop_token_id, not both")
        try require(!whitenRewards || batchSize / miniBatchCount >= 2, "whiten_rewards", "needs at least two rollouts per minibatch")
        _ = try ensemble.aggregation
    }
}
