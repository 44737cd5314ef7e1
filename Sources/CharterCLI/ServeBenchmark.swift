import ArgumentParser
import Endpoints
import Foundation
import LanguageModels

/// `charter bench serve`: N concurrent clients against `charter serve` on loopback (requests/s, p50/p99 latency,
/// errors), and the client's own overhead per request against a trivial server.
struct ServeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Load-test an OpenAI-compatible server on loopback and measure OpenAIClient's overhead per request.")

    @Option(help: "Base URL of a running server (e.g. http://127.0.0.1:8080/v1); default: start one in-process serving the scripted stand-in.")
    var url: String?

    @Option(help: "Model id to request (must match the server's).")
    var model = "scripted"

    @Option(help: "Concurrent clients.")
    var clients = 16

    @Option(help: "Requests in all (bounded run).")
    var requests = 2000

    @Option(help: "max_tokens per request.")
    var maxTokens = 16

    @Flag(help: "Use /v1/chat/completions instead of /v1/completions.")
    var chat = false

    @Option(help: "Sequential requests for the client-overhead measurement against a trivial in-process server (0 skips it).")
    var overheadRequests = 500

    func validate() throws {
        if let url, !(url.hasPrefix("http://127.") || url.hasPrefix("http://localhost") || url.hasPrefix("http://[::1]")) {
            throw ValidationError("--url must be a loopback address (this benchmark only loads servers on this machine)")
        }
        guard clients > 0, requests > 0, maxTokens >= 0, overheadRequests >= 0 else { throw ValidationError("counts must be positive") }
    }

    func run() async throws {
        guard #available(macOS 14, iOS 17, tvOS 17, *) else { throw ValidationError("charter bench serve needs macOS 14 or newer (Hummingbird 2)") }
        /// Starts an in-process server for the scripted stand-in and returns its base URL.
        func startServer(batchSize: Int) async throws -> String {
            let (ports, continuation) = AsyncStream<Int>.makeStream()
            var configuration = ServerConfiguration(modelID: model, port: 0)
            configuration.maximumBatchSize = batchSize  // 1: no batching window, answered at once
            let server = OpenAIServer(model: ScriptedLanguageModel(name: model), configuration: configuration)
            // Runs until the process exits (a benchmark needs no shutdown).
            Task { try await server.application { continuation.yield($0) }.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw ValidationError("the in-process server did not start") }
            return "http://127.0.0.1:\(port)/v1"
        }

        let baseURL: String
        if let url {
            baseURL = url
        } else {
            baseURL = try await startServer(batchSize: 16)
            print("in-process server (scripted stand-in model, no weights) on \(baseURL)")
        }
        let client = try OpenAIClient(configuration: EndpointConfiguration(
            urls: [baseURL], model: model, maxConcurrency: clients, timeoutS: 60, maxRetries: 0))
        _ = await EndpointBenchmark.load(model: client, clients: clients, requests: min(requests, 50), maximumTokens: maxTokens, chat: chat)  // warm-up
        let report = await EndpointBenchmark.load(model: client, clients: clients, requests: requests, maximumTokens: maxTokens, chat: chat)
        try await client.shutdown()
        print("load: \(clients) clients, max_tokens \(maxTokens), \(chat ? "chat" : "completions"): \(report)")

        if overheadRequests > 0 {
            // A trivial server: the scripted model in-process, one request at a time, no batching window.
            let trivial = try await startServer(batchSize: 1)
            let (bare, viaClient) = try await EndpointBenchmark.clientOverhead(baseURL: trivial, model: model, requests: overheadRequests)
            print(String(format: "client overhead vs a trivial in-process server (median of %d sequential max_tokens=1 requests): bare URLSession POST %.1f µs, OpenAIClient.complete %.1f µs, overhead %.1f µs per request (ratio %.2f)",
                         overheadRequests, bare * 1e6, viaClient * 1e6, (viaClient - bare) * 1e6, viaClient / bare))
        }
    }
}
