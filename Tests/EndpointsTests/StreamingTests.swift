import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LanguageModels
import XCTest
@testable import Endpoints

/// A model that streams "ab" then waits for the test to see the first chunk before it streams the rest, so the
/// test fails if the server only writes once generation is over.
actor GatedStreamingModel: StreamingGeneration {
    nonisolated let name = "scripted"
    private var gate: CheckedContinuation<Void, Never>?
    private var opened = false
    /// Whether the test (not the fallback timer) released the gate.
    private(set) var releasedByReader = false
    let failAfterFirstToken: Bool

    init(failAfterFirstToken: Bool = false) { self.failAfterFirstToken = failAfterFirstToken }

    func open(byReader: Bool) {
        guard !opened else { return }
        opened = true
        releasedByReader = byReader
        gate?.resume()
        gate = nil
    }

    private func waitForGate() async {
        if opened { return }
        Task { try? await Task.sleep(nanoseconds: 3_000_000_000); self.open(byReader: false) }
        await withCheckedContinuation { gate = $0 }
    }

    private func run(_ continuation: AsyncThrowingStream<GenerationEvent, any Error>.Continuation) async {
        continuation.yield(.token(TokenLogProbability(token: "ab", logProbability: -0.5)))
        await waitForGate()
        if failAfterFirstToken {
            continuation.finish(throwing: EndpointError.invalidConfiguration("injected model failure"))
            return
        }
        continuation.yield(.token(TokenLogProbability(token: "cd", logProbability: -1.5)))
        continuation.yield(.finished(Completion(text: "abcd", finishReason: .stop, promptTokenCount: 1, completionTokenCount: 2)))
        continuation.finish()
    }

    nonisolated func streamCompletion(_ request: CompletionRequest) -> AsyncThrowingStream<GenerationEvent, any Error> {
        AsyncThrowingStream { continuation in Task { await self.run(continuation) } }
    }
    nonisolated func streamChat(_ request: ChatRequest) -> AsyncThrowingStream<GenerationEvent, any Error> {
        AsyncThrowingStream { continuation in Task { await self.run(continuation) } }
    }
    func complete(_ request: CompletionRequest) async throws -> Completion {
        Completion(text: "abcd", finishReason: .stop, promptTokenCount: 1, completionTokenCount: 2)
    }
    func chat(_ request: ChatRequest) async throws -> Completion { try await complete(CompletionRequest(prompt: "")) }
    func score(prompt: String, completion: String) async throws -> Score { Score(tokens: []) }
}

@available(macOS 14, iOS 17, tvOS 17, *)  // Hummingbird 2
final class StreamingTests: XCTestCase {
    /// Posts `body` and reads the SSE response incrementally, opening the model's gate after the first token chunk.
    func stream(_ path: String, body: String, model: GatedStreamingModel) async throws -> [String] {
        let configuration = ServerConfiguration(modelID: "scripted", port: 0)
        let server = try await RunningServer.start(OpenAIServer(model: model, configuration: configuration))
        var request = URLRequest(url: try XCTUnwrap(URL(string: server.baseURL + path)))
        request.httpMethod = "POST"
        request.timeoutInterval = 10
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        var status: Int?
        var text = ""
        for try await event in try OpenAIServerTests.http.events(for: request) {
            switch event {
            case .head(let code, _):
                status = code
            case .body(let chunk):
                text += String(decoding: chunk, as: UTF8.self)
                if text.contains("ab") { await model.open(byReader: true) }
            }
        }
        XCTAssertEqual(status, 200)
        await server.stop()
        return text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
    }

    func testChatChunksAreWrittenAsTheModelProducesThem() async throws {
        let model = GatedStreamingModel()
        let events = try await stream("/chat/completions", body: #"{"messages": [{"role": "user", "content": "hi"}], "stream": true, "logprobs": true}"#, model: model)
        let releasedByReader = await model.releasedByReader
        XCTAssertTrue(releasedByReader, "the first chunk did not reach the client before generation finished")
        XCTAssertEqual(events.count, 5)  // role, "ab", "cd", finish, [DONE]
        XCTAssert(events[1].contains(#""content":"ab""#) && events[1].contains(#""logprob":-0.5"#), events[1])
        XCTAssert(events[3].contains(#""finish_reason":"stop""#), events[3])
        XCTAssertEqual(events.last, "data: [DONE]")
    }

    func testCompletionChunksAreWrittenAsTheModelProducesThem() async throws {
        let model = GatedStreamingModel()
        let events = try await stream("/completions", body: #"{"prompt": "xy", "stream": true, "logprobs": 0}"#, model: model)
        let releasedByReader = await model.releasedByReader
        XCTAssertTrue(releasedByReader)
        XCTAssertEqual(events.count, 4)  // "ab", "cd", finish, [DONE]
        XCTAssert(events[1].contains(#""text":"cd""#) && events[1].contains(#""text_offset":[4]"#), events[1])
    }

    func testAModelFailureMidStreamIsAnErrorEvent() async throws {
        let model = GatedStreamingModel(failAfterFirstToken: true)
        let events = try await stream("/chat/completions", body: #"{"messages": [{"role": "user", "content": "hi"}], "stream": true}"#, model: model)
        XCTAssertEqual(events.count, 4)  // role, "ab", error, [DONE]
        XCTAssert(events[2].contains(#""error""#) && events[2].contains("injected model failure"), events[2])
        XCTAssertEqual(events.last, "data: [DONE]")
    }
}
