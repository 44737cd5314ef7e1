import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LanguageModels
import XCTest
@testable import Endpoints

/// `charter serve`'s server in-process on a loopback port, driven by the client and by plain HTTP.
@available(macOS 14, iOS 17, tvOS 17, *)  // Hummingbird 2
final class OpenAIServerTests: XCTestCase {
    let model = ScriptedLanguageModel(name: "scripted")

    func startServer(model: (any LanguageModel)? = nil, apiKey: String? = nil, maximumTokensLimit: Int = 64,
                     maximumBodyBytes: Int = 4096) async throws -> RunningServer {
        var configuration = ServerConfiguration(modelID: "scripted", port: 0, apiKey: apiKey,
                                                maximumTokensLimit: maximumTokensLimit, maximumBodyBytes: maximumBodyBytes)
        configuration.batchWindowSeconds = 0.02
        return try await RunningServer.start(OpenAIServer(model: model ?? self.model, configuration: configuration))
    }

    /// A curl-like client (URLSession, so libcurl on Linux); a stopped server fails at once. Lives for the whole run.
    static let http = HTTPTransport(maximumConnectionsPerHost: 8)

    enum HTTPMethod: String { case GET, POST }

    struct RawResponse {
        var status: Int
        /// Header values by lowercased name.
        var headers: [String: String]
        var body: String
        func header(_ name: String) -> String? { headers[name.lowercased()] }
        func json() throws -> [String: Any] {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], body)
        }
    }

    /// One request over plain HTTP, as curl would send it.
    func raw(_ method: HTTPMethod, _ url: String, body: String? = nil, headers: [(String, String)] = []) async throws -> RawResponse {
        var request = URLRequest(url: try XCTUnwrap(URL(string: url)))
        request.httpMethod = method.rawValue
        request.timeoutInterval = 10
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body { request.httpBody = Data(body.utf8) }
        let response = try await Self.http.send(request, limit: 1 << 22)
        return RawResponse(status: response.status, headers: response.headers, body: String(decoding: response.body, as: UTF8.self))
    }

    /// The JSON payloads of an SSE body; checks the stream ends with `data: [DONE]`.
    func events(_ body: String) throws -> [[String: Any]] {
        let lines = body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        XCTAssertEqual(lines.last, "data: [DONE]")
        return try lines.dropLast().map { line in
            XCTAssert(line.hasPrefix("data: "), line)
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any])
        }
    }

    // MARK: Client against server

    func testClientOutputsEqualTheModelsForTheSameSeed() async throws {
        let server = try await startServer()
        let client = try OpenAIClient(configuration: testConfiguration([server.baseURL]))
        for seed in [1, 2, 99] as [UInt64] {
            let options = SamplingOptions(maximumTokens: 12, temperature: 0.8, stop: [" ."], seed: seed, topLogProbabilities: 3)
            let completion = CompletionRequest(prompt: "once upon ", options: options)
            let servedCompletion = try await client.complete(completion)
            let directCompletion = try await model.complete(completion)
            XCTAssertEqual(servedCompletion, directCompletion)
            let chat = ChatRequest(messages: [.init(role: "system", content: "be brief"), .init(role: "user", content: "hi")], options: options)
            let servedChat = try await client.chat(chat)
            let directChat = try await model.chat(chat)
            XCTAssertEqual(servedChat, directChat)
        }
        let greedy = CompletionRequest(prompt: "x", options: SamplingOptions(maximumTokens: 5, temperature: 0))
        let servedGreedy = try await client.complete(greedy)
        let directGreedy = try await model.complete(greedy)
        XCTAssertEqual(servedGreedy, directGreedy)
        let served = try await client.score(prompt: "the cat ", completion: "sat on")
        let direct = try await model.score(prompt: "the cat ", completion: "sat on")
        XCTAssertEqual(served, direct)
        try await client.shutdown()
        await server.stop()
    }

    func testConcurrentRequestsAreBatched() async throws {
        let recorder = BatchRecorder()
        let server = try await startServer(model: recorder)
        let client = try OpenAIClient(configuration: testConfiguration([server.baseURL]))
        let requests = (0..<8).map { CompletionRequest(prompt: "p\($0) ", options: SamplingOptions(maximumTokens: 4, seed: UInt64($0))) }
        let answers = try await withThrowingTaskGroup(of: (Int, Completion).self) { group in
            for (i, request) in requests.enumerated() { group.addTask { (i, try await client.complete(request)) } }
            return try await group.reduce(into: [Int: Completion]()) { $0[$1.0] = $1.1 }
        }
        for (i, request) in requests.enumerated() {
            let direct = try await model.complete(request)
            XCTAssertEqual(answers[i], direct)
        }
        let sizes = await recorder.sizes
        XCTAssertEqual(sizes.reduce(0, +), 8)
        XCTAssertGreaterThan(sizes.max() ?? 0, 1, "batch sizes \(sizes)")
        try await client.shutdown()
        await server.stop()
    }

    func testAnIdleModelStartsAtOnceAndBusyArrivalsJoinTheNextBatch() async throws {
        let queue = RequestScheduler(window: 0, maximumBatchSize: 4, completions: { requests in
            try await Task.sleep(nanoseconds: 200_000_000)
            return requests.compactMap { $0 as? CompletionRequest }
                .map { Completion(text: $0.prompt, finishReason: .stop, promptTokenCount: 0, completionTokenCount: 0) }
        })
        let start = Date()
        let lone = try await queue.submit(CompletionRequest(prompt: "lone"), kind: .completion, cost: 0)
        XCTAssertEqual(lone.text, "lone")
        XCTAssertLessThan(Date().timeIntervalSince(start), 0.35)
        // One request starts the model; six more arrive while it runs: they go as a full batch of 4, then 2.
        let texts = try await withThrowingTaskGroup(of: String.self) { group in
            group.addTask { try await queue.submit(CompletionRequest(prompt: "first"), kind: .completion, cost: 0).text }
            try await Task.sleep(nanoseconds: 50_000_000)
            for i in 0..<6 {
                group.addTask { try await queue.submit(CompletionRequest(prompt: "later \(i)"), kind: .completion, cost: 0).text }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        XCTAssertEqual(texts.count, 7)
        let sizes = await queue.batchSizes
        XCTAssertEqual(sizes, [1, 1, 4, 2])
    }

    // MARK: Plain HTTP

    func testModelsEndpoint() async throws {
        let server = try await startServer()
        let response = try await raw(.GET, server.baseURL + "/models")
        XCTAssertEqual(response.status, 200)
        let data = try XCTUnwrap(try response.json()["data"] as? [[String: Any]])
        XCTAssertEqual(data.first?["id"] as? String, "scripted")
        XCTAssertEqual(data.first?["object"] as? String, "model")
        await server.stop()
    }

    func testCompletionsLogprobsLayout() async throws {
        let server = try await startServer()
        let response = try await raw(.POST, server.baseURL + "/completions",
                                     body: #"{"model": "scripted", "prompt": "ab", "max_tokens": 3, "logprobs": 2, "seed": 5}"#)
        XCTAssertEqual(response.status, 200, response.body)
        let json = try response.json()
        XCTAssertEqual(json["object"] as? String, "text_completion")
        let choice = try XCTUnwrap((json["choices"] as? [[String: Any]])?.first)
        let logprobs = try XCTUnwrap(choice["logprobs"] as? [String: Any])
        let tokens = try XCTUnwrap(logprobs["tokens"] as? [String])
        XCTAssertEqual(tokens.count, 3)
        XCTAssertEqual(tokens.joined(), choice["text"] as? String)
        XCTAssertEqual((logprobs["token_logprobs"] as? [Double])?.count, 3)
        XCTAssertEqual((logprobs["top_logprobs"] as? [[String: Double]])?.map(\.count), [2, 2, 2])
        XCTAssertEqual(logprobs["text_offset"] as? [Int], [2, 3, 4])
        XCTAssertEqual(choice["finish_reason"] as? String, "length")
        let usage = try XCTUnwrap(json["usage"] as? [String: Int])
        XCTAssertEqual(usage["completion_tokens"], 3)

        // A list of prompts gives one choice each; echo prepends the prompt with a null first log-prob.
        let echo = try await raw(.POST, server.baseURL + "/completions",
                                 body: #"{"prompt": ["ab", "cd"], "max_tokens": 0, "logprobs": 0, "echo": true}"#)
        let choices = try XCTUnwrap(try echo.json()["choices"] as? [[String: Any]])
        XCTAssertEqual(choices.map { $0["text"] as? String }, ["ab", "cd"])
        let echoed = try XCTUnwrap(choices[1]["logprobs"] as? [String: Any])
        XCTAssertEqual(echoed["tokens"] as? [String], ["c", "d"])
        let values = try XCTUnwrap(echoed["token_logprobs"] as? [Any])
        XCTAssert(values[0] is NSNull)
        XCTAssertEqual(try XCTUnwrap(values[1] as? Double), Double(ScriptedLanguageModel.logProbability(of: "d", after: "c")), accuracy: 1e-6)
        await server.stop()
    }

    func testChatLogprobsLayout() async throws {
        let server = try await startServer()
        let response = try await raw(.POST, server.baseURL + "/chat/completions", body: """
            {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}], "max_completion_tokens": 4,
             "logprobs": true, "top_logprobs": 2, "seed": 1}
            """)
        XCTAssertEqual(response.status, 200, response.body)
        let json = try response.json()
        XCTAssertEqual(json["object"] as? String, "chat.completion")
        let choice = try XCTUnwrap((json["choices"] as? [[String: Any]])?.first)
        XCTAssertEqual((choice["message"] as? [String: String])?["role"], "assistant")
        let content = try XCTUnwrap((choice["logprobs"] as? [String: Any])?["content"] as? [[String: Any]])
        XCTAssertEqual(content.count, 4)
        let first = content[0]
        let token = try XCTUnwrap(first["token"] as? String)
        XCTAssertEqual(first["bytes"] as? [Int], token.utf8.map(Int.init))
        XCTAssertNotNil(first["logprob"] as? Double)
        XCTAssertEqual((first["top_logprobs"] as? [[String: Any]])?.count, 2)
        await server.stop()
    }

    func testCompletionsStreaming() async throws {
        let server = try await startServer()
        let body = #"{"prompt": "ab", "max_tokens": 5, "seed": 2, "logprobs": 1, "stream": true}"#
        let streamed = try await raw(.POST, server.baseURL + "/completions", body: body)
        XCTAssertEqual(streamed.status, 200)
        XCTAssertEqual(streamed.header("Content-Type"), "text/event-stream")
        let chunks = try events(streamed.body)
        let choices = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first }
        XCTAssertEqual(chunks.first?["object"] as? String, "text_completion")
        let whole = try await raw(.POST, server.baseURL + "/completions", body: body.replacingOccurrences(of: "true", with: "false"))
        let expected = try XCTUnwrap((try whole.json()["choices"] as? [[String: Any]])?.first)
        XCTAssertEqual(choices.compactMap { $0["text"] as? String }.joined(), expected["text"] as? String)
        XCTAssertEqual(choices.count, 6)  // one per token, then the finish
        XCTAssertEqual(choices.last?["finish_reason"] as? String, "length")
        XCTAssert(choices.dropLast().allSatisfy { $0["finish_reason"] is NSNull })
        let streamedLogprobs = choices.dropLast().compactMap { ($0["logprobs"] as? [String: Any])?["token_logprobs"] as? [Double] }.flatMap { $0 }
        XCTAssertEqual(streamedLogprobs, (expected["logprobs"] as? [String: Any])?["token_logprobs"] as? [Double])
        await server.stop()
    }

    func testChatStreaming() async throws {
        let server = try await startServer()
        let streamed = try await raw(.POST, server.baseURL + "/chat/completions", body: """
            {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 6, "stream": true, "seed": 9, "stop": "."}
            """)
        XCTAssertEqual(streamed.status, 200)
        let chunks = try events(streamed.body)
        XCTAssert(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
        let choices = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first }
        let deltas = choices.compactMap { $0["delta"] as? [String: String] }
        XCTAssertEqual(deltas.first?["role"], "assistant")
        let text = deltas.compactMap { $0["content"] }.joined()
        let direct = try await model.chat(ChatRequest(messages: [.init(role: "user", content: "hi")],
                                                      options: SamplingOptions(maximumTokens: 6, stop: ["."], seed: 9)))
        XCTAssertEqual(text, direct.text)
        XCTAssertEqual(choices.last?["finish_reason"] as? String, direct.finishReason.rawValue)
        await server.stop()
    }

    // MARK: Refusals

    func assertError(_ response: RawResponse, status: Int, param: String? = nil, contains text: String,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(response.status, status, response.body, file: file, line: line)
        let error = try XCTUnwrap(try response.json()["error"] as? [String: Any], file: file, line: line)
        XCTAssert((error["message"] as? String)?.contains(text) == true, "\(error)", file: file, line: line)
        XCTAssertNotNil(error["type"] as? String, file: file, line: line)
        if let param { XCTAssertEqual(error["param"] as? String, param, file: file, line: line) }
    }

    func testMalformedRequestsGetJSONErrors() async throws {
        let server = try await startServer()
        let url = server.baseURL
        try assertError(try await raw(.POST, url + "/completions", body: "{not json"), status: 400, contains: "not valid JSON")
        try assertError(try await raw(.POST, url + "/completions", body: #"{"prompt": "a", "max_tokens": "ten"}"#),
                        status: 400, param: "max_tokens", contains: "max_tokens")
        try assertError(try await raw(.POST, url + "/completions", body: #"{"max_tokens": 3}"#),
                        status: 400, param: "prompt", contains: "missing")
        try assertError(try await raw(.POST, url + "/completions", body: #"{"prompt": [1, 2]}"#),
                        status: 400, param: "prompt", contains: "string")
        try assertError(try await raw(.POST, url + "/completions", body: #"{"prompt": "a", "n": 2}"#),
                        status: 400, param: "n", contains: "n=1")
        try assertError(try await raw(.POST, url + "/completions", body: #"{"prompt": "a", "logprobs": 99}"#),
                        status: 400, param: "logprobs", contains: "0...20")
        try assertError(try await raw(.POST, url + "/completions", body: #"{"prompt": "a", "model": "gpt-4"}"#),
                        status: 404, param: "model", contains: "gpt-4")
        try assertError(try await raw(.POST, url + "/chat/completions", body: #"{"messages": [{"role": "user"}]}"#),
                        status: 400, param: "messages[0].content", contains: "missing")
        try assertError(try await raw(.POST, url + "/chat/completions", body: #"{"messages": []}"#),
                        status: 400, param: "messages", contains: "empty")
        try assertError(try await raw(.POST, url + "/chat/completions",
                                      body: #"{"messages": [{"role": "user", "content": "x"}], "top_logprobs": 2}"#),
                        status: 400, param: "top_logprobs", contains: "logprobs")
        // The server is still up.
        let status = try await raw(.GET, url + "/models").status
        XCTAssertEqual(status, 200)
        await server.stop()
    }

    func testLimits() async throws {
        let server = try await startServer(maximumTokensLimit: 8, maximumBodyBytes: 200)
        let url = server.baseURL
        try assertError(try await raw(.POST, url + "/completions", body: #"{"prompt": "a", "max_tokens": 9}"#),
                        status: 400, param: "max_tokens", contains: "limit of 8")
        try assertError(try await raw(.POST, url + "/chat/completions",
                                      body: #"{"messages": [{"role": "user", "content": "x"}], "max_completion_tokens": 100}"#),
                        status: 400, param: "max_completion_tokens", contains: "limit of 8")
        let big = #"{"prompt": ""# + String(repeating: "a", count: 400) + #""}"#
        try assertError(try await raw(.POST, url + "/completions", body: big), status: 413, contains: "200 bytes")
        let status = try await raw(.POST, url + "/completions", body: #"{"prompt": "a", "max_tokens": 8}"#).status
        XCTAssertEqual(status, 200)
        await server.stop()
    }

    func testBearerAuth() async throws {
        let server = try await startServer(apiKey: "s3cret")
        let url = server.baseURL
        let body = #"{"prompt": "a", "max_tokens": 2}"#
        let missing = try await raw(.POST, url + "/completions", body: body)
        try assertError(missing, status: 401, contains: "bearer")
        XCTAssertEqual(missing.header("WWW-Authenticate"), "Bearer")
        try assertError(try await raw(.POST, url + "/completions", body: body, headers: [("Authorization", "Bearer wrong")]),
                        status: 401, contains: "bearer")
        try assertError(try await raw(.GET, url + "/models"), status: 401, contains: "bearer")
        let status = try await raw(.POST, url + "/completions", body: body, headers: [("Authorization", "Bearer s3cret")]).status
        XCTAssertEqual(status, 200)
        // The client sends the key from the variable its configuration names.
        let client = try OpenAIClient(configuration: testConfiguration([url], apiKeyEnv: "SERVE_KEY"), environment: ["SERVE_KEY": "s3cret"])
        _ = try await client.complete(CompletionRequest(prompt: "a", options: SamplingOptions(maximumTokens: 2)))
        try await client.shutdown()
        await server.stop()
    }

    func testGracefulShutdownFinishesRequestsInFlight() async throws {
        let server = try await startServer(model: ScriptedLanguageModel(name: "scripted", latencySeconds: 0.5))
        let url = server.baseURL
        let inFlight = Task { try await self.raw(.POST, url + "/completions", body: #"{"prompt": "a", "max_tokens": 2}"#) }
        try await Task.sleep(nanoseconds: 150_000_000)
        await server.stop()
        let response = try await inFlight.value
        XCTAssertEqual(response.status, 200, response.body)
        do {
            _ = try await raw(.GET, url + "/models")
            XCTFail("the server should be gone")
        } catch {}
    }
}

/// A batched model that records the size of every batch it is given.
actor BatchRecorder: BatchedGeneration {
    nonisolated let name = "scripted"
    private let model = ScriptedLanguageModel(name: "scripted")
    private(set) var sizes: [Int] = []

    func completeBatch(_ requests: [CompletionRequest]) async throws -> [Completion] {
        sizes.append(requests.count)
        return try await model.completeBatch(requests)
    }
    func complete(_ request: CompletionRequest) async throws -> Completion { try await completeBatch([request])[0] }
    func chat(_ request: ChatRequest) async throws -> Completion { try await model.chat(request) }
    func score(prompt: String, completion: String) async throws -> Score { try await model.score(prompt: prompt, completion: completion) }
}

@available(macOS 14, iOS 17, tvOS 17, *)  // Hummingbird 2
extension RunningServer {
    static func start(_ server: OpenAIServer) async throws -> RunningServer {
        try await start { onListening in server.application(onListening: onListening) }
    }
}
