import Foundation
import Hummingbird
import LanguageModels
import Logging
import NIOCore
import ServiceLifecycle
@testable import Endpoints

/// A Hummingbird service running in-process on an ephemeral loopback port.
final class RunningServer: Sendable {
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    /// Starts the service `make` builds (it receives the callback to report its port) and waits until it listens.
    static func start(_ make: (@escaping @Sendable (Int) async -> Void) -> any Service) async throws -> RunningServer {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let group = ServiceGroup(services: [make { continuation.yield($0) }])
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw EndpointError.invalidConfiguration("server did not start") }
        return RunningServer(port: port, group: group, task: task)
    }

    /// Graceful shutdown: stop accepting, finish requests in flight, return when the server has stopped.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

/// What the fault-injecting server does with the next request.
enum Fault: Sendable {
    case ok
    case status(Int, retryAfter: String?)
    case stall(seconds: Double)
    case closeMidBody
    case invalidJSON
    case body(String)
    /// Answers completions without log-probs even when asked (a server without echo scoring).
    case noLogprobs
}

/// A loopback OpenAI-compatible server that answers from `ScriptedLanguageModel`, except that it plays a script of
/// faults first; it counts every request it receives and the peak number in flight.
actor FaultScript {
    private var script: [Fault]
    private(set) var hits = 0
    private(set) var peakInFlight = 0
    private(set) var authorizationHeaders: [String?] = []
    private var inFlight = 0

    init(_ script: [Fault] = []) { self.script = script }

    func next(authorization: String?) -> Fault {
        hits += 1
        inFlight += 1
        peakInFlight = max(peakInFlight, inFlight)
        authorizationHeaders.append(authorization)
        return script.isEmpty ? .ok : script.removeFirst()
    }

    func done() { inFlight -= 1 }
    func set(_ script: [Fault]) { self.script = script }
}

@available(macOS 14, iOS 17, tvOS 17, *)  // Hummingbird 2
enum FaultServer {
    static let model = ScriptedLanguageModel(name: "scripted")

    /// Starts a fault server; every completion takes `latency` seconds.
    static func start(script: FaultScript, latency: Double = 0) async throws -> RunningServer {
        try await RunningServer.start { onListening in
            let router = Router(context: BasicRequestContext.self)
            router.post("/v1/completions") { request, _ in
                try await handle(request, script: script, latency: latency)
            }
            var logger = Logger(label: "fault-server")
            logger.logLevel = .warning
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                               onServerRunning: { await onListening($0.localAddress?.port ?? -1) }, logger: logger)
        }
    }

    private static func handle(_ request: Request, script: FaultScript, latency: Double) async throws -> Response {
        let fault = await script.next(authorization: request.headers[.authorization])
        defer { Task { await script.done() } }
        let body = try await request.body.collect(upTo: 1 << 20)
        if latency > 0 { try await Task.sleep(nanoseconds: UInt64(latency * 1e9)) }
        switch fault {
        case .ok, .noLogprobs:
            let wire = try JSONDecoder().decode(CompletionsRequestBody.self, from: Data(body.readableBytesView))
            return json(try await answer(wire, withLogprobs: { if case .noLogprobs = fault { return false } else { return true } }()))
        case .status(let status, let retryAfter):
            var response = json(ErrorBody(error: .init(message: "injected \(status)", type: "server_error")))
            response.status = .init(code: status)
            if let retryAfter { response.headers[.retryAfter] = retryAfter }
            return response
        case .stall(let seconds):
            try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            return json(ErrorBody(error: .init(message: "too late", type: "server_error")))
        case .closeMidBody:
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(contentLength: 4096) { writer in
                try await writer.write(ByteBuffer(string: "{\"choices\": [{\"text\": \"hal"))
                throw CancellationError()  // the connection closes with the body incomplete
            })
        case .invalidJSON:
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: "<html>502 Bad Gateway</html>")))
        case .body(let text):
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }

    /// What a correct server answers: the scripted model's completion or echo score in OpenAI's layout.
    static func answer(_ wire: CompletionsRequestBody, withLogprobs: Bool) async throws -> CompletionsResponseBody {
        let prompt = wire.prompt.values.first ?? ""
        if wire.echo == true, wire.maxTokens == 0 {
            let score = try await model.score(prompt: "", completion: prompt)
            var logprobs = CompletionLogprobs(score.tokens, startOffset: 0, includeTop: false)
            if !logprobs.tokens.isEmpty { logprobs.tokenLogprobs[0] = nil }
            return CompletionsResponseBody(choices: [.init(index: 0, text: prompt, logprobs: withLogprobs ? logprobs : nil,
                                                           finishReason: "length")])
        }
        let options = SamplingOptions(
            maximumTokens: wire.maxTokens ?? 16, temperature: wire.temperature ?? 1, topP: wire.topP ?? 1,
            stop: wire.stop?.values ?? [], seed: wire.seed, topLogProbabilities: wire.logprobs)
        let completion = try await model.complete(CompletionRequest(prompt: prompt, options: options))
        return CompletionsResponseBody(
            id: "cmpl-test", object: "text_completion", created: 0, model: "scripted",
            choices: [.init(index: 0, text: completion.text,
                            logprobs: completion.tokens.map { CompletionLogprobs($0, startOffset: prompt.count, includeTop: true) },
                            finishReason: completion.finishReason.rawValue)],
            usage: Usage(promptTokens: completion.promptTokenCount, completionTokens: completion.completionTokenCount,
                         totalTokens: completion.promptTokenCount + completion.completionTokenCount))
    }

    static func json<T: Encodable>(_ value: T) -> Response {
        let data = (try? JSONEncoder().encode(value)) ?? Data()
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// A configuration for tests: fast retries, short timeout, no cache unless asked.
func testConfiguration(_ urls: [String], cacheDir: String? = nil, maxRetries: Int = 3, timeout: Double = 5,
                       maxConcurrency: Int = 8, apiKeyEnv: String? = nil) -> EndpointConfiguration {
    EndpointConfiguration(urls: urls, model: "scripted", apiKeyEnv: apiKeyEnv, maxConcurrency: maxConcurrency,
                          timeoutS: timeout, maxRetries: maxRetries, cacheDir: cacheDir,
                          retryBaseDelayS: 0.01, retryMaxDelayS: 0.05, retrySeed: 7)
}

/// A fresh empty folder under the temporary directory.
func temporaryFolder() throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("charter-endpoints-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
}
