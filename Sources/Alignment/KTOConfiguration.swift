import Foundation
import Settings

/// Kahneman–Tversky Optimization settings (TRL's `KTOConfig`); recipe keys are TRL's.
///
/// KTO: Ethayarajh et al. 2024, "KTO: Model Alignment as Prospect Theoretic Optimization" — learns from examples
/// labelled desirable or undesirable, with no pairs needed. Defaults are TRL 1.16's.
public struct KTOConfiguration: KeyedSettings, Equatable, Sendable {
    public var training = TrainingArguments()
    /// β: how far the policy may move from the reference (the scale of the implied reward β·log π/π_ref; eq. 7).
    public var beta: Float = 0.1
    /// `kto` (eq. 7 of the paper: rewards measured against the batch's KL estimate) or `apo_zero_unpaired`
    /// (D'Oosterlinck et al. 2024, APO-zero without pairs: no KL term).
    public var lossType = "kto"
    /// λ_D, the weight of desirable examples' losses. With unbalanced data the paper (eq. 8) suggests
    /// λ_D·n_D / (λ_U·n_U) in [1, 4/3].
    public var desirableWeight: Float = 1
    /// λ_U, the weight of undesirable examples' losses.
    public var undesirableWeight: Float = 1
    /// Longest prompt + completion sequence: longer ones keep their first tokens; examples whose prompt alone fills
    /// it are dropped (as TRL). nil: no limit.
    public var maximumLength: Int? = 1024
    /// Compute the reference log-probabilities of every example — of its completion and, for `kto`, of the
    /// mismatched completion its KL term uses — once before training (TRL's `precompute_ref_log_probs`), so the
    /// reference model need not stay in memory or run at every step. The mismatched completions are then fixed as
    /// TRL fixes them (rotated within dataset-order blocks of `per_device_train_batch_size`), which only sequential
    /// sampling keeps in one batch with their completions.
    public var precomputeReferenceLogProbabilities = false
    /// Batch size of that pass (nil: the train / eval batch size).
    public var precomputeReferenceBatchSize: Int? = nil
    /// Turn dropout (here: LoRA dropout) off, as TRL does by default.
    public var disableDropout = true

    /// TRL's KTO defaults: learning rate 1e-6 (a recipe without `learning_rate` keeps it), logging every 10 steps, and
    /// sequential sampling (`KTOConfig.train_sampling_strategy`; TRL's trainer refuses any other with the KL term, so
    /// an exported recipe runs there).
    public init() {
        training.learningRate = 1e-6
        training.trainSamplingStrategy = "sequential"
    }

    /// TRL's `KTOConfig` keys, beside the training arguments'.
    public static var fields: [SettingsField<Self>] {
        let limits = TrainingArguments.Limits.self
        return [.flattened(\.training), .init("beta", \.beta, where: SettingsCheck.positive.and(.atMost(100))),
                .init("loss_type", \.lossType, where: .oneOf(["kto", "apo_zero_unpaired"])),
                .init("desirable_weight", \.desirableWeight, where: .within(0...100)),
                .init("undesirable_weight", \.undesirableWeight, where: .within(0...100)),
                .init("max_length", \.maximumLength, where: .from(1, to: limits.sequenceLength)),
                .init("precompute_ref_log_probs", \.precomputeReferenceLogProbabilities),
                .init("precompute_ref_batch_size", \.precomputeReferenceBatchSize, where: .from(1, to: limits.batchSize)),
                .init("disable_dropout", \.disableDropout)]
    }

    /// Whether the loss needs the KL estimate from mismatched prompt/completion pairs.
    public var estimatesKL: Bool { lossType == "kto" }

    /// Checks values a run cannot start with, naming the key and the value.
    /// - Throws: `SettingsError`.
    public func validate() throws {
        try training.validate()
        try checkRanges()
        if estimatesKL && training.batchSize < 2 {
            throw SettingsError(key: "per_device_train_batch_size",
                                message: "must be at least 2 for KTO: the KL term is estimated from mismatched pairs within a batch")
        }
        if estimatesKL && precomputeReferenceLogProbabilities && training.trainSamplingStrategy != "sequential" {
            throw SettingsError(key: "train_sampling_strategy",
                                message: "must be sequential (TRL's KTO default) with precompute_ref_log_probs: the reference's KL "
                                    + "log-probabilities are computed once for the mismatched pairs of fixed dataset-order batches, "
                                    + "which \"\(training.trainSamplingStrategy)\" sampling would break up; set train_sampling_strategy: "
                                    + "sequential, or loss_type: apo_zero_unpaired (no KL term)")
        }
    }
}
