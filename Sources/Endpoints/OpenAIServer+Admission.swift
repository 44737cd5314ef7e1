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
        // A prompt far longer than the limit is refused after tokenizing a prefix, not all of it (a 1 MiB body is
        // 400k tokens; the prefix ~100 times fewer). A prefix cut in a word may have a token or two more than it
        // has in the whole prompt, hence the margin.
        let margin = 8, bytesPerToken = 32
        if let limit = [configuration.maximumPromptTokens, measure.contextLength].compactMap({ $0 }).min(),
           prompt.utf8.count > bytesPerToken * (limit + margin) {
            let prefix = String(decoding: prompt.utf8.prefix(bytesPerToken * (limit + margin)), as: UTF8.self)
            let count = try measure.tokenCount(prompt: prefix)
            if count > limit + margin {
                _ = try admit(tokens: count - margin, maximumTokens: maximumTokens, explicit: explicit, param: "prompt",
                              maxParam: maxParam, atLeast: true)
            }
        }
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

    /// - Parameter atLeast: `tokens` is a lower bound (counted in a prefix).
    func admit(tokens: Int, maximumTokens: Int, explicit: Bool, param: String, maxParam: String, atLeast: Bool = false) throws -> Admission {
        let counted = atLeast ? "more than \(tokens)" : "\(tokens)"
        if tokens == 0 && maximumTokens > 0 {
            throw ServerError.badRequest("'\(param)' encodes to no tokens; give some text to continue", param: param)
        }
        if let limit = configuration.maximumPromptTokens, tokens > limit {
            throw ServerError.badRequest(
                "'\(param)' has \(counted) tokens; this server accepts at most \(limit) (--max-prompt-tokens)", param: param,
                code: "context_length_exceeded")
        }
        guard let context = measure?.contextLength else { return Admission(promptTokens: tokens, maximumTokens: maximumTokens) }
        if explicit ? tokens + maximumTokens > context : tokens >= context {
            throw ServerError.badRequest(
                "this model's maximum context length is \(context) tokens; the request asks for \(atLeast ? "more than " : "")"
                    + "\(tokens + maximumTokens) (\(counted) in '\(param)', \(maximumTokens) in '\(maxParam)'); shorten the "
                    + (param == "messages" ? "messages" : "prompt")
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
