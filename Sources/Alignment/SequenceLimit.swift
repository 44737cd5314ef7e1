import LanguageModels

/// The longest sequence a trainer builds: `max_length`, clamped to the shortest context among the models the
/// sequences go through.
///
/// TRL truncates (SFT, DPO) or drops (reward) sequences longer than `max_length` and leaves the model's context to
/// the user: its default `max_length` of 1024 on a 512-position GPT-2 fails inside the model. Here the data is cut
/// to min(`max_length`, context) instead — the truncation a TRL user already expects from `max_length`, at the
/// length the model can run — and `note` says so in one line.
public struct SequenceLimit: Equatable, Sendable {
    /// The configured `max_length` (nil: none).
    public let configured: Int?
    /// The shortest context of the models (nil: none declares one).
    public let context: Int?

    public init(maximumLength: Int?, models: [any CausalLanguageModel]) {
        configured = maximumLength
        context = models.compactMap(\.maximumSequenceLength).min()
    }

    /// The length sequences are cut to (or pairs longer than it dropped): min(max_length, context).
    public var length: Int? {
        switch (configured, context) {
        case let (configured?, context?): return min(configured, context)
        case let (configured, context): return configured ?? context
        }
    }

    /// "max_length 1024 is longer than the model's context of 512 tokens: sequences are limited to 512", when the
    /// context cut the configured length.
    public var note: String? {
        guard let context, configured.map({ $0 > context }) ?? true else { return nil }
        return (configured.map { "max_length \($0) is longer than" } ?? "max_length is unset; using")
            + " the model's context of \(context) tokens: sequences are limited to \(context)"
    }
}
