import LanguageModels

/// The local engine streams text as it generates it. When log-probabilities are requested, every event must be
/// one token with its exact log-probability and alternatives, so the answer is generated first and then sent token
/// by token; otherwise text goes out as soon as it is final (held back only while it could begin a stop string).
extension LocalLanguageModel: StreamingGeneration {
    public nonisolated func streamCompletion(_ request: CompletionRequest) -> AsyncThrowingStream<GenerationEvent, any Error> {
        events(prompt: request.prompt, chat: nil, options: request.options)
    }

    public nonisolated func streamChat(_ request: ChatRequest) -> AsyncThrowingStream<GenerationEvent, any Error> {
        events(prompt: "", chat: request.messages, options: request.options)
    }

    private nonisolated func events(prompt: String, chat: [ChatMessage]?, options: SamplingOptions) -> AsyncThrowingStream<GenerationEvent, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let completion: Completion
                    if options.topLogProbabilities != nil {
                        if let chat {
                            completion = try await self.chat(ChatRequest(messages: chat, options: options))
                        } else {
                            completion = try await self.complete(CompletionRequest(prompt: prompt, options: options))
                        }
                        for token in completion.tokens ?? [] { continuation.yield(.token(token)) }
                    } else {
                        completion = try await self.stream(prompt: prompt, chat: chat, options: options) { text, logProbability in
                            continuation.yield(.token(TokenLogProbability(token: text, logProbability: logProbability)))
                        }
                    }
                    continuation.yield(.finished(completion))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
