import Foundation
import Hummingbird
import LanguageModels

@available(macOS 14, iOS 17, tvOS 17, *)  // Hummingbird 2
extension OpenAIServer {
    static let chatRoles: Set<String> = ["system", "user", "assistant", "developer"]

    /// `POST /v1/chat/completions`.
    func chatCompletions(_ body: ChatCompletionsRequestBody) async throws -> Response {
        var options = try samplingOptions(model: body.model, n: body.n, temperature: body.temperature, topP: body.topP,
                                          topK: body.topK, minP: body.minP, stop: body.stop, seed: body.seed)
        let param = body.maxCompletionTokens != nil ? "max_completion_tokens" : "max_tokens"
        options.maximumTokens = try maximumTokens(body.maxCompletionTokens ?? body.maxTokens,
                                                  fallback: configuration.defaultChatTokens, param: param)
        if body.messages.isEmpty { throw ServerError.badRequest("'messages' is empty", param: "messages") }
        for (index, message) in body.messages.enumerated() where !Self.chatRoles.contains(message.role) {
            throw ServerError.badRequest(
                "'messages[\(index)].role' is '\(message.role)'; expected system, user or assistant", param: "messages[\(index)].role")
        }
        if let top = body.topLogprobs {
            guard body.logprobs == true else {
                throw ServerError.badRequest("'top_logprobs' needs 'logprobs': true", param: "top_logprobs")
            }
            guard (0...20).contains(top) else {
                throw ServerError.badRequest("'top_logprobs' must be in 0...20 (got \(top))", param: "top_logprobs")
            }
        }
        let wantLogprobs = body.logprobs == true, stream = body.stream ?? false
        options.topLogProbabilities = wantLogprobs ? (body.topLogprobs ?? 0) : (stream ? 0 : nil)
        let messages = body.messages.map { ChatMessage(role: $0.role == "developer" ? "system" : $0.role, content: $0.content) }
        // Measured here, in the request's task: a conversation the model cannot take never reaches its queue.
        let admission = try admit(messages: messages, maximumTokens: options.maximumTokens,
                                  explicit: (body.maxCompletionTokens ?? body.maxTokens) != nil, maxParam: param)
        options.maximumTokens = admission.maximumTokens
        if stream, let streaming = streamingModel {
            return liveChatStream(streaming, request: ChatRequest(messages: messages, options: options),
                                  promptTokens: admission.promptTokens, wantLogprobs: wantLogprobs)
        }
        let completion = try await model.chat(ChatRequest(messages: messages, options: options), promptTokens: admission.promptTokens)

        let id = Self.identifier("chatcmpl-"), created = Int(Date().timeIntervalSince1970)
        guard stream else {
            let usage = Usage(promptTokens: completion.promptTokenCount, completionTokens: completion.completionTokenCount,
                              totalTokens: completion.promptTokenCount + completion.completionTokenCount)
            let choice = ChatCompletionsResponseBody.Choice(
                index: 0, message: .init(role: "assistant", content: completion.text),
                logprobs: wantLogprobs ? ChatLogprobs(completion.tokens ?? []) : nil,
                finishReason: completion.finishReason.rawValue)
            return Self.json(ChatCompletionsResponseBody(
                id: id, object: "chat.completion", created: created, model: configuration.modelID, choices: [choice], usage: usage))
        }
        func chunk(_ delta: ChatCompletionsChunk.Delta, logprobs: ChatLogprobs? = nil, finish: String? = nil) -> ChatCompletionsChunk {
            ChatCompletionsChunk(id: id, created: created, model: configuration.modelID,
                                 choices: [.init(index: 0, delta: delta, logprobs: logprobs, finishReason: finish)])
        }
        var chunks = [chunk(.init(role: "assistant", content: ""))]
        for piece in Self.pieces(of: completion, wantLogprobs: wantLogprobs) {
            chunks.append(chunk(.init(content: piece.text), logprobs: piece.tokens.map { ChatLogprobs($0) }))
        }
        chunks.append(chunk(.init(), finish: completion.finishReason.rawValue))
        return Self.eventStream(chunks)
    }
}
