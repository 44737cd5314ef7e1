import Foundation
import Hummingbird
import LanguageModels
import NIOCore

@available(macOS 14, iOS 17, tvOS 17, *)  // Hummingbird 2
extension OpenAIServer {
    /// The model's incremental stream, when it has one (streamed requests then skip the batching queue).
    var streamingModel: (any StreamingGeneration)? { model.base as? any StreamingGeneration }

    /// An SSE response written while `produce` runs: each chunk goes out as soon as it is emitted. A failure after
    /// the 200 status has been sent becomes an `{"error": …}` event before `data: [DONE]`.
    static func liveEventStream(
        _ produce: @escaping @Sendable (_ emit: @escaping @Sendable (any Encodable & Sendable) async throws -> Void) async throws -> Void
    ) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                let (events, continuation) = AsyncStream<ByteBuffer>.makeStream()
                let producer = Task {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                    do {
                        try await produce { chunk in
                            let data = try encoder.encode(chunk)
                            continuation.yield(ByteBuffer(string: "data: " + String(decoding: data, as: UTF8.self) + "\n\n"))
                        }
                    } catch {
                        let body = Self.serverError(for: error).body
                        let data = (try? encoder.encode(body)) ?? Data("{}".utf8)
                        continuation.yield(ByteBuffer(string: "data: " + String(decoding: data, as: UTF8.self) + "\n\n"))
                    }
                    continuation.yield(ByteBuffer(string: "data: [DONE]\n\n"))
                    continuation.finish()
                }
                do {
                    for await event in events { try await writer.write(event) }
                } catch {
                    producer.cancel()  // the client went away: stop generating
                    throw error
                }
                try await writer.finish(nil)
            })
    }

    /// Chat streamed token by token from a `StreamingGeneration` model, in its turn of the queue.
    func liveChatStream(_ model: any StreamingGeneration, request: ChatRequest, promptTokens: Int?, wantLogprobs: Bool) -> Response {
        let id = Self.identifier("chatcmpl-"), created = Int(Date().timeIntervalSince1970), modelID = configuration.modelID
        let queue = self.model
        let cost = BatchingLanguageModel.cost(promptTokens: promptTokens ?? request.messages.reduce(0) { $0 + $1.content.count },
                                              options: request.options)
        return Self.liveEventStream { emit in try await queue.exclusive(cost: cost) {
            func chunk(_ delta: ChatCompletionsChunk.Delta, logprobs: ChatLogprobs? = nil, finish: String? = nil) -> ChatCompletionsChunk {
                ChatCompletionsChunk(id: id, created: created, model: modelID,
                                     choices: [.init(index: 0, delta: delta, logprobs: logprobs, finishReason: finish)])
            }
            try await emit(chunk(.init(role: "assistant", content: "")))
            for try await event in model.streamChat(request) {
                switch event {
                case .token(let token):
                    try await emit(chunk(.init(content: token.token), logprobs: wantLogprobs ? ChatLogprobs([token]) : nil))
                case .finished(let completion):
                    try await emit(chunk(.init(), finish: completion.finishReason.rawValue))
                }
            }
        } }
    }

    /// One prompt's completion streamed token by token from a `StreamingGeneration` model, in its turn of the queue.
    func liveCompletionStream(_ model: any StreamingGeneration, request: CompletionRequest, promptTokens: Int?, wantLogprobs: Bool) -> Response {
        let id = Self.identifier("cmpl-"), created = Int(Date().timeIntervalSince1970), modelID = configuration.modelID
        let promptLength = request.prompt.unicodeScalars.count
        let queue = self.model
        let cost = BatchingLanguageModel.cost(promptTokens: promptTokens ?? request.prompt.count, options: request.options)
        return Self.liveEventStream { emit in try await queue.exclusive(cost: cost) {
            func chunk(_ text: String, _ logprobs: CompletionLogprobs?, _ finish: String?) -> CompletionsResponseBody {
                CompletionsResponseBody(id: id, object: "text_completion", created: created, model: modelID,
                                        choices: [.init(index: 0, text: text, logprobs: logprobs, finishReason: finish)])
            }
            var offset = promptLength
            for try await event in model.streamCompletion(request) {
                switch event {
                case .token(let token):
                    try await emit(chunk(token.token, wantLogprobs ? CompletionLogprobs([token], startOffset: offset, includeTop: true) : nil, nil))
                    offset += token.token.unicodeScalars.count
                case .finished(let completion):
                    try await emit(chunk("", nil, completion.finishReason.rawValue))
                }
            }
        } }
    }
}
