import LanguageModels

/// What the server needs to refuse a request before it reaches the model: how many tokens a prompt takes and
/// how many the model attends to.
///
/// The count runs in the request's own task, beside the model, so an oversized prompt costs its tokenization and
/// never a forward pass, and never holds up the requests queued for the model.
public protocol PromptMeasuring: Sendable {
    /// Tokens the model attends to, prompt and completion together; nil when unbounded or unknown.
    var contextLength: Int? { get }
    /// The tokens of a completion prompt, as the model encodes it (with the tokenizer's special tokens).
    func tokenCount(prompt: String) throws -> Int
    /// The tokens of a conversation rendered by the model's chat template.
    /// - Throws: `LanguageModelError.noChatTemplate` when the model has none.
    func tokenCount(messages: [ChatMessage]) throws -> Int
}
