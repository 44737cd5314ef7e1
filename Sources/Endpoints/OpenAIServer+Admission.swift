import Foundation
import LanguageModels

/// Which requests reach the model: every prompt is measured in its own task before it is queued, and refused with
/// a 400 when it is empty, longer than `--max-prompt-tokens`, or longer (with the tokens it asks for) than the
/// model's context.
@available(macOS 14, iOS 17, tvOS 17, *)  // Hummingbird 2
extension OpenAIServer {
    /// A prompt that may run: its token count (nil when the server cannot measure) and the tokens it may generate.
    struct Admission: Sendable {
        var promptTokens: Int?
        var maximumTokens: Int
    }

    /// Checks a completion prompt.
    /// - Parameters:
    ///   - maximumTokens: the tokens asked for (or the default); `explicit` when the request gave them, else a
    ///     default that shrinks to fit the context.
    /// - Throws: `ServerError` (400) naming `param` or `maxParam`.
    func admit(prompt: String, maximumTokens: Int, explicit: Bool, maxParam: String) throws -> Admission {
        guard let measure else { return Admission(promptTokens: nil, maximumTokens: maximumTokens) }
        return try admit(tokens: try measure.tokenCount(prompt: prompt), maximumTokens: maximumTokens, explicit: explicit,
                         param: "prompt", maxParam: maxParam)
    }

    /// Checks a conversation (rendered by the model's chat template).
    /// - Throws: `ServerError` (400), also when the model has no chat template.
    func admit(messages: [ChatMessage], maximumTokens: Int, explicit: Bool, maxParam: String) throws -> Admission {
        guard let measure else { return Admission(promptTokens: nil, maximumTokens: maximumTokens) }
        return try admit(tokens: try measure.tokenCount(messages: messages), maximumTokens: maximumTokens, explicit: explicit,
                         param: "messages", maxParam: maxParam)
    }

    func admit(tokens: Int, maximumTokens: Int, explicit: Bool, param: String, maxParam: String) throws -> Admission {
        if tokens == 0 && maximumTokens > 0 {
            throw ServerError.badRequest("'\(param)' encodes to no tokens; give some text to continue", param: param)
        }
        if let limit = configuration.maximumPromptTokens, tokens > limit {
            throw ServerError.badRequest(
                "'\(param)' has \(tokens) tokens; this server accepts at most \(limit) (--max-prompt-tokens)", param: param,
                code: "context_length_exceeded")
        }
        guard let context = measure?.contextLength else { return Admission(promptTokens: tokens, maximumTokens: maximumTokens) }
        if explicit ? tokens + maximumTokens > context : tokens >= context {
            throw ServerError.badRequest(
                "this model's maximum context length is \(context) tokens; the request asks for \(tokens + maximumTokens) "
                    + "(\(tokens) in '\(param)', \(maximumTokens) in '\(maxParam)'); shorten the \(param == "messages" ? "messages" : "prompt")"
                    + (explicit ? " or '\(maxParam)'" : ""),
                param: param, code: "context_length_exceeded")
        }
        return Admission(promptTokens: tokens, maximumTokens: min(maximumTokens, context - tokens))
    }

    /// A model failure a client caused (no chat template, an empty or over-long prompt) as a 400; other errors 500.
    static func serverError(for error: any Error) -> ServerError {
        switch error {
        case let error as ServerError: return error
        case LanguageModelError.noChatTemplate(let model, let reason):
            return .badRequest("\(model) has no chat template" + (reason.map { " (\($0))" } ?? "")
                               + "; use /v1/completions, or restart the server with --chat-template NAME", param: "messages",
                               code: "chat_template_missing")
        case LanguageModelError.emptyPrompt:
            return .badRequest("the prompt encodes to no tokens; give some text to continue", param: "prompt")
        case LanguageModelError.promptTooLong(_, let tokens, let limit):
            return .badRequest("this model's maximum context length is \(limit) tokens; the prompt has \(tokens)", param: "prompt",
                               code: "context_length_exceeded")
        default: return .modelFailed(error)
        }
    }
}
