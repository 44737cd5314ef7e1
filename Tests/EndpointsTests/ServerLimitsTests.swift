import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LanguageModels
import TestSupport
import XCTest
@testable import Endpoints

/// The server refuses what the model cannot take before the model runs, answers a client's mistakes with 4xx, and
/// closes connections that trickle their request head.
@available(macOS 14, iOS 17, tvOS 17, *)  // Hummingbird 2
final class ServerLimitsTests: XCTestCase {
    static let http = HTTPTransport(maximumConnectionsPerHost: 8)

    /// The scripted model, counting the requests that reach it.
    struct CountingModel: BatchedGeneration {
        let base = ScriptedLanguageModel(name: "scripted")
        let calls = Calls()
        var name: String { base.name }
        func complete(_ request: CompletionRequest) async throws -> Completion { calls.add(); return try await base.complete(request) }
        func chat(_ request: ChatRequest) async throws -> Completion { calls.add(); return try await base.chat(request) }
        func score(prompt: String, completion: String) async throws -> Score { calls.add(); return try await base.score(prompt: prompt, completion: completion) }
        func completeBatch(_ requests: [CompletionRequest]) async throws -> [Completion] {
            for _ in requests { calls.add() }
            return try await base.completeBatch(requests)
        }
    }

    final class Calls: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }

    /// Characters as tokens, in a context of `context`.
    struct CharacterMeasure: PromptMeasuring {
        let contextLength: Int?
        func tokenCount(prompt: String) throws -> Int { prompt.count }
        func tokenCount(messages: [ChatMessage]) throws -> Int { ScriptedLanguageModel.render(messages).count }
    }

    func post(_ server: RunningServer, _ path: String, _ body: String) async throws -> (status: Int, json: [String: Any]) {
        var request = URLRequest(url: try XCTUnwrap(URL(string: server.baseURL + path)))
        request.httpMethod = "POST"
        request.timeoutInterval = 10
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        let response = try await Self.http.send(request, limit: 1 << 22)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: response.body) as? [String: Any], String(decoding: response.body, as: UTF8.self))
        return (response.status, json)
    }

    /// The `error` object of an error response.
    func error(_ json: [String: Any]) -> [String: Any] { json["error"] as? [String: Any] ?? [:] }

    func testPromptsBeyondTheContextAreRefusedBeforeTheModelRuns() async throws {
        let model = CountingModel()
        var configuration = ServerConfiguration(modelID: "scripted", port: 0)
        configuration.maximumPromptTokens = 25
        let server = try await RunningServer.start(OpenAIServer(model: model, configuration: configuration, measure: CharacterMeasure(contextLength: 32)))
        let twenty = String(repeating: "a", count: 20)

        var (status, json) = try await post(server, "/completions", #"{"prompt": "\#(String(repeating: "a", count: 40))"}"#)
        XCTAssertEqual(status, 400)
        XCTAssertEqual(error(json)["code"] as? String, "context_length_exceeded")
        XCTAssertEqual(error(json)["message"] as? String, "'prompt' has 40 tokens; this server accepts at most 25 (--max-prompt-tokens)")
        (status, json) = try await post(server, "/completions", #"{"prompt": "\#(twenty)", "max_tokens": 13, "stream": true}"#)
        XCTAssertEqual(status, 400)
        XCTAssertEqual(error(json)["message"] as? String, "this model's maximum context length is 32 tokens; the request asks for 33 "
                       + "(20 in 'prompt', 13 in 'max_tokens'); shorten the prompt or 'max_tokens'")
        let messages = #"[{"role": "user", "content": "\#(twenty)"}]"#
        (status, json) = try await post(server, "/chat/completions", #"{"messages": \#(messages), "max_completion_tokens": 2}"#)
        XCTAssertEqual(status, 400)
        XCTAssertEqual(error(json)["param"] as? String, "messages")
        XCTAssertEqual(model.calls.value, 0, "no refused request reached the model")

        // Without max_tokens, the default (16) shrinks to the room left: 12 tokens.
        (status, json) = try await post(server, "/completions", #"{"prompt": "\#(twenty)"}"#)
        XCTAssertEqual(status, 200)
        XCTAssertEqual((json["usage"] as? [String: Any])?["completion_tokens"] as? Int, 12)
        XCTAssertEqual(model.calls.value, 1)
        await server.stop()
    }

    func testTheLocalEnginesClientErrorsAre400() async throws {
        let folder = try TinyModels.folder(in: try TinyModels.temporaryDirectory("limits"), name: "tiny", seed: 1)
        defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
        // A 64-position model: patch config.json.
        let configURL = folder.appendingPathComponent("config.json")
        let config = try String(contentsOf: configURL, encoding: .utf8)
        try config.replacingOccurrences(of: #""max_position_embeddings"\s*:\s*2048"#, with: #""max_position_embeddings": 64"#,
                                        options: .regularExpression)
            .write(to: configURL, atomically: true, encoding: .utf8)
        XCTAssertEqual(try TokenizerPromptMeasure.contextLength(directory: folder), 64)
        let local = try LocalLanguageModel.load(directory: folder)
        let long = String(repeating: "word ", count: 100)
        for measure in [try TokenizerPromptMeasure.load(directory: folder), nil] as [TokenizerPromptMeasure?] {
            let server = try await RunningServer.start(OpenAIServer(model: local, configuration: ServerConfiguration(modelID: "tiny", port: 0),
                                                                    measure: measure))
            var (status, json) = try await post(server, "/completions", #"{"prompt": "", "max_tokens": 2}"#)
            XCTAssertEqual(status, 400, "empty prompt, measured: \(measure != nil)")
            XCTAssertTrue((error(json)["message"] as? String)?.contains("encodes to no tokens") ?? false, "\(json)")
            (status, json) = try await post(server, "/chat/completions", #"{"messages": [{"role": "user", "content": "hi"}]}"#)
            XCTAssertEqual(status, 400, "no chat template, measured: \(measure != nil)")
            XCTAssertEqual(error(json)["code"] as? String, "chat_template_missing")
            (status, json) = try await post(server, "/completions", #"{"prompt": "Hello", "max_tokens": 2}"#)
            XCTAssertEqual(status, 200)
            if measure != nil {
                let start = Date()
                (status, json) = try await post(server, "/completions", #"{"prompt": "\#(long)", "max_tokens": 2}"#)
                XCTAssertEqual(status, 400)
                XCTAssertEqual(error(json)["code"] as? String, "context_length_exceeded")
                XCTAssertTrue((error(json)["message"] as? String)?.hasPrefix("this model's maximum context length is 64 tokens") ?? false)
                XCTAssertLessThan(Date().timeIntervalSince(start), 1)
                // A prompt far beyond the context (100k tokens) is refused after tokenizing a prefix of it.
                let huge = String(repeating: "word ", count: 100_000)
                (status, json) = try await post(server, "/completions", #"{"prompt": "\#(huge)", "max_tokens": 2}"#)
                XCTAssertEqual(status, 400)
                XCTAssertTrue((error(json)["message"] as? String)?.contains("(more than ") ?? false, "\(json)")
            }
            await server.stop()
        }
    }

    func testASlowClientTricklingItsRequestHeadIsDisconnected() async throws {
        var configuration = ServerConfiguration(modelID: "scripted", port: 0)
        configuration.idleTimeoutSeconds = 0.5
        let server = try await RunningServer.start(OpenAIServer(model: ScriptedLanguageModel(latencySeconds: 1), configuration: configuration))
        let closedAfter = try RawSocket.trickle(port: server.port, for: 3)
        XCTAssertNotNil(closedAfter, "the server kept the connection for 3 s")
        XCTAssertGreaterThanOrEqual(closedAfter ?? 0, 0.4)
        XCTAssertLessThan(closedAfter ?? 9, 1.5)
        // Generating for longer than the timeout (the model takes 1 s) is not idling.
        let (status, _) = try await post(server, "/completions", #"{"prompt": "a", "max_tokens": 2}"#)
        XCTAssertEqual(status, 200)
        await server.stop()

        configuration.idleTimeoutSeconds = nil
        let patient = try await RunningServer.start(OpenAIServer(model: ScriptedLanguageModel(), configuration: configuration))
        XCTAssertNil(try RawSocket.trickle(port: patient.port, for: 1.5), "without a timeout the trickle is never cut")
        await patient.stop()
    }
}
