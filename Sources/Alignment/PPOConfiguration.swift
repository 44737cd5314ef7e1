import Foundation

/// PPO-RLHF settings (TRL's `PPOConfig`; recipe keys are TRL's). One iteration samples `batch_size` prompts
/// (`per_device_train_batch_size` × `gradient_accumulation_steps`), rolls them out, scores them, and runs
/// `num_ppo_epochs` passes of `num_mini_batches` optimizer steps over the rollouts.
public struct PPOConfiguration: Codable, Equatable, Sendable {
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

    enum CodingKeys: String, CodingKey, CaseIterable {
        case ppoEpochs = "num_ppo_epochs", miniBatchCount = "num_mini_batches", clipRange = "cliprange"
        case valueClipRange = "cliprange_value", valueCoefficient = "vf_coef", gamma, lambda = "lam"
        case klCoefficient = "kl_coef", klTarget = "kl_target", klHorizon = "kl_horizon", klEstimator = "kl_estimator"
        case whitenRewards = "whiten_rewards", whitenAdvantages = "whiten_advantages"
        case missingEOSPenalty = "missing_eos_penalty", responseLength = "response_length", temperature
        case stopToken = "stop_token", stopTokenId = "stop_token_id"
        case rolloutForwardBatchSize = "local_rollout_forward_batch_size", totalEpisodes = "total_episodes"
        case sampleGenerationCount = "num_sample_generations"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        self.init()
        training = try TrainingArguments(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let aliases = try decoder.container(keyedBy: AnyKey.self)
        ppoEpochs = try c.decodeIfPresent(Int.self, forKey: .ppoEpochs) ?? ppoEpochs
        miniBatchCount = try c.decodeIfPresent(Int.self, forKey: .miniBatchCount) ?? miniBatchCount
        clipRange = try c.decodeIfPresent(Float.self, forKey: .clipRange) ?? clipRange
        valueClipRange = try c.decodeIfPresent(Float.self, forKey: .valueClipRange) ?? valueClipRange
        valueCoefficient = try c.decodeIfPresent(Float.self, forKey: .valueCoefficient) ?? valueCoefficient
        gamma = try c.decodeIfPresent(Float.self, forKey: .gamma) ?? gamma
        lambda = try c.decodeIfPresent(Float.self, forKey: .lambda) ?? lambda
        klCoefficient = try c.decodeIfPresent(Float.self, forKey: .klCoefficient) ?? klCoefficient
        // TRL's older `PPOConfig` called these `target` / `horizon` (with `init_kl_coef`); accept them too.
        klTarget = try c.decodeIfPresent(Float.self, forKey: .klTarget) ?? aliases.decodeIfPresent(Float.self, forKey: AnyKey("target_kl"))
        klHorizon = try c.decodeIfPresent(Float.self, forKey: .klHorizon) ?? aliases.decodeIfPresent(Float.self, forKey: AnyKey("horizon")) ?? klHorizon
        if let initial = try aliases.decodeIfPresent(Float.self, forKey: AnyKey("init_kl_coef")) { klCoefficient = initial }
        if let name = try c.decodeIfPresent(String.self, forKey: .klEstimator) {
            guard let estimator = PPOLoss.KLEstimator(rawValue: name) else {
                throw ConfigurationError(key: CodingKeys.klEstimator.rawValue, message: "\"\(name)\" is not k1 or k3")
            }
            klEstimator = estimator
        }
        whitenRewards = try c.decodeIfPresent(Bool.self, forKey: .whitenRewards) ?? whitenRewards
        whitenAdvantages = try c.decodeIfPresent(Bool.self, forKey: .whitenAdvantages) ?? whitenAdvantages
        missingEOSPenalty = try c.decodeIfPresent(Float.self, forKey: .missingEOSPenalty)
        responseLength = try c.decodeIfPresent(Int.self, forKey: .responseLength) ?? responseLength
        temperature = try c.decodeIfPresent(Float.self, forKey: .temperature) ?? temperature
        stopToken = try c.decodeIfPresent(String.self, forKey: .stopToken)
        stopTokenId = try c.decodeIfPresent(Int.self, forKey: .stopTokenId)
        rolloutForwardBatchSize = try c.decodeIfPresent(Int.self, forKey: .rolloutForwardBatchSize) ?? rolloutForwardBatchSize
        totalEpisodes = try c.decodeIfPresent(Int.self, forKey: .totalEpisodes)
        sampleGenerationCount = try c.decodeIfPresent(Int.self, forKey: .sampleGenerationCount) ?? sampleGenerationCount
    }

    public func encode(to encoder: Encoder) throws {
        try training.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ppoEpochs, forKey: .ppoEpochs)
        try c.encode(miniBatchCount, forKey: .miniBatchCount)
        try c.encode(clipRange, forKey: .clipRange)
        try c.encode(valueClipRange, forKey: .valueClipRange)
        try c.encode(valueCoefficient, forKey: .valueCoefficient)
        try c.encode(gamma, forKey: .gamma)
        try c.encode(lambda, forKey: .lambda)
        try c.encode(klCoefficient, forKey: .klCoefficient)
        try c.encodeIfPresent(klTarget, forKey: .klTarget)
        try c.encode(klHorizon, forKey: .klHorizon)
        try c.encode(klEstimator.rawValue, forKey: .klEstimator)
        try c.encode(whitenRewards, forKey: .whitenRewards)
        try c.encode(whitenAdvantages, forKey: .whitenAdvantages)
        try c.encodeIfPresent(missingEOSPenalty, forKey: .missingEOSPenalty)
        try c.encode(responseLength, forKey: .responseLength)
        try c.encode(temperature, forKey: .temperature)
        try c.encodeIfPresent(stopToken, forKey: .stopToken)
        try c.encodeIfPresent(stopTokenId, forKey: .stopTokenId)
        try c.encode(rolloutForwardBatchSize, forKey: .rolloutForwardBatchSize)
        try c.encodeIfPresent(totalEpisodes, forKey: .totalEpisodes)
        try c.encode(sampleGenerationCount, forKey: .sampleGenerationCount)
    }

    /// Every recipe key PPO reads.
    public static var keys: [String] {
        TrainingArguments.keys + CodingKeys.allCases.map(\.rawValue) + ["target_kl", "horizon", "init_kl_coef"]
    }

    /// Rollouts per iteration (TRL's `local_batch_size`).
    public var batchSize: Int { training.batchSize * training.gradientAccumulationSteps }

    /// Iterations (rollout + update) for `promptCount` prompts (TRL's `num_total_batches`).
    public func iterations(promptCount: Int) -> Int {
        if training.maximumSteps > 0 { return training.maximumSteps }
        let episodes = totalEpisodes ?? Int(training.epochs * Float(promptCount))
        return max(1, (episodes + batchSize - 1) / batchSize)
    }

    /// Checks values a run cannot start with, naming the key.
    public func validate() throws {
        try training.validate()
        func require(_ condition: Bool, _ key: CodingKeys, _ message: String) throws {
            if !condition { throw ConfigurationError(key: key.rawValue, message: message) }
        }
        try require(ppoEpochs >= 1, .ppoEpochs, "must be at least 1")
        try require(miniBatchCount >= 1 && batchSize % miniBatchCount == 0, .miniBatchCount,
                    "must divide the batch (per_device_train_batch_size × gradient_accumulation_steps = \(batchSize))")
        try require(clipRange > 0, .clipRange, "must be positive")
        try require(valueClipRange > 0, .valueClipRange, "must be positive")
        try require(gamma >= 0 && gamma <= 1, .gamma, "must be in [0, 1]")
        try require(lambda >= 0 && lambda <= 1, .lambda, "must be in [0, 1]")
        try require(klCoefficient >= 0, .klCoefficient, "must not be negative")
        try require(klTarget.map { $0 > 0 } ?? true, .klTarget, "must be positive (omit it for a fixed kl_coef)")
        try require(klHorizon > 0, .klHorizon, "must be positive")
        try require(responseLength >= 1, .responseLength, "must be at least 1")
        try require(temperature > 0, .temperature, "must be positive (PPO samples its rollouts)")
        try require(stopToken == nil || stopToken == "eos", .stopToken, "must be \"eos\" or absent")
        try require(stopToken == nil || stopTokenId == nil, .stopTokenId, "set stop_token or stop_token_id, not both")
        try require(missingEOSPenalty.map { $0 >= 0 } ?? true, .missingEOSPenalty, "must not be negative")
        try require(rolloutForwardBatchSize >= 1, .rolloutForwardBatchSize, "must be at least 1")
        try require(!whitenRewards || batchSize / miniBatchCount >= 2, .whitenRewards, "needs at least two rollouts per minibatch")
    }
}
