import Foundation

/// The one interface to a language model that everything above the model layer uses — critique and revision,
/// AI feedback, rollouts, evaluation. Implemented by the local engine (`LocalLanguageModel`) and by clients of
/// OpenAI-compatible servers (vLLM, TGI, llama.cpp, Ollama, `charter serve`); callers never know which.
public protocol LanguageModel: Sendable {
    /// A name for logs, caches and audit trails (model folder or served model id).
    var name: String { get }
    /// Continues a plain-text prompt (OpenAI `/v1/completions`).
    func complete(_ request: CompletionRequest) async throws -> Completion
    /// Answers a conversation, formatted with the model's chat template (OpenAI `/v1/chat/completions`).
    func chat(_ request: ChatRequest) async throws -> Completion
    /// Log-probabilities of `completion` after `prompt` (OpenAI completions with `echo` and `max_tokens` 0).
    func score(prompt: String, completion: String) async throws -> Score
}

public struct CompletionRequest: Codable, Equatable, Sendable {
    public var prompt: String
    public var options: SamplingOptions
    public init(prompt: String, options: SamplingOptions = SamplingOptions()) {
        self.prompt = prompt
        self.options = options
    }
}

/// One message of a conversation (`role` is "system", "user" or "assistant").
public struct ChatMessage: Codable, Equatable, Hashable, Sendable {
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

public struct ChatRequest: Codable, Equatable, Sendable {
    public var messages: [ChatMessage]
    public var options: SamplingOptions
    public init(messages: [ChatMessage], options: SamplingOptions = SamplingOptions()) {
        self.messages = messages
        self.options = options
    }
}

/// A generated token with its log-probability and, when asked for, the most likely alternatives.
public struct TokenLogProbability: Codable, Equatable, Sendable {
    public var token: String
    public var logProbability: Float
    public var top: [Alternative]

    public struct Alternative: Codable, Equatable, Sendable {
        public var token: String
        public var logProbability: Float
        public init(token: String, logProbability: Float) {
            self.token = token
            self.logProbability = logProbability
        }
    }

    public init(token: String, logProbability: Float, top: [Alternative] = []) {
        self.token = token
        self.logProbability = logProbability
        self.top = top
    }
}

/// A generated continuation.
public struct Completion: Codable, Equatable, Sendable {
    public var text: String
    public var finishReason: FinishReason
    /// Per generated token, when log-probs were requested.
    public var tokens: [TokenLogProbability]?
    public var promptTokenCount: Int
    public var completionTokenCount: Int

    public init(text: String, finishReason: FinishReason, tokens: [TokenLogProbability]? = nil,
                promptTokenCount: Int, completionTokenCount: Int) {
        self.text = text
        self.finishReason = finishReason
        self.tokens = tokens
        self.promptTokenCount = promptTokenCount
        self.completionTokenCount = completionTokenCount
    }
}

/// Log-probabilities of a given completion.
public struct Score: Codable, Equatable, Sendable {
    /// The completion's tokens with log p(token | prompt, earlier completion tokens).
    public var tokens: [TokenLogProbability]
    /// Σ of the tokens' log-probabilities.
    public var totalLogProbability: Double { tokens.reduce(0) { $0 + Double($1.logProbability) } }

    public init(tokens: [TokenLogProbability]) { self.tokens = tokens }
}
