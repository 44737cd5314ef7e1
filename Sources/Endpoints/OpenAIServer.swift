import Foundation
import HTTPTypes
import Hummingbird
import LanguageModels
import Logging
import NIOCore

/// Serves a `LanguageModel` over OpenAI's HTTP API: `GET /v1/models`, `POST /v1/completions` and
/// `POST /v1/chat/completions` (both with SSE streaming and log-probs).
///
/// Every input is bounded before it reaches the model: the body (`maximumBodyBytes`), the time a client may take
/// to send its request head (`idleTimeoutSeconds`), the prompt (measured by a `PromptMeasuring`: at most
/// `maximumPromptTokens`, and with `max_tokens` within the model's context). Admitted requests share the model
/// through a fair queue (`BatchingLanguageModel`, `RequestScheduler`): similar requests are batched, cheaper ones go
/// first. Every refusal, and every failure a client caused, is an OpenAI-style JSON error with a 4xx status; a
/// failing model gives 500.
@available(macOS 14, iOS 17, tvOS 17, *)  // Hummingbird 2
public struct OpenAIServer: Sendable {
    public let configuration: ServerConfiguration
    let model: BatchingLanguageModel
    /// Counts prompt tokens before a request is queued; nil: prompts are not measured (the model still refuses
    /// what it cannot take).
    let measure: (any PromptMeasuring)?

    /// - Parameter measure: the model's tokenizer and context (`TokenizerPromptMeasure.load(directory:)` for a
    ///   model folder); nil: the model's own, when it measures prompts itself.
    public init(model: any LanguageModel, configuration: ServerConfiguration, measure: (any PromptMeasuring)? = nil) {
        self.configuration = configuration
        self.model = BatchingLanguageModel(
            model, window: configuration.batchWindowSeconds, maximumBatchSize: configuration.maximumBatchSize)
        self.measure = measure ?? (model as? any PromptMeasuring)
    }

    /// Serves until SIGINT or SIGTERM, then stops accepting connections and finishes the requests in flight.
    /// - Parameter onListening: called with the bound port once the server accepts connections.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await application(onListening: onListening).runService(gracefulShutdownSignals: [.sigterm, .sigint])
    }

    /// The Hummingbird application (a ServiceLifecycle `Service`), for embedding in a `ServiceGroup` or tests.
    public func application(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        var logger = Logger(label: "charter.serve")
        logger.logLevel = .warning
        // Hummingbird's idle timer restarts on each request part, not on each byte: a client trickling its request
        // head is closed once the timeout passes. It does not run while a response is being generated.
        let idleTimeout = configuration.idleTimeoutSeconds.map { TimeAmount.nanoseconds(Int64($0 * 1e9)) }
        return Application(
            router: router(),
            server: .http1(configuration: .init(idleTimeout: idleTimeout)),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "charter"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? -1) },
            logger: logger)
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/v1/models") { request, _ in
            await self.respond(to: request) {
                try self.authorize(request)
                let created = Int(Date().timeIntervalSince1970)
                return Self.json(ModelList(data: [.init(id: self.configuration.modelID, created: created, ownedBy: "charter")]))
            }
        }
        router.post("/v1/completions") { request, _ in
            await self.respond(to: request) {
                try self.authorize(request)
                return try await self.completions(self.decodeBody(CompletionsRequestBody.self, of: request))
            }
        }
        router.post("/v1/chat/completions") { request, _ in
            await self.respond(to: request) {
                try self.authorize(request)
                return try await self.chatCompletions(self.decodeBody(ChatCompletionsRequestBody.self, of: request))
            }
        }
        return router
    }

    // MARK: Request plumbing

    /// Runs `handler`, turning every error into an OpenAI JSON error response (the server never crashes on input):
    /// 4xx for what the client can fix, 500 for a failing model.
    func respond(to request: Request, _ handler: () async throws -> Response) async -> Response {
        do {
            return try await handler()
        } catch {
            return Self.errorResponse(Self.serverError(for: error))
        }
    }

    /// Checks the bearer token in constant time when the server has one.
    func authorize(_ request: Request) throws {
        guard let key = configuration.apiKey else { return }
        let given = Array((request.headers[.authorization] ?? "").utf8)
        let expected = Array("Bearer \(key)".utf8)
        var difference = given.count ^ expected.count
        for i in expected.indices { difference |= Int(expected[i] ^ (i < given.count ? given[i] : 0)) }
        if difference != 0 { throw ServerError.unauthorized }
    }

    /// Reads at most `maximumBodyBytes` and decodes `type`, naming the offending field on failure.
    func decodeBody<T: Decodable>(_ type: T.Type, of request: Request) async throws -> T {
        let limit = configuration.maximumBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw ServerError.bodyTooLarge(limit: limit)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw ServerError.bodyTooLarge(limit: limit)
        }
        do {
            return try JSONDecoder().decode(type, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw ServerError.malformed(error)
        }
    }

    /// `requested` tokens checked against the server's limit; `fallback` when the request gives none (see
    /// `admit`, which fits the fallback into the model's context).
    func maximumTokens(_ requested: Int?, fallback: Int, param: String) throws -> Int {
        guard let requested else { return min(fallback, configuration.maximumTokensLimit) }
        if requested < 0 { throw ServerError.badRequest("'\(param)' must be 0 or more (got \(requested))", param: param) }
        if requested > configuration.maximumTokensLimit {
            throw ServerError.badRequest(
                "'\(param)' is \(requested), above this server's limit of \(configuration.maximumTokensLimit) (--max-tokens-limit)",
                param: param)
        }
        return requested
    }

    /// Sampling fields shared by both endpoints, range-checked.
    func samplingOptions(model: String?, n: Int?, temperature: Float?, topP: Float?, topK: Int?, minP: Float?,
                         stop: StringOrList?, seed: UInt64?) throws -> SamplingOptions {
        if let model, model != configuration.modelID { throw ServerError.modelNotFound(model, served: configuration.modelID) }
        if let n, n != 1 { throw ServerError.badRequest("only n=1 is supported (got \(n)); send n requests with different seeds", param: "n") }
        var options = SamplingOptions()
        if let temperature {
            guard temperature >= 0, temperature <= 2 else { throw ServerError.badRequest("'temperature' must be in [0, 2]", param: "temperature") }
            options.temperature = temperature
        }
        if let topP {
            guard topP > 0, topP <= 1 else { throw ServerError.badRequest("'top_p' must be in (0, 1]", param: "top_p") }
            options.topP = topP
        }
        if let topK {
            guard topK >= -1 else { throw ServerError.badRequest("'top_k' must be -1, 0 (off) or positive", param: "top_k") }
            options.topK = max(0, topK)
        }
        if let minP {
            guard minP >= 0, minP <= 1 else { throw ServerError.badRequest("'min_p' must be in [0, 1]", param: "min_p") }
            options.minP = minP
        }
        options.stop = stop?.values.filter { !$0.isEmpty } ?? []
        if options.stop.count > 16 { throw ServerError.badRequest("at most 16 stop strings are supported", param: "stop") }
        options.seed = seed
        return options
    }

    // MARK: Responses

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding our own wire types cannot fail; an empty object is the fallback rather than a crash.
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func errorResponse(_ error: ServerError) -> Response {
        var response = json(error.body, status: error.status)
        if error.status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }

    /// A Server-Sent Events response: one `data: {json}` event per chunk, then `data: [DONE]`.
    static func eventStream<Chunk: Encodable & Sendable>(_ chunks: [Chunk]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let events = chunks.compactMap { chunk in
            (try? encoder.encode(chunk)).map { ByteBuffer(string: "data: " + String(decoding: $0, as: UTF8.self) + "\n\n") }
        } + [ByteBuffer(string: "data: [DONE]\n\n")]
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                for event in events { try await writer.write(event) }
                try await writer.finish(nil)
            })
    }

    static func identifier(_ prefix: String) -> String {
        prefix + String((0..<24).map { _ in "0123456789abcdef".randomElement() ?? "0" })
    }
}
