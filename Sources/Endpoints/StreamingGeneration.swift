import LanguageModels

/// What a streaming model reports while it generates.
public enum GenerationEvent: Sendable, Equatable {
    /// The next piece of text, final: the tokens' text concatenated equals the finished completion's text, so a
    /// model that honours stop strings holds back a token until it cannot start a stop string.
    case token(TokenLogProbability)
    /// Generation ended; the completion carries the finish reason and token counts.
    case finished(Completion)
}

/// A model that can report tokens as it generates them; `charter serve` then streams SSE chunks as they come
/// instead of after the whole completion (the local engine's `Generator` has an `onToken` callback for this).
public protocol StreamingGeneration: LanguageModel {
    func streamCompletion(_ request: CompletionRequest) -> AsyncThrowingStream<GenerationEvent, any Error>
    func streamChat(_ request: ChatRequest) -> AsyncThrowingStream<GenerationEvent, any Error>
}
