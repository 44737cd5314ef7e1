/// A sequence longer than a model's context (config.json's `n_positions` or `max_position_embeddings`), found
/// before the model runs.
public struct ContextLengthError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What was too long: "sequence 3", "data.jsonl:12", "the prompt".
    public let item: String
    public let tokens: Int
    /// The model's context in tokens.
    public let limit: Int

    public init(item: String, tokens: Int, limit: Int) {
        self.item = item
        self.tokens = tokens
        self.limit = limit
    }

    public var description: String {
        "\(item) has \(tokens) tokens, more than the model's context of \(limit) (n_positions or max_position_embeddings in "
            + "config.json); shorten it to at most \(limit) tokens"
    }
}

extension CausalLanguageModel {
    /// Throws unless a sequence of `tokens` fits the model's context.
    /// - Parameter item: names the sequence in the error ("sequence 3", "data.jsonl:12").
    /// - Throws: `ContextLengthError`.
    public func checkContext(tokens: Int, item: @autoclosure () -> String) throws {
        if let limit = maximumSequenceLength, tokens > limit { throw ContextLengthError(item: item(), tokens: tokens, limit: limit) }
    }
}
