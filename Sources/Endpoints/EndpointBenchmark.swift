import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LanguageModels

/// Throughput and latency of many clients against one model (usually an `OpenAIClient` to `charter serve`).
public struct LoadReport: Sendable, CustomStringConvertible {
    public var requests: Int
    public var errors: Int
    public var seconds: Double
    /// Sorted latencies of the successful requests, in seconds.
    public var latencies: [Double]
    public var firstError: String?

    public var requestsPerSecond: Double { Double(requests - errors) / seconds }
    /// Nearest-rank percentile of the latencies (seconds).
    public func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return .nan }
        let rank = Int((p / 100 * Double(latencies.count)).rounded(.up))
        return latencies[min(latencies.count - 1, max(rank - 1, 0))]
    }

    public var description: String {
        String(format: "%d requests, %d errors in %.2f s: %.1f requests/s, latency p50 %.2f ms, p99 %.2f ms",
               requests, errors, seconds, requestsPerSecond, percentile(50) * 1e3, percentile(99) * 1e3)
            + (firstError.map { "\n  first error: \($0)" } ?? "")
    }
}

/// Measurements behind `charter bench serve` (Benchmarks/load/README.md).
public enum EndpointBenchmark {
    /// `clients` concurrent loops share `requests` calls (distinct seeds, so a cache could not help).
    public static func load(model: any LanguageModel, clients: Int, requests: Int, maximumTokens: Int, chat: Bool) async -> LoadReport {
        let counter = Counter()
        let start = Date()
        let results = await withTaskGroup(of: [(Double?, String?)].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var results: [(Double?, String?)] = []
                    while let index = await counter.next(limit: requests) {
                        let options = SamplingOptions(maximumTokens: maximumTokens, temperature: 1, seed: UInt64(index))
                        let begin = Date()
                        do {
                            if chat {
                                _ = try await model.chat(ChatRequest(messages: [.init(role: "user", content: "request \(index)")], options: options))
                            } else {
                                _ = try await model.complete(CompletionRequest(prompt: "request \(index) ", options: options))
                            }
                            results.append((Date().timeIntervalSince(begin), nil))
                        } catch {
                            results.append((nil, String(describing: error)))
                        }
                    }
                    return results
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        let seconds = Date().timeIntervalSince(start)
        return LoadReport(requests: results.count, errors: results.filter { $0.0 == nil }.count, seconds: seconds,
                          latencies: results.compactMap(\.0).sorted(), firstError: results.compactMap(\.1).first)
    }

    /// Median seconds per request, sequentially, for a bare URLSession POST (the client's transport, alone) of the
    /// same body the client sends and for `OpenAIClient.complete`; their difference is the client's own overhead
    /// (encoding, balancing, retry and timeout machinery, decoding). Requests alternate so that drift hits both alike.
    public static func clientOverhead(baseURL: String, model: String, requests: Int) async throws -> (bare: Double, client: Double) {
        let client = try OpenAIClient(configuration: EndpointConfiguration(urls: [baseURL], model: model, maxConcurrency: 1, maxRetries: 0))
        let http = HTTPTransport(maximumConnectionsPerHost: 1)
        let request = CompletionRequest(prompt: "overhead ", options: SamplingOptions(maximumTokens: 1, temperature: 0))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = try encoder.encode(CompletionsRequestBody(model: model, prompt: .one(request.prompt), maxTokens: 1, temperature: 0, topP: 1))
        guard let url = URL(string: client.baseURLs[0] + "/completions") else {
            throw EndpointError.invalidConfiguration("urls: '\(baseURL)' is not a valid URL")
        }
        var bare: [Double] = [], viaClient: [Double] = []
        do {
            for _ in 0..<requests {
                var raw = URLRequest(url: url)
                raw.httpMethod = "POST"
                raw.setValue("application/json", forHTTPHeaderField: "Content-Type")
                raw.httpBody = body
                var begin = Date()
                _ = try await http.send(raw, limit: 1 << 24)
                bare.append(Date().timeIntervalSince(begin))
                begin = Date()
                _ = try await client.complete(request)
                viaClient.append(Date().timeIntervalSince(begin))
            }
        } catch {
            http.shutdown()
            try? await client.shutdown()
            throw error
        }
        http.shutdown()
        try await client.shutdown()
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        return (median(bare), median(viaClient))
    }
}

private actor Counter {
    private var issued = 0
    func next(limit: Int) -> Int? {
        guard issued < limit else { return nil }
        defer { issued += 1 }
        return issued
    }
}
