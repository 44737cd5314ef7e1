import Checksums
import Foundation
import LanguageModels
import Runtime
import XCTest
@testable import Endpoints

/// The client against a fault-injecting loopback server: what it retries, what it refuses, what it caches.
@available(macOS 14, iOS 17, tvOS 17, *)  // Hummingbird 2
final class OpenAIClientTests: XCTestCase {
    let request = CompletionRequest(prompt: "hello ", options: SamplingOptions(maximumTokens: 8, temperature: 0.7, seed: 3, topLogProbabilities: 2))

    func expected() async throws -> Completion {
        try await FaultServer.model.complete(request)
    }

    /// Runs `body` against a fault server playing `faults`, then stops everything.
    func withServer(_ faults: [Fault], latency: Double = 0, configure: (String) -> EndpointConfiguration = { testConfiguration([$0]) },
                    _ body: (OpenAIClient, FaultScript) async throws -> Void) async throws {
        let script = FaultScript(faults)
        let server = try await FaultServer.start(script: script, latency: latency)
        let client = try OpenAIClient(configuration: configure(server.baseURL))
        do {
            try await body(client, script)
        } catch {
            try? await client.shutdown()
            await server.stop()
            throw error
        }
        try await client.shutdown()
        await server.stop()
    }

    func testCompletionMatchesTheModelAndLogprobsSurviveTheWire() async throws {
        try await withServer([]) { client, script in
            let completion = try await client.complete(request)
            let direct = try await expected()
            XCTAssertEqual(completion, direct)
            XCTAssertEqual(completion.tokens?.first?.top.count, 2)
            let hits = await script.hits
            XCTAssertEqual(hits, 1)
        }
    }

    func testRetryAfterIsHonouredOn429() async throws {
        try await withServer([.status(429, retryAfter: "1")]) { client, script in
            let start = Date()
            let completion = try await client.complete(request)
            let elapsed = Date().timeIntervalSince(start)
            let direct = try await expected()
            XCTAssertEqual(completion, direct)
            // The backoff alone would wait at most 0.05 s; the server asked for 1 s.
            XCTAssertGreaterThanOrEqual(elapsed, 0.95)
            let hits = await script.hits
            XCTAssertEqual(hits, 2)
        }
    }

    func testRetryAfterAcceptsSecondsAndHTTPDates() {
        XCTAssertEqual(OpenAIClient.retryAfterSeconds("7"), 7)
        XCTAssertEqual(OpenAIClient.retryAfterSeconds("Wed, 21 Oct 2015 07:28:00 GMT"), 0)  // in the past: now
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let future = formatter.string(from: Date().addingTimeInterval(30))
        let seconds = OpenAIClient.retryAfterSeconds(future) ?? -1
        XCTAssert((28...30).contains(seconds), "\(future) -> \(seconds)")
        XCTAssertNil(OpenAIClient.retryAfterSeconds("soon"))
    }

    func testServerErrorsAreRetriedUntilSuccess() async throws {
        try await withServer([.status(500, retryAfter: nil), .status(503, retryAfter: nil), .status(502, retryAfter: nil)]) { client, script in
            let received = try await client.complete(request)
            let direct = try await expected()
            XCTAssertEqual(received, direct)
            let hits = await script.hits
            XCTAssertEqual(hits, 4)
        }
    }

    func testAStalledServerTimesOutAndTheRetrySucceeds() async throws {
        try await withServer([.stall(seconds: 3)], configure: { testConfiguration([$0], timeout: 0.5) }) { client, script in
            let start = Date()
            let received = try await client.complete(request)
            let direct = try await expected()
            XCTAssertEqual(received, direct)
            XCTAssertLessThan(Date().timeIntervalSince(start), 2.5)
            let hits = await script.hits
            XCTAssertEqual(hits, 2)
        }
    }

    func testAStalledServerGivesUpWithATimeoutError() async throws {
        try await withServer([.stall(seconds: 2), .stall(seconds: 2)], configure: { testConfiguration([$0], maxRetries: 1, timeout: 0.3) }) { client, _ in
            do {
                _ = try await client.complete(request)
                XCTFail("expected a timeout")
            } catch let error as EndpointError {
                guard case .retriesExhausted(2, .timeout(let endpoint, 0.3)) = error else { return XCTFail("\(error)") }
                XCTAssert(endpoint.hasSuffix("/v1/completions"), endpoint)
                XCTAssert(error.description.contains("timeout_s"), error.description)
            }
        }
    }

    func testAConnectionClosedMidBodyIsRetried() async throws {
        try await withServer([.closeMidBody, .closeMidBody]) { client, script in
            let received = try await client.complete(request)
            let direct = try await expected()
            XCTAssertEqual(received, direct)
            let hits = await script.hits
            XCTAssertEqual(hits, 3)
        }
    }

    func testInvalidJSONIsAnErrorNamingTheEndpointAndIsNotRetried() async throws {
        try await withServer([.invalidJSON]) { client, script in
            do {
                _ = try await client.complete(request)
                XCTFail("expected an error")
            } catch let error as EndpointError {
                guard case .invalidResponse(let endpoint, "(body)", let detail) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(endpoint, "http://127.0.0.1:\(self.port(of: client))/v1/completions")
                XCTAssert(detail.contains("not valid JSON"), detail)
            }
            let hits = await script.hits
            XCTAssertEqual(hits, 1)
        }
    }

    func testMissingFieldsAreErrorsNamingTheFieldPath() async throws {
        let cases: [(String, String)] = [
            (#"{"choices": [{"index": 0}]}"#, "choices[0].text"),
            (#"{"choices": [{"index": 0, "text": "x"}]}"#, "choices[0].finish_reason"),
            (#"{"choices": []}"#, "choices"),
            (#"{"object": "text_completion"}"#, "choices"),
            (#"{"choices": [{"text": "x", "finish_reason": "stop", "logprobs": {"tokens": ["x"], "token_logprobs": "bad"}}]}"#,
             "choices[0].logprobs.token_logprobs"),
            (#"{"choices": [{"text": "x", "finish_reason": "stop", "logprobs": {"tokens": ["x", "y"], "token_logprobs": [-1]}}]}"#,
             "choices[0].logprobs.token_logprobs"),
        ]
        try await withServer(cases.map { .body($0.0) }) { client, _ in
            for (body, field) in cases {
                do {
                    _ = try await client.complete(request)
                    XCTFail("expected an error for \(body)")
                } catch let error as EndpointError {
                    guard case .invalidResponse(_, let reported, _) = error else { XCTFail("\(error)"); continue }
                    XCTAssertEqual(reported, field, "\(body): \(error)")
                    XCTAssert(error.description.contains("127.0.0.1"), error.description)
                }
            }
        }
    }

    func testClientErrorsAreNotRetried() async throws {
        try await withServer([.status(400, retryAfter: nil)]) { client, script in
            do {
                _ = try await client.complete(request)
                XCTFail("expected an error")
            } catch let error as EndpointError {
                XCTAssertEqual(error, .http(endpoint: "http://127.0.0.1:\(self.port(of: client))/v1/completions",
                                            status: 400, message: "injected 400"))
            }
            let hits = await script.hits
            XCTAssertEqual(hits, 1)
        }
    }

    func testRetriesStopAtMaxRetries() async throws {
        try await withServer(Array(repeating: .status(503, retryAfter: nil), count: 10),
                             configure: { testConfiguration([$0], maxRetries: 2) }) { client, script in
            do {
                _ = try await client.complete(request)
                XCTFail("expected an error")
            } catch let error as EndpointError {
                guard case .retriesExhausted(3, .http(_, 503, _)) = error else { return XCTFail("\(error)") }
            }
            let hits = await script.hits
            XCTAssertEqual(hits, 3)
        }
    }

    func testADeadEndpointIsRoutedAround() async throws {
        let script = FaultScript()
        let alive = try await FaultServer.start(script: script)
        // A port nothing listens on: connection refused, retried on the other endpoint.
        let dead = try await FaultServer.start(script: FaultScript())
        let deadURL = dead.baseURL
        await dead.stop()
        let client = try OpenAIClient(configuration: testConfiguration([deadURL, alive.baseURL], maxRetries: 2))
        for seed in 0..<4 as Range<UInt64> {
            var request = request
            request.options.seed = seed
            let completion = try await client.complete(request)
            let direct = try await FaultServer.model.complete(request)
            XCTAssertEqual(completion, direct)
        }
        let hits = await script.hits
        XCTAssertEqual(hits, 4)
        try await client.shutdown()
        await alive.stop()
    }

    func testConnectionRefusedIsAClearError() async throws {
        let dead = try await FaultServer.start(script: FaultScript())
        let url = dead.baseURL
        await dead.stop()
        let client = try OpenAIClient(configuration: testConfiguration([url], maxRetries: 1))
        do {
            _ = try await client.complete(request)
            XCTFail("expected an error")
        } catch let error as EndpointError {
            guard case .retriesExhausted(2, .connection(let endpoint, _)) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(endpoint, url + "/completions")
            XCTAssert(error.description.contains("is the server running"), error.description)
        }
        try await client.shutdown()
    }

    func testLeastOutstandingBalancingSpreadsLoad() async throws {
        let first = FaultScript(), second = FaultScript()
        let a = try await FaultServer.start(script: first, latency: 0.2)
        let b = try await FaultServer.start(script: second, latency: 0.2)
        let client = try OpenAIClient(configuration: testConfiguration([a.baseURL, b.baseURL]))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for seed in 0..<8 as Range<UInt64> {
                group.addTask {
                    var request = self.request
                    request.options.seed = seed
                    _ = try await client.complete(request)
                }
            }
            try await group.waitForAll()
        }
        let hitsA = await first.hits, hitsB = await second.hits
        XCTAssertEqual(hitsA, 4)
        XCTAssertEqual(hitsB, 4)
        try await client.shutdown()
        await a.stop()
        await b.stop()
    }

    func testConcurrencyLimitCapsRequestsInFlight() async throws {
        try await withServer([], latency: 0.1, configure: { testConfiguration([$0], maxConcurrency: 2) }) { client, script in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for seed in 0..<6 as Range<UInt64> {
                    group.addTask {
                        var request = self.request
                        request.options.seed = seed
                        _ = try await client.complete(request)
                    }
                }
                try await group.waitForAll()
            }
            let peak = await script.peakInFlight, hits = await script.hits
            XCTAssertEqual(peak, 2)
            XCTAssertEqual(hits, 6)
        }
    }

    func testCacheNeverPaysTwiceNorKeepsFailures() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // The first attempt fails (500) and must not be cached; the retry's answer is.
        try await withServer([.status(500, retryAfter: nil)], configure: { testConfiguration([$0], cacheDir: folder) }) { client, script in
            let answers = try await withThrowingTaskGroup(of: Completion.self) { group in
                for _ in 0..<6 { group.addTask { try await client.complete(self.request) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            XCTAssertEqual(Set(answers.map(\.text)).count, 1)
            let direct = try await expected()
            XCTAssertEqual(answers[0], direct)
            var hits = await script.hits
            XCTAssertEqual(hits, 2)  // the 500 and one success, for six identical concurrent calls

            // A re-run (new client, same folder) pays nothing; a new seed pays once.
            let rerun = try OpenAIClient(configuration: testConfiguration([client.baseURLs[0]], cacheDir: folder))
            let rerunAnswer = try await rerun.complete(request)
            XCTAssertEqual(rerunAnswer, answers[0])
            hits = await script.hits
            XCTAssertEqual(hits, 2)
            var other = request
            other.options.seed = 4
            _ = try await rerun.complete(other)
            _ = try await rerun.complete(other)
            hits = await script.hits
            XCTAssertEqual(hits, 3)
            try await rerun.shutdown()
        }
        let files = try FileManager.default.subpathsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") || $0.hasSuffix(".tmp") }
        XCTAssertEqual(files.count, 2, "\(files)")
        XCTAssert(files.allSatisfy { $0.hasSuffix(".json") }, "no temporary files are left behind: \(files)")
    }

    /// A fresh answer's generated tokens reach the caller's `TokenProgress` listener (a progress line); a cached one's do not.
    func testFreshAnswersReportTheirTokensAndCachedOnesDoNot() async throws {
        final class Counter: @unchecked Sendable {
            private let lock = NSLock()
            private var total = 0
            func add(_ count: Int) { lock.withLock { total += count } }
            var sum: Int { lock.withLock { total } }
        }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await withServer([], configure: { testConfiguration([$0], cacheDir: folder) }) { client, _ in
            let counter = Counter()
            let fresh = try await TokenProgress.$listener.withValue({ counter.add($0) }) { try await client.complete(self.request) }
            XCTAssertGreaterThan(fresh.completionTokenCount, 0)
            XCTAssertEqual(counter.sum, fresh.completionTokenCount)
            _ = try await TokenProgress.$listener.withValue({ counter.add($0) }) { try await client.complete(self.request) }
            XCTAssertEqual(counter.sum, fresh.completionTokenCount, "the cached answer generated nothing")
        }
    }

    func testInvalidResponsesAreNotCached() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await withServer([.body(#"{"choices": []}"#)], configure: { testConfiguration([$0], cacheDir: folder) }) { client, script in
            do {
                _ = try await client.complete(request)
                XCTFail("expected an error")
            } catch is EndpointError {}
            let received = try await client.complete(request)
            let direct = try await expected()
            XCTAssertEqual(received, direct)
            let hits = await script.hits
            XCTAssertEqual(hits, 2)
        }
    }

    func testEchoScoringMatchesTheModel() async throws {
        try await withServer([]) { client, _ in
            let score = try await client.score(prompt: "the cat ", completion: "sat.")
            let direct = try await FaultServer.model.score(prompt: "the cat ", completion: "sat.")
            XCTAssertEqual(score, direct)
        }
    }

    func testEchoScoringUnsupportedIsAClearError() async throws {
        try await withServer([.noLogprobs]) { client, _ in
            do {
                _ = try await client.score(prompt: "a", completion: "b")
                XCTFail("expected an error")
            } catch let error as EndpointError {
                guard case .echoScoringUnsupported(let endpoint) = error else { return XCTFail("\(error)") }
                XCTAssert(endpoint.hasSuffix("/v1/completions"))
                XCTAssert(error.description.contains("does not support echo scoring"))
            }
        }
    }

    func testAPIKeyComesFromTheNamedVariable() async throws {
        let script = FaultScript()
        let server = try await FaultServer.start(script: script)
        let configuration = testConfiguration([server.baseURL], apiKeyEnv: "CHARTER_TEST_KEY")
        XCTAssertThrowsError(try OpenAIClient(configuration: configuration, environment: [:])) { error in
            XCTAssertEqual(error as? EndpointError, .missingAPIKey(variable: "CHARTER_TEST_KEY"))
        }
        let client = try OpenAIClient(configuration: configuration, environment: ["CHARTER_TEST_KEY": "s3cret"])
        _ = try await client.complete(request)
        let headers = await script.authorizationHeaders
        XCTAssertEqual(headers, ["Bearer s3cret"])
        try await client.shutdown()
        await server.stop()
    }

    func testConfigurationDecodesSnakeCaseWithDefaultsAndValidates() throws {
        let json = #"{"urls": ["http://127.0.0.1:9/"], "model": "m", "api_key_env": "K", "cache_dir": "/tmp/c", "timeout_s": 3}"#
        let configuration = try JSONDecoder().decode(EndpointConfiguration.self, from: Data(json.utf8))
        XCTAssertEqual(configuration.apiKeyEnv, "K")
        XCTAssertEqual(configuration.timeoutS, 3)
        XCTAssertEqual(configuration.maxConcurrency, 16)
        XCTAssertEqual(configuration.baseURLs, ["http://127.0.0.1:9/v1"])
        XCTAssertThrowsError(try EndpointConfiguration(urls: [], model: "m").validate())
        XCTAssertThrowsError(try EndpointConfiguration(urls: ["ftp://x"], model: "m").validate())
        XCTAssertThrowsError(try EndpointConfiguration(urls: ["http://x"], model: "m", maxConcurrency: 0).validate())
    }

    func testSHA256MatchesKnownDigests() {
        XCTAssertEqual(SHA256.hex(bytes: SHA256.hash([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(bytes: SHA256.hash(Array("abc".utf8))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(bytes: SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(bytes: SHA256.hash(Array(repeating: UInt8(ascii: "a"), count: 1000))),
                       "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    func testBackoffIsSeededAndBounded() async {
        let a = EndpointPool(endpointCount: 1, limit: 1, jitterSeed: 1), b = EndpointPool(endpointCount: 1, limit: 1, jitterSeed: 1)
        for retry in 0..<6 {
            let x = await a.backoff(retry: retry, base: 0.5, maximum: 4), y = await b.backoff(retry: retry, base: 0.5, maximum: 4)
            XCTAssertEqual(x, y)
            XCTAssert(x >= 0 && x <= min(4, 0.5 * Double(1 << retry)))
        }
    }

    private func port(of client: OpenAIClient) -> Int {
        URL(string: client.baseURLs[0])?.port ?? -1
    }
}
