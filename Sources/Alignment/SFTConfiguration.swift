import Settings

/// Supervised fine-tuning settings (TRL's `SFTConfig`); recipe keys are TRL's.
public struct SFTConfiguration: KeyedSettings, Equatable, Sendable {
    public var training = TrainingArguments()
    /// Longest tokenized sequence; longer ones are truncated (and counted).
    public var maximumLength = 1024
    /// Loss only on completion tokens of prompt–completion data (TRL's `completion_only_loss`).
    public var completionOnlyLoss = true
    /// Loss only on assistant tokens of conversations (TRL's `assistant_only_loss`; on by default here).
    public var assistantOnlyLoss = true
    /// Pack examples into rows of `max_length` tokens (TRL's `packing`), as `packingStrategy` says.
    public var packing = false
    /// How `packing` fills rows (TRL's `packing_strategy`): `bfd` (TRL's default) and `bfd_split` keep each example
    /// apart in its row; `wrapped` cuts one stream of tokens, across examples.
    public var packingStrategy = SequencePacking.bestFitDecreasing
    /// Concatenate each batch's rows into one row without padding (TRL's `padding_free`); each example still attends
    /// only to itself, so the loss is the padded batch's. TRL turns it on with `bfd` packing, and so does Charter.
    public var paddingFree = false

    /// Whether batches are padding-free: asked for, or implied by bfd packing (as in TRL's `SFTTrainer`).
    public var effectivePaddingFree: Bool { paddingFree || (packing && packingStrategy != .wrapped) }

    /// TRL's SFT default learning rate, 2e-5, differs from transformers' (a recipe without `learning_rate` keeps it).
    public init() { training.learningRate = 2e-5 }

    /// TRL's `SFTConfig` keys, beside the training arguments' (defaults are the property values above; upper bounds
    /// are `TrainingArguments.Limits`).
    public static var fields: [SettingsField<Self>] {
        [.flattened(\.training), .init("max_length", \.maximumLength, where: .from(1, to: TrainingArguments.Limits.sequenceLength)),
         .init("completion_only_loss", \.completionOnlyLoss), .init("assistant_only_loss", \.assistantOnlyLoss),
         .init("packing", \.packing), .init("packing_strategy", \.packingStrategy), .init("padding_free", \.paddingFree)]
    }

    /// Checks values a run cannot start with, naming the key and the value.
    /// - Throws: `SettingsError`.
    public func validate() throws {
        try training.validate()
        try checkRanges()
    }
}
