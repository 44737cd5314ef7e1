import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LanguageModels
import XCTest
@testable import Endpoints

/// The URLSession transport under the client: https, the body limit, shutdown and 401 answers.
@available(macOS 14, iOS 17, tvOS 17, *)  // Hummingbird 2
final class HTTPTransportTests: XCTestCase {
    func post(_ url: String, body: String = #"{"prompt": "a", "max_tokens": 2}"#) throws -> URLRequest {
        var request = URLRequest(url: try XCTUnwrap(URL(string: url)))
        request.httpMethod = "POST"
        request.timeoutInterval = 10
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        return request
    }

    /// No external network here: an https URL to a closed port and to a plain-HTTP server must both be tried
    /// (TLS, not a silent fall-back to http) and fail as connection errors naming the https endpoint.
    func testHTTPSEndpointsAreAcceptedAndAttempted() async throws {
        let dead = try await FaultServer.start(script: FaultScript())
        let deadPort = dead.port
        await dead.stop()
        let refused = "https://127.0.0.1:\(deadPort)/v1"
        let client = try OpenAIClient(configuration: testConfiguration([refused], maxRetries: 0))
        do {
            _ = try await client.complete(CompletionRequest(prompt: "a"))
            XCTFail("expected a connection error")
        } catch let error as EndpointError {
            guard case .connection(let endpoint, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(endpoint, refused + "/completions")
            XCTAssert(error.description.contains("https://127.0.0.1:\(deadPort)/v1/completions"), error.description)
        }
        try await client.shutdown()

        let script = FaultScript()
        let plain = try await FaultServer.start(script: script)
        let tls = "https://127.0.0.1:\(plain.port)/v1"
        let tlsClient = try OpenAIClient(configuration: testConfiguration([tls], maxRetries: 0))
        do {
            _ = try await tlsClient.complete(CompletionRequest(prompt: "a"))
            XCTFail("a TLS handshake with a plain-HTTP server cannot succeed")
        } catch let error as EndpointError {
            guard case .connection(let endpoint, let detail) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(endpoint, tls + "/completions")
            #if canImport(FoundationNetworking)
            XCTAssert(detail.contains("SSL") || detail.contains("TLS"), "libcurl reports the handshake: \(detail)")
            #endif
        }
        let hits = await script.hits
        XCTAssertEqual(hits, 0, "no request reached the server in clear text")
        try await tlsClient.shutdown()
        await plain.stop()
    }

    func testABodyPastTheLimitIsRefused() async throws {
        let text = #"{"choices": [{"text": ""# + String(repeating: "x", count: 5000) + #"", "finish_reason": "stop"}]}"#
        let server = try await FaultServer.start(script: FaultScript([.body(text), .body(text)]))
        let transport = HTTPTransport(maximumConnectionsPerHost: 1)
        do {
            _ = try await transport.send(try post(server.baseURL + "/completions"), limit: 1000)
            XCTFail("expected BodyTooLarge")
        } catch let error as HTTPTransport.BodyTooLarge {
            XCTAssertEqual(error.limit, 1000)
        }
        let whole = try await transport.send(try post(server.baseURL + "/completions"), limit: 1 << 20)
        XCTAssertEqual(whole.status, 200)
        XCTAssertEqual(String(decoding: whole.body, as: UTF8.self), text)
        XCTAssertEqual(whole.header("CONTENT-TYPE"), "application/json")
        transport.shutdown()
        await server.stop()
    }

    func testShutdownEndsTransfersInFlightAndRefusesNewOnes() async throws {
        let server = try await FaultServer.start(script: FaultScript([.stall(seconds: 3)]))
        let transport = HTTPTransport(maximumConnectionsPerHost: 1)
        let request = try post(server.baseURL + "/completions")
        let start = Date()
        let inFlight = Task { try await transport.send(request, limit: 1 << 20) }
        try await Task.sleep(nanoseconds: 200_000_000)
        transport.shutdown()
        do {
            _ = try await inFlight.value
            XCTFail("the stalled request should have been cancelled")
        } catch {}
        XCTAssertLessThan(Date().timeIntervalSince(start), 2, "shutdown must not wait for the stalled server")
        XCTAssertThrowsError(try transport.events(for: request)) { XCTAssert($0 is HTTPTransport.ShutDown, "\($0)") }
        transport.shutdown()  // idempotent
        await server.stop()
    }

    /// A 401 with `WWW-Authenticate: Bearer` reaches the client as an HTTP error (URLSession must not treat it as
    /// an authentication challenge to answer), and it is not retried.
    func testA401IsAnHTTPErrorNamingTheEndpoint() async throws {
        var configuration = ServerConfiguration(modelID: "scripted", port: 0, apiKey: "s3cret")
        configuration.batchWindowSeconds = 0
        let server = try await RunningServer.start(OpenAIServer(model: ScriptedLanguageModel(name: "scripted"), configuration: configuration))
        let client = try OpenAIClient(configuration: testConfiguration([server.baseURL], apiKeyEnv: "SERVE_KEY"),
                                      environment: ["SERVE_KEY": "wrong"])
        do {
            _ = try await client.complete(CompletionRequest(prompt: "a", options: SamplingOptions(maximumTokens: 2)))
            XCTFail("expected a 401")
        } catch let error as EndpointError {
            guard case .http(let endpoint, 401, let message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(endpoint, server.baseURL + "/completions")
            XCTAssert(message.contains("bearer"), message)
        }
        try await client.shutdown()
        await server.stop()
    }
}
