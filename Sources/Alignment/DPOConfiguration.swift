import Foundation
import Settings

/// Direct Preference Optimization settings (TRL's `DPOConfig`); recipe keys are TRL's.
///
/// DPO: Rafailov et al. 2023, "Direct Preference Optimization: Your Language Model is Secretly a Reward Model".
/// Defaults are TRL 1.16's, except where a field is an extension TRL dropped in its 1.0 refactor (`rpo_alpha`,
/// `max_prompt_length`, SimPO's `simpo_gamma`) — those default to "off".
public struct DPOConfiguration: KeyedSettings, Equatable, Sendable {
    public var training = TrainingArguments()
    /// β: how far the policy may move from the reference (the KL coefficient of the implicit reward β·log π/π_ref;
    /// Rafailov et al. 2023). For IPO it is τ (Azar et al. 2023), for SimPO the reward scale (Meng et al. 2024).
    public var beta: Float = 0.1
    /// Loss variants summed with `loss_weights` (TRL's `loss_type`, a name or a list): `sigmoid` (DPO), `ipo`,
    /// `hinge` (SLiC, Zhao et al. 2023), `robust` (Chowdhury et al. 2024), `simpo` (Meng et al. 2024,
    /// reference-free), `sft` (NLL on the chosen completion; with sigmoid this is RPO, Pang et al. 2024).
    public var lossTypes: [DPOLossType] = [.sigmoid]
    /// Weight of each entry of `loss_type` (nil: 1 each; MPO-style mixtures, Wang et al. 2024).
    public var lossWeights: [Float]? = nil
    /// ε, the assumed probability that a preference label is flipped: conservative DPO for `sigmoid`
    /// (Mitchell 2023; TRL before 1.0 — TRL 1.16 ignores it there), robust DPO (Chowdhury et al. 2024), SimPO.
    public var labelSmoothing: Float = 0
    /// α of RPO (Pang et al. 2024, "Iterative Reasoning Preference Optimization"): adds α × the chosen completion's
    /// per-token NLL, against the known failure where the chosen log-probability falls. nil: off. Same as adding
    /// `sft` to `loss_type` with weight α.
    public var rpoAlpha: Float? = nil
    /// SimPO's target reward margin γ (Meng et al. 2024; TRL's CPOConfig `simpo_gamma`).
    public var simpoGamma: Float = 0.5
    /// Longest prompt + completion sequence; longer ones are cut per `truncation_mode` (and counted). nil: no limit.
    /// Examples whose prompt alone fills it are dropped with keep_start, as TRL does.
    public var maximumLength: Int? = 1024
    /// Longest prompt: longer prompts keep their last tokens (TRL before 1.0). nil: no separate prompt limit.
    public var maximumPromptLength: Int? = nil
    /// "keep_start" (cut the end of long sequences) or "keep_end" (cut their beginning), as TRL.
    public var truncationMode = "keep_start"
    /// Compute the reference log-probabilities of every example once, before training (TRL's
    /// `precompute_ref_log_probs`), so the reference model need not stay in memory.
    public var precomputeReferenceLogProbabilities = false
    /// Batch size of that pass (nil: the train / eval batch size).
    public var precomputeReferenceBatchSize: Int? = nil
    /// Turn dropout (here: LoRA dropout) off in policy and reference, as TRL does by default.
    public var disableDropout = true

    /// TRL's DPO defaults: learning rate 1e-6 (a recipe without `learning_rate` keeps it) and logging every 10 steps.
    public init() { training.learningRate = 1e-6 }

    /// TRL's `DPOConfig` keys, beside the training arguments' (defaults are the property values above; upper bounds
    /// of counts and lengths are `TrainingArguments.Limits`).
    public static var fields: [SettingsField<Self>] {
        let limits = TrainingArguments.Limits.self
        return [.flattened(\.training), .init("beta", \.beta, where: SettingsCheck.positive.and(.atMost(100))),
         .init("loss_type", oneOrMany: \.lossTypes, where: SettingsCheck { $0.isEmpty ? "needs at least one loss type" : nil }),
         .init("loss_weights", \.lossWeights, where: SettingsCheck<[Float]> { weights in
             weights.allSatisfy { $0.isFinite && $0 >= 0 } ? nil : "must be numbers of at least 0" }),
         .init("label_smoothing", \.labelSmoothing, where: .within(0..<0.5)),
         .init("rpo_alpha", \.rpoAlpha, where: .within(0...100)), .init("simpo_gamma", \.simpoGamma, where: .within(0...100)),
         .init("max_length", \.maximumLength, where: .from(1, to: limits.sequenceLength)),
         .init("max_prompt_length", \.maximumPromptLength, where: .from(1, to: limits.sequenceLength)),
         .init("truncation_mode", \.truncationMode, where: .oneOf(["keep_start", "keep_end"])),
         .init("precompute_ref_log_probs", \.precomputeReferenceLogProbabilities),
         .init("precompute_ref_batch_size", \.precomputeReferenceBatchSize, where: .from(1, to: limits.batchSize)),
         .init("disable_dropout", \.disableDropout)]
    }

    /// Each loss with its weight, `rpo_alpha` included as an `sft` term.
    public var weightedLosses: [(DPOLossType, Float)] {
        var terms = Array(zip(lossTypes, lossWeights ?? lossTypes.map { _ in 1 }))
        if let rpoAlpha, rpoAlpha != 0 { terms.append((.sft, rpoAlpha)) }
        return terms
    }

    /// Whether the objective needs no reference model (every term is reference-free).
    public var isReferenceFree: Bool { lossTypes.allSatisfy { $0 == .simpo || $0 == .sft } }

    /// Checks values a run cannot start with, naming the key and the value.
    /// - Throws: `SettingsError`.
    public func validate() throws {
        try training.validate()
        try checkRanges()
        if let lossWeights, lossWeights.count != lossTypes.count {
            throw SettingsError(key: "loss_weights", message: "has \(lossWeights.count) weights for \(lossTypes.count) loss types")
        }
    }
}

/// DPO loss variants (`loss_type`), each a term of `DPOConfiguration.weightedLosses`.
public enum DPOLossType: String, Codable, CaseIterable, Sendable {
    case sigmoid, ipo, hinge, robust, simpo, sft

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let kind = DPOLossType(rawValue: name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription:
                "loss type \"\(name)\" is not supported; supported: \(DPOLossType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = kind
    }

    /// The pure loss this term uses (nil for `sft`, the NLL term).
    var preferenceKind: PreferenceLoss.Kind? { PreferenceLoss.Kind(rawValue: rawValue) }
}
