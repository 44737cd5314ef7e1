import XCTest
@testable import Runtime

final class ItemLogTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-log-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testItemLogCutsATornLineAndNeverDuplicates() throws {
        let url = directory.appendingPathComponent("items.jsonl")
        try "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"c\",\"te".write(to: url, atomically: true, encoding: .utf8)
        let log = try ItemLog(url: url)
        XCTAssertEqual(log.completedIDs, ["a", "b"])
        try log.append(id: "c", line: Data("{\"id\":\"c\"}".utf8))
        try log.append(id: "a", line: Data("{\"id\":\"a\",\"again\":true}".utf8))
        try log.sort(by: ["c", "b", "a"])
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "{\"id\":\"c\"}\n{\"id\":\"b\"}\n{\"id\":\"a\"}\n")
        try "{\"id\":\"a\"}\nnot json\n".write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ItemLog(url: url)) { XCTAssertTrue("\($0)".contains("items.jsonl:2"), "\($0)") }
    }

    /// The on-disk format: one sorted-keys JSON object per line, slashes unescaped; appends after `sort` go to the end.
    func testEncodesRecordsAsSortedKeyLinesAndKeepsAppendingAfterSort() throws {
        struct Record: Encodable { let id: String; let text: String; let score: Int }
        let url = directory.appendingPathComponent("nested/records.jsonl")
        let log = try ItemLog(url: url)
        try log.append(id: "2", Record(id: "2", text: "a/b", score: 1))
        try log.append(id: "1", Record(id: "1", text: "x", score: 2))
        try log.sort(by: ["1", "2"])
        try log.append(id: "3", Record(id: "3", text: "y", score: 3))
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), """
            {"id":"1","score":2,"text":"x"}
            {"id":"2","score":1,"text":"a/b"}
            {"id":"3","score":3,"text":"y"}

            """)
        XCTAssertEqual(try ItemLog(url: url).completedIDs, ["1", "2", "3"])
    }

    func testFailureLogStartsEmptyAndRecordsEachFailure() throws {
        struct Boom: Error, CustomStringConvertible { var description: String { "HTTP 503" } }
        let url = directory.appendingPathComponent("failures.jsonl")
        try "{\"id\":\"stale\"}\n".write(to: url, atomically: true, encoding: .utf8)
        let failures = try FailureLog(url: url)
        try failures.record(id: "p1", error: Boom(), attempts: 3)
        XCTAssertEqual(failures.count, 1)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "{\"attempts\":3,\"error\":\"HTTP 503\",\"id\":\"p1\"}\n")
    }
}
