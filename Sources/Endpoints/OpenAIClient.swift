import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LanguageModels
import Runtime

/// A `LanguageModel` served by one or more OpenAI-compatible servers (vLLM, TGI, llama.cpp, Ollama,
/// `charter serve`).
///
/// Requests go to the endpoint with the fewest requests in flight, at most `max_concurrency` at once. Connection
/// errors, timeouts, 429 and 5xx are retried with exponential backoff and full jitter (429/503 wait for
/// `Retry-After` when the server sends it); other 4xx fail at once. With `cache_dir` set, every response is kept on
/// disk under the hash of (model, request body): identical requests — including sampled ones with the same seed —
/// are answered from the cache, so vary `seed` to draw new samples.
///
/// Call `shutdown()` when done to close connections.
public final class OpenAIClient: LanguageModel {
    public let configuration: EndpointConfiguration
    public var name: String { configuration.model }

    let baseURLs: [String]
    let pool: EndpointPool
    let cache: ResponseCache?
    private let http: HTTPTransport
    private let authorization: String?
    /// Responses larger than this are refused (a runaway server must not exhaust memory).
    private let maximumResponseBytes = 64 << 20

    /// - Parameters:
    ///   - configuration: endpoints, model, limits; validated here.
    ///   - environment: where `api_key_env` is looked up (the process environment by default).
    /// - Throws: `EndpointError.invalidConfiguration` or `.missingAPIKey`.
    public init(configuration: EndpointConfiguration,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        try configuration.validate()
        if let variable = configuration.apiKeyEnv {
            guard let key = environment[variable], !key.isEmpty else { throw EndpointError.missingAPIKey(variable: variable) }
            authorization = "Bearer \(key)"
        } else {
            authorization = nil
        }
        self.configuration = configuration
        baseURLs = configuration.baseURLs
        pool = EndpointPool(endpointCount: baseURLs.count, limit: configuration.maxConcurrency,
                            jitterSeed: configuration.retrySeed)
        cache = try configuration.cacheDir.map { try ResponseCache(directory: $0) }
        http = HTTPTransport(maximumConnectionsPerHost: configuration.maxConcurrency)
    }

    /// Closes the connections; the client cannot be used afterwards.
    public func shutdown() async throws {
        http.shutdown()
    }

    // MARK: LanguageModel

    public func complete(_ request: CompletionRequest) async throws -> Completion {
        let options = request.options
        let body = CompletionsRequestBody(
            model: configuration.model, prompt: .one(request.prompt), maxTokens: options.maximumTokens,
            temperature: options.temperature, topP: options.topP, topK: options.topK == 0 ? nil : options.topK,
            minP: options.minP == 0 ? nil : options.minP, stop: options.stop.isEmpty ? nil : .many(options.stop),
            seed: options.seed, logprobs: options.topLogProbabilities)
        let wantsLogprobs = options.topLogProbabilities != nil
        return try await call(path: "/completions", body: body, generated: \.completionTokenCount) { data, source in
            let response = try Self.decode(CompletionsResponseBody.self, from: data, source: source)
            guard let choice = response.choices.first else {
                throw EndpointError.invalidResponse(endpoint: source, field: "choices", detail: "is empty")
            }
            guard let finish = choice.finishReason else {
                throw EndpointError.invalidResponse(endpoint: source, field: "choices[0].finish_reason", detail: "is missing")
            }
            var tokens: [TokenLogProbability]?
            if wantsLogprobs {
                guard let logprobs = choice.logprobs else {
                    throw EndpointError.invalidResponse(
                        endpoint: source, field: "choices[0].logprobs", detail: "is missing although logprobs were requested")
                }
                tokens = try logprobs.tokenLogProbabilities(endpoint: source, path: "choices[0].logprobs")
            }
            return Completion(
                text: choice.text, finishReason: FinishReason(wire: finish), tokens: tokens,
                promptTokenCount: response.usage?.promptTokens ?? 0,
                completionTokenCount: response.usage?.completionTokens ?? tokens?.count ?? 0)
        }
    }

    public func chat(_ request: ChatRequest) async throws -> Completion {
        let options = request.options
        let body = ChatCompletionsRequestBody(
            model: configuration.model, messages: request.messages.map { .init(role: $0.role, content: $0.content) },
            maxTokens: options.maximumTokens, temperature: options.temperature, topP: options.topP,
            topK: options.topK == 0 ? nil : options.topK, minP: options.minP == 0 ? nil : options.minP,
            stop: options.stop.isEmpty ? nil : .many(options.stop), seed: options.seed,
            logprobs: options.topLogProbabilities == nil ? nil : true,
            topLogprobs: options.topLogProbabilities.flatMap { $0 > 0 ? $0 : nil })
        let wantsLogprobs = options.topLogProbabilities != nil
        return try await call(path: "/chat/completions", body: body, generated: \.completionTokenCount) { data, source in
            let response = try Self.decode(ChatCompletionsResponseBody.self, from: data, source: source)
            guard let choice = response.choices.first else {
                throw EndpointError.invalidResponse(endpoint: source, field: "choices", detail: "is empty")
            }
            guard let finish = choice.finishReason else {
                throw EndpointError.invalidResponse(endpoint: source, field: "choices[0].finish_reason", detail: "is missing")
            }
            var tokens: [TokenLogProbability]?
            if wantsLogprobs {
                guard let logprobs = choice.logprobs, logprobs.content != nil else {
                    throw EndpointError.invalidResponse(
                        endpoint: source, field: "choices[0].logprobs.content",
                        detail: "is missing although logprobs were requested")
                }
                tokens = logprobs.tokenLogProbabilities
            }
            return Completion(
                text: choice.message.content, finishReason: FinishReason(wire: finish), tokens: tokens,
                promptTokenCount: response.usage?.promptTokens ?? 0,
                completionTokenCount: response.usage?.completionTokens ?? tokens?.count ?? 0)
        }
    }

    /// Scores `completion` by asking for the log-probs of `prompt + completion` with `echo: true, max_tokens: 0,
    /// logprobs: 0` and keeping the tokens that start at or after the end of `prompt` (by `text_offset`). A token
    /// that straddles the boundary belongs to the prompt, so end prompts on a natural token boundary (a space or
    /// newline) when the split matters.
    /// - Throws: `EndpointError.echoScoringUnsupported` when the server returns no prompt log-probs.
    public func score(prompt: String, completion: String) async throws -> Score {
        let body = CompletionsRequestBody(
            model: configuration.model, prompt: .one(prompt + completion), maxTokens: 0, temperature: 1,
            logprobs: 0, echo: true)
        let promptLength = prompt.unicodeScalars.count
        let fullLength = promptLength + completion.unicodeScalars.count
        return try await call(path: "/completions", body: body) { data, source in
            let response = try Self.decode(CompletionsResponseBody.self, from: data, source: source)
            guard let logprobs = response.choices.first?.logprobs, let offsets = logprobs.textOffset,
                  offsets.count == logprobs.tokens.count, logprobs.tokenLogprobs.count == logprobs.tokens.count,
                  let last = offsets.last, last + logprobs.tokens[logprobs.tokens.count - 1].unicodeScalars.count >= fullLength
            else { throw EndpointError.echoScoringUnsupported(endpoint: source) }
            var tokens: [TokenLogProbability] = []
            for i in offsets.indices where offsets[i] >= promptLength {
                guard let logProbability = logprobs.tokenLogprobs[i] else {
                    throw EndpointError.invalidResponse(
                        endpoint: source, field: "choices[0].logprobs.token_logprobs[\(i)]", detail: "is null")
                }
                tokens.append(TokenLogProbability(token: logprobs.tokens[i], logProbability: logProbability))
            }
            return Score(tokens: tokens)
        }
    }

    // MARK: Transport

    /// Sends `body` to `path` (through the cache when there is one) and parses the answer.
    /// `parse` also validates a fresh response before it is cached, so only usable answers are stored.
    /// - Parameter generated: the tokens a server generated for an answer, reported to the task's ``TokenProgress``
    ///   listener when a fresh answer arrives (not for a cached one).
    func call<Body: Encodable, Parsed>(
        path: String, body: Body, generated: @escaping @Sendable (Parsed) -> Int = { _ in 0 },
        parse: @escaping @Sendable (Data, String) throws -> Parsed
    ) async throws -> Parsed {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bodyData = try encoder.encode(body)
        let validate: @Sendable (Data, String) throws -> Void = { TokenProgress.generated(generated(try parse($0, $1))) }
        guard let cache else {
            let (data, endpoint) = try await post(path: path, body: bodyData, validate: validate)
            return try parse(data, endpoint)
        }
        let key = ResponseCache.key(model: configuration.model, path: path, body: bodyData)
        let data = try await cache.value(for: key) {
            try await self.post(path: path, body: bodyData, validate: validate).data
        }
        return try parse(data, cache.file(for: key).path)
    }

    /// POSTs with balancing and retries; returns the body of the first successful, valid answer and its URL.
    private func post(path: String, body: Data, validate: (Data, String) throws -> Void) async throws -> (data: Data, endpoint: String) {
        var retry = 0
        var lastEndpoint: Int?
        while true {
            let index = await pool.acquire(avoiding: lastEndpoint)
            let url = baseURLs[index] + path
            let outcome: Result<Data, EndpointError>
            var retryAfter: Double?
            do {
                let response = try await send(url: url, body: body)
                if (200..<300).contains(response.status) {
                    outcome = .success(response.body)
                } else {
                    retryAfter = response.retryAfter
                    outcome = .failure(.http(endpoint: url, status: response.status,
                                             message: Self.errorMessage(from: response.body)))
                }
            } catch let error as EndpointError {
                outcome = .failure(error)
            } catch {
                await pool.release(index)
                throw error  // cancellation
            }
            await pool.release(index)
            switch outcome {
            case .success(let data):
                try validate(data, url)
                return (data, url)
            case .failure(let error):
                guard error.isRetryable else { throw error }
                guard retry < configuration.maxRetries else {
                    throw retry == 0 ? error : EndpointError.retriesExhausted(attempts: retry + 1, last: error)
                }
                var delay = retryAfter ?? 0
                if retryAfter == nil {
                    delay = await pool.backoff(retry: retry, base: configuration.retryBaseDelayS, maximum: configuration.retryMaxDelayS)
                }
                try await Task.sleep(nanoseconds: UInt64(max(0, delay) * 1e9))
                retry += 1
                lastEndpoint = index
            }
        }
    }

    private struct RawResponse: Sendable {
        var status: Int
        var retryAfter: Double?
        var body: Data
    }

    private struct AttemptTimedOut: Error {}

    /// One attempt, bounded by `timeout_s` from sending to the last body byte.
    private func send(url: String, body: Data) async throws -> RawResponse {
        guard let address = URL(string: url) else {
            throw EndpointError.invalidConfiguration("urls: '\(url)' is not a valid URL")
        }
        var request = URLRequest(url: address)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        request.httpBody = body
        let timeout = configuration.timeoutS
        // URLSession's own timer counts whole seconds and fires after ours: it is only a backstop.
        request.timeoutInterval = timeout.rounded(.up) + 1
        let http = self.http, limit = maximumResponseBytes
        do {
            return try await withThrowingTaskGroup(of: RawResponse.self) { group in
                group.addTask {
                    let response = try await http.send(request, limit: limit)
                    return RawResponse(status: response.status,
                                       retryAfter: response.header("Retry-After").flatMap(Self.retryAfterSeconds),
                                       body: response.body)
                }
                group.addTask {
                    try await Task.sleep(nanoseconds: UInt64(timeout * 1e9))
                    throw AttemptTimedOut()
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw AttemptTimedOut() }
                return first
            }
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw Self.classify(error, url: url, timeout: timeout)
        }
    }

    /// Maps transport errors onto `EndpointError` (timeouts and connection failures are retryable).
    private static func classify(_ error: any Error, url: String, timeout: Double) -> EndpointError {
        if error is AttemptTimedOut { return .timeout(endpoint: url, seconds: timeout) }
        if let tooLarge = error as? HTTPTransport.BodyTooLarge {
            return .invalidResponse(endpoint: url, field: "(body)", detail: "is larger than \(tooLarge.limit) bytes")
        }
        if let urlError = error as? URLError {
            if urlError.code == .timedOut { return .timeout(endpoint: url, seconds: timeout) }
            // libcurl's own message ("Failed to connect to … Connection refused", "transfer closed with … bytes
            // remaining", "SSL routines::…") says more than the code does.
            return .connection(endpoint: url, detail: "\(urlError.localizedDescription) (URLError \(urlError.code.rawValue))")
        }
        return .connection(endpoint: url, detail: String(describing: error))
    }

    /// `Retry-After` as seconds from now: either delta-seconds or an HTTP date (RFC 9110 §10.2.3).
    static func retryAfterSeconds(_ value: String) -> Double? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return max(0, date.timeIntervalSinceNow)
    }

    /// The `error.message` of an OpenAI error body, else the start of the body.
    static func errorMessage(from body: Data) -> String {
        if let error = try? JSONDecoder().decode(ErrorBody.self, from: body) { return error.error.message }
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return text.isEmpty ? "(empty body)" : text
    }

    /// Decodes `type`, turning a decoding failure into an error that names `source` and the JSON field path.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data, source: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            let (field, detail) = describe(error)
            throw EndpointError.invalidResponse(endpoint: source, field: field, detail: detail)
        }
    }

    /// A JSON path such as `choices[0].logprobs.tokens` and what is wrong there.
    static func describe(_ error: DecodingError) -> (field: String, detail: String) {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text.isEmpty ? "(body)" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return (path(context.codingPath + [key]), "is missing")
        case .valueNotFound(_, let context):
            return (path(context.codingPath), "is null")
        case .typeMismatch(_, let context):
            return (path(context.codingPath), "has the wrong type: \(context.debugDescription)")
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? ("(body)", "is not valid JSON: \(context.underlyingError.map { String(describing: $0) } ?? context.debugDescription)")
                : (path(context.codingPath), context.debugDescription)
        @unknown default:
            return ("(body)", String(describing: error))
        }
    }
}
