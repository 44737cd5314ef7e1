import Foundation

/// Reward-model settings (TRL's `RewardConfig`); recipe keys are TRL's.
///
/// The model is trained on pairwise preferences with the Bradley–Terry loss (Ouyang et al. 2022,
/// "Training language models to follow instructions with human feedback"; Stiennon et al. 2020).
public struct RewardConfiguration: Codable, Equatable, Sendable {
    public var training = TrainingArguments()
    /// Longest tokenized prompt + completion; pairs with a longer chosen or rejected sequence are dropped (and
    /// counted), as TRL filters them. nil: no limit.
    public var maximumLength: Int? = 1024
    /// Coefficient of the mean squared sum of the pair's rewards, which keeps rewards centred on zero
    /// (Eisenstein et al. 2023, "Helping or Herding?", Eq. 2; TRL recommends 0.01). nil: off.
    public var centerRewardsCoefficient: Float? = nil
    /// Examples per evaluation batch (transformers' `per_device_eval_batch_size`).
    public var evaluationBatchSize = 8
    /// Turn dropout off in the model (Charter's models have none outside LoRA; kept for TRL recipes).
    public var disableDropout = true

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maximumLength = "max_length", centerRewardsCoefficient = "center_rewards_coefficient"
        case evaluationBatchSize = "per_device_eval_batch_size", disableDropout = "disable_dropout"
    }

    /// TRL's reward defaults: learning rate 1e-4.
    public init() { training.learningRate = 1e-4 }

    public init(from decoder: Decoder) throws {
        self.init()
        training = try TrainingArguments(from: decoder)
        if try !decoder.container(keyedBy: AnyKey.self).contains(AnyKey("learning_rate")) { training.learningRate = 1e-4 }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if c.contains(.maximumLength) { maximumLength = try c.decodeIfPresent(Int.self, forKey: .maximumLength) }
        centerRewardsCoefficient = try c.decodeIfPresent(Float.self, forKey: .centerRewardsCoefficient)
        evaluationBatchSize = try c.decodeIfPresent(Int.self, forKey: .evaluationBatchSize) ?? evaluationBatchSize
        disableDropout = try c.decodeIfPresent(Bool.self, forKey: .disableDropout) ?? disableDropout
    }

    public func encode(to encoder: Encoder) throws {
        try training.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(maximumLength, forKey: .maximumLength)
        try c.encode(centerRewardsCoefficient, forKey: .centerRewardsCoefficient)
        try c.encode(evaluationBatchSize, forKey: .evaluationBatchSize)
        try c.encode(disableDropout, forKey: .disableDropout)
    }

    /// Every recipe key a reward recipe may hold.
    public static var keys: [String] { TrainingArguments.keys + CodingKeys.allCases.map(\.rawValue) }

    /// Checks values a run cannot start with, naming the key.
    public func validate() throws {
        try training.validate()
        if let maximumLength, maximumLength < 1 { throw ConfigurationError(key: CodingKeys.maximumLength.rawValue, message: "must be at least 1 (or null)") }
        if let coefficient = centerRewardsCoefficient, coefficient < 0 {
            throw ConfigurationError(key: CodingKeys.centerRewardsCoefficient.rawValue, message: "must not be negative")
        }
        if evaluationBatchSize < 1 { throw ConfigurationError(key: CodingKeys.evaluationBatchSize.rawValue, message: "must be at least 1") }
    }
}
