import XCTest
@testable import Runtime

final class ItemRunnerTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-runner-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    struct Record: Codable, Sendable { let id: String; let worker: String; let value: Int }
    struct Flaky: Error {}

    /// Counts calls per item (the runner calls `work` concurrently).
    final class Calls: @unchecked Sendable {
        private let lock = NSLock()
        private var counts: [String: Int] = [:]
        func add(_ id: String) -> Int { lock.withLock { counts[id, default: 0] += 1; return counts[id] ?? 0 } }
        var all: [String: Int] { lock.withLock { counts } }
    }

    private let quiet = RunOptions(concurrency: 3, retries: 1, retryDelay: 0, showProgress: false)

    func testResumesSkippingFinishedItemsAndRetriesFailures() async throws {
        let url = directory.appendingPathComponent("out.jsonl")
        try "{\"id\":\"i0\",\"value\":0,\"worker\":\"earlier\"}\n".write(to: url, atomically: true, encoding: .utf8)
        let items = (0..<6).map { (id: "i\($0)", item: $0) }
        let calls = Calls()
        let report = try await ItemRunner(options: quiet, label: "test").run(
            items, workers: ["w0", "w1"], log: try ItemLog(url: url), failures: try FailureLog(url: directory.appendingPathComponent("failures.jsonl"))
        ) { item, worker in
            // Item 3 fails once, item 5 fails every time.
            let call = calls.add("i\(item)")
            if item == 5 || (item == 3 && call == 1) { throw Flaky() }
            return Record(id: "i\(item)", worker: worker, value: item * 10)
        }
        XCTAssertEqual(calls.all["i0"], nil)
        XCTAssertEqual(calls.all["i3"], 2)
        XCTAssertEqual(calls.all["i5"], 2)
        XCTAssertEqual(report.total, 6)
        XCTAssertEqual(report.alreadyDone, 1)
        XCTAssertEqual(report.completed, 4)
        XCTAssertEqual(report.failed, 1)
        XCTAssertEqual(report.retries, 2)
        let log = try ItemLog(url: url)
        XCTAssertEqual(log.completedIDs, ["i0", "i1", "i2", "i3", "i4"])
        try log.sort(by: items.map(\.id))
        let records = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { try JSONDecoder().decode(Record.self, from: Data($0.utf8)) }
        // Pending items go round-robin over the workers: i1 → w0, i2 → w1, i3 → w0, i4 → w1.
        XCTAssertEqual(records.map(\.worker), ["earlier", "w0", "w1", "w0", "w1"])
        let failures = try String(contentsOf: directory.appendingPathComponent("failures.jsonl"), encoding: .utf8)
        XCTAssertTrue(failures.contains("\"id\":\"i5\""), failures)
    }

    /// Each item's work reports its tokens to the run's progress line, named by the item's number in the whole run.
    func testTheProgressLineShowsTheTokensOfTheItemInProgress() async throws {
        let url = directory.appendingPathComponent("out.jsonl")
        try "{\"id\":\"i0\",\"value\":0,\"worker\":\"earlier\"}\n".write(to: url, atomically: true, encoding: .utf8)
        let screen = ProgressLineTests.Screen(), clock = ProgressLineTests.Clock()
        var runner = ItemRunner(options: RunOptions(concurrency: 1, retries: 0, retryDelay: 0), label: "critique")
        runner.makeLine = { total, done in
            ProgressLine(label: "critique", total: total, startingAt: done, unit: "items", enabled: true, interval: 0,
                         interactive: false, clock: { clock.now }) { screen.write($0) }
        }
        let items = (0..<3).map { (id: "i\($0)", item: $0) }
        let failures = try FailureLog(url: directory.appendingPathComponent("f.jsonl"))
        _ = try await runner.run(items, workers: ["w"], log: try ItemLog(url: url), failures: failures) { item, worker in
            for _ in 0..<(item * 8) {
                clock.advance(0.125)
                TokenProgress.generated(1)
            }
            return Record(id: "i\(item)", worker: worker, value: item)
        }
        let lines = screen.lines
        XCTAssertEqual(lines.first, "critique 1/3 · 0 retries · 0 failed")
        XCTAssertTrue(lines.contains("critique 1/3 · item 2: 8 tokens, 8.0 tok/s · 0 retries · 0 failed"), screen.text)
        XCTAssertTrue(lines.contains("critique 2/3 · 1.00 items/s · ETA 1s · 0 retries · 0 failed"), screen.text)
        XCTAssertTrue(lines.contains("critique 2/3 · 3.0s/item · item 3: 16 tokens, 8.0 tok/s · ETA 3s · 0 retries · 0 failed"), screen.text)
        XCTAssertEqual(lines.last, "critique 3/3 · 1.5s/item · done in 3s · 0 retries · 0 failed")
        XCTAssertFalse(screen.text.contains("item 1:"), "item 1 was done by an earlier run")
    }

    func testStopsWhenTheFirstItemsAllFail() async throws {
        let items = (0..<20).map { (id: "i\($0)", item: $0) }
        do {
            _ = try await ItemRunner(options: RunOptions(concurrency: 1, retries: 0, retryDelay: 0, showProgress: false), label: "critique").run(
                items, workers: [0], log: try ItemLog(url: directory.appendingPathComponent("out.jsonl")),
                failures: try FailureLog(url: directory.appendingPathComponent("failures.jsonl"))
            ) { (_: Int, _: Int) -> Record in throw Flaky() }
            XCTFail("the run should stop")
        } catch let error as RuntimeError {
            XCTAssertTrue(error.description.hasPrefix("critique: the first 5 items all failed"), error.description)
        }
    }

    func testRunOptionsDecodeSnakeCaseWithDefaults() throws {
        let options = try JSONDecoder().decode(RunOptions.self, from: Data(#"{"retry_delay": 0.5, "progress": false}"#.utf8))
        XCTAssertEqual(options.retryDelay, 0.5)
        XCTAssertFalse(options.showProgress)
        XCTAssertEqual(options.concurrency, 4)
        XCTAssertEqual(options.abortAfterInitialFailures, 5)
    }
}
