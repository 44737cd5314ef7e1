import Foundation
import Settings

/// Odds Ratio Preference Optimization settings (TRL's `ORPOConfig`, `trl.experimental.orpo` in TRL 1.16); recipe keys
/// are TRL's.
///
/// ORPO: Hong et al. 2024, "ORPO: Monolithic Preference Optimization without Reference Model". One stage instead of
/// SFT then DPO: the chosen completion's NLL plus λ × an odds-ratio penalty that pushes the rejected one down; no
/// reference model. Defaults are TRL 1.16's.
public struct ORPOConfiguration: KeyedSettings, Equatable, Sendable {
    public var training = TrainingArguments()
    /// λ, the weight of the odds-ratio term against the NLL (TRL calls it `beta`; the paper's λ, 0.1 there).
    /// Rewards are logged as β × the length-averaged log-probability.
    public var beta: Float = 0.1
    /// Longest prompt + completion sequence: a longer completion keeps its first tokens (TRL truncates only the
    /// completion). Pairs whose prompt alone fills it are dropped and counted (TRL would keep an empty completion,
    /// whose average log-probability is 0/0). nil: no limit.
    public var maximumLength: Int? = 1024
    /// Turn dropout (here: LoRA dropout) off, as TRL does by default.
    public var disableDropout = true

    /// TRL's ORPO defaults: learning rate 1e-6 (a recipe without `learning_rate` keeps it) and logging every 10 steps.
    public init() { training.learningRate = 1e-6 }

    /// TRL's `ORPOConfig` keys, beside the training arguments'.
    public static var fields: [SettingsField<Self>] {
        let limits = TrainingArguments.Limits.self
        return [.flattened(\.training), .init("beta", \.beta, where: SettingsCheck.positive.and(.atMost(100))),
                .init("max_length", \.maximumLength, where: .from(1, to: limits.sequenceLength)),
                .init("disable_dropout", \.disableDropout)]
    }

    /// Checks values a run cannot start with, naming the key and the value.
    /// - Throws: `SettingsError`.
    public func validate() throws {
        try training.validate()
        try checkRanges()
    }
}
