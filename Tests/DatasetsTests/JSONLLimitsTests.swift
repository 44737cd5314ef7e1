import Foundation
import Gzip
import XCTest
@testable import Datasets

/// An over-long JSONL line is a `file:line` error of its own kind; the reader, and a skipping dataset, go on after it.
final class JSONLLimitsTests: XCTestCase {
    func testAnOverLongLineIsNamedAndSkippable() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("charter-long-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let long = #"{"prompt": "a", "completion": ""# + String(repeating: "b", count: 200) + #""}"#
        try ([#"{"prompt": "a", "completion": "b"}"#, long, #"{"prompt": "c", "completion": "d"}"#].joined(separator: "\n"))
            .write(to: url, atomically: true, encoding: .utf8)
        let limits = InputLimits(maximumLineBytes: 100)

        let reader = try JSONLReader(url: url, limits: limits)
        XCTAssertEqual(try reader.next()?.line, 1)
        XCTAssertThrowsError(try reader.next()) { error in
            let error = error as? DatasetError
            XCTAssertEqual(error?.kind, .lineTooLong)
            XCTAssertEqual(error?.description, "\(url.lastPathComponent):2: line is longer than 100 bytes; if the file is genuine, "
                           + "raise the limit with CHARTER_MAX_LINE_BYTES=<bytes>")
        }
        XCTAssertEqual(try reader.next()?.line, 3)
        XCTAssertNil(try reader.next())
        // With the default bound (16 MiB) the line is an ordinary example.
        let whole = try JSONLReader(url: url)
        var count = 0
        while try whole.next() != nil { count += 1 }
        XCTAssertEqual(count, 3)
    }

    func testASkippingDatasetCountsTheOverLongLine() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("charter-long-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let lines = [#"{"prompt": "a", "completion": "b"}"#, #"{"prompt": "a", "completion": ""# + String(repeating: "b", count: 200) + #""}"#]
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        let dataset = try Dataset.load(url, options: DatasetOptions(skipInvalid: true, limits: InputLimits(maximumLineBytes: 100)))
        XCTAssertEqual(dataset.examples.count, 1)
        XCTAssertEqual(dataset.skipped.count, 1)
        XCTAssertEqual(dataset.skipped.firstReasons.first?.kind, .lineTooLong)
    }
}
