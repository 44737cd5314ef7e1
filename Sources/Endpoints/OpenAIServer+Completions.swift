import Foundation
import Hummingbird
import LanguageModels

@available(macOS 14, iOS 17, tvOS 17, *)  // Hummingbird 2
extension OpenAIServer {
    /// `POST /v1/completions`: one choice per prompt; `echo` prepends the prompt (and its log-probs, the first
    /// token's being `null` as in OpenAI's API).
    func completions(_ body: CompletionsRequestBody) async throws -> Response {
        var options = try samplingOptions(model: body.model, n: body.n, temperature: body.temperature, topP: body.topP,
                                          topK: body.topK, minP: body.minP, stop: body.stop, seed: body.seed)
        options.maximumTokens = try maximumTokens(body.maxTokens, fallback: configuration.defaultCompletionTokens, param: "max_tokens")
        if let logprobs = body.logprobs, !(0...20).contains(logprobs) {
            throw ServerError.badRequest("'logprobs' must be in 0...20 (got \(logprobs))", param: "logprobs")
        }
        let prompts = body.prompt.values
        if prompts.isEmpty { throw ServerError.badRequest("'prompt' is an empty list", param: "prompt") }
        if prompts.count > configuration.maximumBatchSize * 4 {
            throw ServerError.badRequest("at most \(configuration.maximumBatchSize * 4) prompts per request", param: "prompt")
        }
        let echo = body.echo ?? false, stream = body.stream ?? false
        // Streaming splits the text at token boundaries, so it needs the tokens even without log-probs.
        options.topLogProbabilities = body.logprobs ?? (stream ? 0 : nil)
        // Measured here, in the request's task: a prompt the model cannot take never reaches its queue.
        let admissions = try prompts.map {
            try admit(prompt: $0, maximumTokens: options.maximumTokens, explicit: body.maxTokens != nil, maxParam: "max_tokens")
        }
        if stream, !echo, prompts.count == 1, let streaming = streamingModel {
            var streamOptions = options
            streamOptions.maximumTokens = admissions[0].maximumTokens
            return liveCompletionStream(streaming, request: CompletionRequest(prompt: prompts[0], options: streamOptions),
                                        promptTokens: admissions[0].promptTokens, wantLogprobs: body.logprobs != nil)
        }
        let model = self.model
        let scoreOnly = options.maximumTokens == 0
        let requestOptions = options
        let results = try await withThrowingTaskGroup(of: (Int, Completion, Score?).self) { group in
            for (index, prompt) in prompts.enumerated() {
                let admission = admissions[index]
                group.addTask {
                    var promptOptions = requestOptions
                    promptOptions.maximumTokens = admission.maximumTokens
                    let completion = scoreOnly
                        ? Completion(text: "", finishReason: .length, tokens: requestOptions.topLogProbabilities == nil ? nil : [],
                                     promptTokenCount: 0, completionTokenCount: 0)
                        : try await model.complete(CompletionRequest(prompt: prompt, options: promptOptions),
                                                   promptTokens: admission.promptTokens)
                    let promptScore = echo && body.logprobs != nil && !prompt.isEmpty
                        ? try await Self.promptLogProbabilities(prompt, model: model) : nil
                    return (index, completion, promptScore)
                }
            }
            var results = [(Completion, Score?)?](repeating: nil, count: prompts.count)
            for try await (index, completion, score) in group { results[index] = (completion, score) }
            return results.compactMap { $0 }
        }

        let id = Self.identifier("cmpl-"), created = Int(Date().timeIntervalSince1970)
        var choices: [CompletionsResponseBody.Choice] = []
        var promptTokens = 0, completionTokens = 0
        for (index, (completion, promptScore)) in results.enumerated() {
            let prompt = prompts[index]
            var logprobs: CompletionLogprobs?
            if body.logprobs != nil {
                let generated = CompletionLogprobs(
                    completion.tokens ?? [], startOffset: prompt.unicodeScalars.count,
                    includeTop: true)
                if echo {
                    var echoed = CompletionLogprobs(promptScore?.tokens ?? [], startOffset: 0, includeTop: true)
                    if !echoed.tokens.isEmpty {
                        echoed.tokenLogprobs[0] = nil
                        echoed.topLogprobs?[0] = nil
                    }
                    echoed.tokens += generated.tokens
                    echoed.tokenLogprobs += generated.tokenLogprobs
                    echoed.topLogprobs = (echoed.topLogprobs ?? []) + (generated.topLogprobs ?? [])
                    echoed.textOffset = (echoed.textOffset ?? []) + (generated.textOffset ?? [])
                    logprobs = echoed
                } else {
                    logprobs = generated
                }
            }
            let promptCount = completion.promptTokenCount > 0 ? completion.promptTokenCount : (promptScore?.tokens.count ?? 0)
            promptTokens += promptCount
            completionTokens += completion.completionTokenCount
            choices.append(.init(index: index, text: (echo ? prompt : "") + completion.text, logprobs: logprobs,
                                 finishReason: completion.finishReason.rawValue))
        }
        let usage = Usage(promptTokens: promptTokens, completionTokens: completionTokens, totalTokens: promptTokens + completionTokens)
        guard stream else {
            return Self.json(CompletionsResponseBody(id: id, object: "text_completion", created: created,
                                                     model: configuration.modelID, choices: choices, usage: usage))
        }
        var chunks: [CompletionsResponseBody] = []
        func chunk(_ index: Int, _ text: String, _ logprobs: CompletionLogprobs?, _ finish: String?) -> CompletionsResponseBody {
            CompletionsResponseBody(id: id, object: "text_completion", created: created, model: configuration.modelID,
                                    choices: [.init(index: index, text: text, logprobs: logprobs, finishReason: finish)])
        }
        for (index, choice) in choices.enumerated() {
            let (completion, promptScore) = results[index]
            let promptLength = prompts[index].unicodeScalars.count
            if echo {
                // The echoed prompt first, with its log-probs (the leading entries of the choice's columns).
                var echoed = choice.logprobs
                if let count = promptScore?.tokens.count, var columns = echoed {
                    columns.tokens = Array(columns.tokens.prefix(count))
                    columns.tokenLogprobs = Array(columns.tokenLogprobs.prefix(count))
                    columns.topLogprobs = columns.topLogprobs.map { Array($0.prefix(count)) }
                    columns.textOffset = columns.textOffset.map { Array($0.prefix(count)) }
                    echoed = columns
                }
                chunks.append(chunk(index, prompts[index], echoed, nil))
            }
            for piece in Self.pieces(of: completion, wantLogprobs: body.logprobs != nil) {
                chunks.append(chunk(index, piece.text,
                                    piece.tokens.map { CompletionLogprobs($0, startOffset: promptLength + piece.offset, includeTop: true) },
                                    nil))
            }
            chunks.append(chunk(index, "", nil, choice.finishReason))
        }
        return Self.eventStream(chunks)
    }

    /// The prompt's own tokens with their log-probs (the first one's is reported as null). Models that need a
    /// non-empty context (a tokenizer without BOS) score the rest of the prompt after its first character.
    static func promptLogProbabilities(_ prompt: String, model: any LanguageModel) async throws -> Score {
        do {
            return try await model.score(prompt: "", completion: prompt)
        } catch {
            let first = String(prompt.prefix(1))
            let rest = try await model.score(prompt: first, completion: String(prompt.dropFirst()))
            return Score(tokens: [TokenLogProbability(token: first, logProbability: 0)] + rest.tokens)
        }
    }

    /// A completion cut into streamable pieces: one per token when the tokens spell the text, else one piece.
    /// `offset` counts Unicode scalars from the start of the completion.
    static func pieces(of completion: Completion, wantLogprobs: Bool)
        -> [(text: String, offset: Int, tokens: [TokenLogProbability]?)] {
        let tokens = completion.tokens ?? []
        guard !tokens.isEmpty, tokens.map(\.token).joined() == completion.text else {
            return completion.text.isEmpty && !wantLogprobs ? [] : [(completion.text, 0, wantLogprobs ? tokens : nil)]
        }
        var offset = 0
        return tokens.map { token in
            defer { offset += token.token.unicodeScalars.count }
            return (token.token, offset, wantLogprobs ? [token] : nil)
        }
    }
}
