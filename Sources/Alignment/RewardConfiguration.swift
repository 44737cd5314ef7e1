import Foundation
import Settings

/// Reward-model settings (TRL's `RewardConfig`); recipe keys are TRL's.
///
/// The model is trained on pairwise preferences with the Bradley–Terry loss (Ouyang et al. 2022,
/// "Training language models to follow instructions with human feedback"; Stiennon et al. 2020).
public struct RewardConfiguration: KeyedSettings, Equatable, Sendable {
    public var training = TrainingArguments()
    /// Longest tokenized prompt + completion; pairs with a longer chosen or rejected sequence are dropped (and
    /// counted), as TRL filters them. nil: no limit.
    public var maximumLength: Int? = 1024
    /// Coefficient of the mean squared sum of the pair's rewards, which keeps rewards centred on zero
    /// (Eisenstein et al. 2023, "Helping or Herding?", Eq. 2; TRL recommends 0.01). nil: off.
    public var centerRewardsCoefficient: Float? = nil
    /// Turn dropout off in the model (Charter's models have none outside LoRA; kept for TRL recipes).
    public var disableDropout = true

    /// TRL's reward defaults: learning rate 1e-4 (a recipe without `learning_rate` keeps it).
    public init() { training.learningRate = 1e-4 }

    /// TRL's `RewardConfig` keys, beside the training arguments' (defaults are the property values above; upper bounds
    /// are `TrainingArguments.Limits`).
    public static var fields: [SettingsField<Self>] {
        [.flattened(\.training), .init("max_length", \.maximumLength, where: .from(1, to: TrainingArguments.Limits.sequenceLength)),
         .init("center_rewards_coefficient", \.centerRewardsCoefficient, where: .within(0...100)),
         .init("disable_dropout", \.disableDropout)]
    }

    /// Checks values a run cannot start with, naming the key and the value.
    /// - Throws: `SettingsError`.
    public func validate() throws {
        try training.validate()
        try checkRanges()
    }
}
