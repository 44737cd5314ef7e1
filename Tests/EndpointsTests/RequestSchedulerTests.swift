import Foundation
import LanguageModels
import XCTest
@testable import Endpoints

/// The fair queue: a short request overtakes queued long ones and is never batched with them, and no request is
/// overtaken more than `maximumPassOvers` times.
final class RequestSchedulerTests: XCTestCase {
    /// A scheduler whose batches take 1 ms per unit of their largest cost and answer with each prompt.
    func scheduler(maximumBatchSize: Int = 4, maximumPassOvers: Int = 4) -> RequestScheduler {
        RequestScheduler(window: 0, maximumBatchSize: maximumBatchSize, maximumPassOvers: maximumPassOvers, completions: { requests in
            let requests = requests.compactMap { $0 as? CompletionRequest }
            let longest = requests.map(\.options.maximumTokens).max() ?? 0
            try await Task.sleep(nanoseconds: UInt64(longest) * 1_000_000)
            return requests.map { Completion(text: $0.prompt, finishReason: .length, promptTokenCount: 0, completionTokenCount: 0) }
        })
    }

    /// Submits a request of `cost` (its run takes `cost` ms) and returns when it finished (seconds since `start`).
    func submit(_ queue: RequestScheduler, _ name: String, cost: Int, start: Date) async throws -> Double {
        let request = CompletionRequest(prompt: name, options: SamplingOptions(maximumTokens: cost))
        _ = try await queue.submit(request, kind: .completion, cost: cost)
        return Date().timeIntervalSince(start)
    }

    func testAShortRequestOvertakesQueuedLongOnesAndIsNotBatchedWithThem() async throws {
        let queue = scheduler()
        let start = Date()
        async let first = submit(queue, "long 1", cost: 300, start: start)
        try await Task.sleep(nanoseconds: 30_000_000)
        async let second = submit(queue, "long 2", cost: 300, start: start)
        try await Task.sleep(nanoseconds: 30_000_000)
        async let short = submit(queue, "short", cost: 2, start: start)
        let (firstDone, secondDone, shortDone) = try await (first, second, short)
        let order = await queue.startOrder, sizes = await queue.batchSizes
        XCTAssertEqual(order, [0, 2, 1], "the short request starts as soon as the running one ends")
        XCTAssertEqual(sizes, [1, 1, 1], "the short request is not padded into the long one's batch")
        XCTAssertLessThan(shortDone, secondDone)
        XCTAssertLessThan(shortDone - firstDone, 0.15)
    }

    func testNoRequestIsOvertakenMoreThanTheBound() async throws {
        let queue = scheduler(maximumBatchSize: 1, maximumPassOvers: 2)
        let start = Date()
        try await withThrowingTaskGroup(of: Double.self) { group in
            group.addTask { try await self.submit(queue, "running", cost: 200, start: start) }
            try await Task.sleep(nanoseconds: 30_000_000)
            group.addTask { try await self.submit(queue, "long", cost: 50, start: start) }
            try await Task.sleep(nanoseconds: 20_000_000)
            for index in 0..<5 {
                group.addTask { try await self.submit(queue, "short \(index)", cost: 5, start: start) }
                try await Task.sleep(nanoseconds: 10_000_000)
            }
            for try await _ in group {}
        }
        let order = await queue.startOrder
        XCTAssertEqual(order, [0, 2, 3, 1, 4, 5, 6], "the long request goes after two shorter ones overtook it")
    }

    func testSimilarCostsShareABatch() {
        XCTAssertTrue(RequestScheduler.similar(10, 80))
        XCTAssertTrue(RequestScheduler.similar(1000, 2000))
        XCTAssertFalse(RequestScheduler.similar(2, 300))
        XCTAssertFalse(RequestScheduler.similar(1000, 2100))
    }
}
