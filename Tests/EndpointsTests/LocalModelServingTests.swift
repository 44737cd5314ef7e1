import Foundation
import LanguageModels
import XCTest
@testable import Endpoints

/// The local engine behind `charter serve`: what the client gets over HTTP equals calling the engine directly.
@available(macOS 14, iOS 17, tvOS 17, *)  // Hummingbird 2
final class LocalModelServingTests: XCTestCase {
    /// A tiny Llama with a byte-level BPE tokenizer and a ChatML template (Alignment's TRL fixture).
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("AlignmentTests/Fixtures/trl/policy")

    func testClientOverHTTPEqualsTheLocalEngineForTheSameSeed() async throws {
        let local = try LocalLanguageModel.load(directory: Self.folder)
        let server = try await RunningServer.start(OpenAIServer(model: local, configuration: ServerConfiguration(modelID: "policy", port: 0)))
        var configuration = testConfiguration([server.baseURL])
        configuration.model = "policy"
        let client = try OpenAIClient(configuration: configuration)

        for seed in [0, 7] as [UInt64] {
            let options = SamplingOptions(maximumTokens: 10, temperature: 0.9, topK: 50, seed: seed, topLogProbabilities: 2)
            let completion = CompletionRequest(prompt: "The quick brown fox", options: options)
            let served = try await client.complete(completion)
            let direct = try await local.complete(completion)
            XCTAssertEqual(served, direct)
            XCTAssertEqual(served.tokens?.count, direct.completionTokenCount)

            let chat = ChatRequest(messages: [.init(role: "user", content: "Say something.")], options: options)
            let servedChat = try await client.chat(chat)
            let directChat = try await local.chat(chat)
            XCTAssertEqual(servedChat, directChat)
        }

        // Echo scoring sees the joint tokenization of prompt + completion; with a boundary the tokenizer keeps
        // (the completion starts a new word), the completion's tokens and log-probs match the engine's score.
        let served = try await client.score(prompt: "The quick brown", completion: " fox jumps")
        let direct = try await local.score(prompt: "The quick brown", completion: " fox jumps")
        XCTAssertFalse(direct.tokens.isEmpty)
        XCTAssertEqual(served.tokens.map(\.token), direct.tokens.map(\.token))
        for (a, b) in zip(served.tokens, direct.tokens) { XCTAssertEqual(a.logProbability, b.logProbability, accuracy: 1e-4) }

        try await client.shutdown()
        await server.stop()
    }
}
