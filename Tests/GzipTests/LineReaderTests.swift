import Foundation
import XCTest
import Gzip

/// Line splitting over plain and gzip files, and the real HH-RLHF file.
/// (Release throughput against Python: `sh Tests/GzipTests/Fixtures/benchmark.sh`.)
final class LineReaderTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-lines-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func lines(_ url: URL) throws -> [String] {
        let reader = try LineReader(url: url)
        var result: [String] = []
        try reader.forEachLine { number, line in
            XCTAssertEqual(number, result.count + 1)
            result.append(line)
        }
        XCTAssertNil(try reader.next(), "stays at end")
        return result
    }

    func testGzipAndPlainFilesYieldTheSameLines() throws {
        let expected = ["{\"a\": 1}", "{\"a\": 2}", "", "{\"a\": \"é\"}"]
        let gz = GzipFixtureTests.fixtures.appendingPathComponent("lines.jsonl.gz")
        XCTAssertEqual(try lines(gz), expected, "CRLF stripped, blank line kept, last line without newline")
        let plain = directory.appendingPathComponent("lines.jsonl")
        try Data("\u{FEFF}{\"a\": 1}\r\n{\"a\": 2}\n\n{\"a\": \"é\"}".utf8).write(to: plain)
        XCTAssertEqual(try lines(plain), expected, "BOM stripped")
        XCTAssertFalse(try LineReader(url: plain).isCompressed)
        // Detection is by content: a gzip file without .gz, and an empty file.
        let disguised = directory.appendingPathComponent("disguised.jsonl")
        try Data(contentsOf: gz).write(to: disguised)
        XCTAssertEqual(try lines(disguised), expected)
        let empty = directory.appendingPathComponent("empty.jsonl")
        try Data().write(to: empty)
        XCTAssertEqual(try lines(empty), [])
        let onlyNewline = directory.appendingPathComponent("newline.jsonl")
        try Data("\n".utf8).write(to: onlyNewline)
        XCTAssertEqual(try lines(onlyNewline), [""])
    }

    func testRunsOfEmptyLinesAreSkippedInBulkAndCounted() throws {
        // Millions of newlines (a gzip bomb's shape) across many decoder chunks, and the same as plain text.
        let body = Data("a\n".utf8) + Data(repeating: UInt8(ascii: "\n"), count: 3_000_000) + Data("b\n\n".utf8)
        let gz = directory.appendingPathComponent("newlines.jsonl.gz")
        let writer = try GzipWriter(url: gz)
        try writer.write(body)
        try writer.finish()
        let plain = directory.appendingPathComponent("newlines.jsonl")
        try body.write(to: plain)
        for url in [gz, plain] {
            let reader = try LineReader(url: url)
            XCTAssertEqual(try reader.skipEmptyLines(), 0)
            XCTAssertEqual(try reader.next()?.line, "a")
            XCTAssertEqual(try reader.skipEmptyLines(), 3_000_000)
            let b = try reader.next()
            XCTAssertEqual(b?.line, "b")
            XCTAssertEqual(b?.lineNumber, 3_000_002)
            XCTAssertEqual(try reader.skipEmptyLines(), 1)
            XCTAssertEqual(reader.lineNumber, 3_000_003)
            XCTAssertNil(try reader.next())
        }
    }

    func testLinesSpanningChunksAndInvalidUTF8() throws {
        let long = String(repeating: "x", count: 700_000)
        let url = directory.appendingPathComponent("long.jsonl.gz")
        try Gzip.compress(Data("a\n\(long)\nb\n".utf8)).write(to: url)
        XCTAssertEqual(try lines(url), ["a", long, "b"], "a line longer than a decoder chunk")

        let bad = directory.appendingPathComponent("bad.jsonl")
        try Data([0x6F, 0x6B, 0x0A, 0xFF, 0xFE, 0x0A]).write(to: bad)
        let reader = try LineReader(url: bad)
        XCTAssertEqual(try reader.next()?.line, "ok")
        XCTAssertThrowsError(try reader.next()) { error in
            XCTAssertEqual("\(error)", "\(bad.path):2: line is not valid UTF-8")
        }
        XCTAssertThrowsError(try LineReader(url: directory.appendingPathComponent("absent.jsonl"))) { error in
            XCTAssertTrue("\(error)".contains("absent.jsonl: cannot read"), "\(error)")
        }
    }

    static let hhFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/data/hh-rlhf/harmless-base-test.jsonl.gz").standardizedFileURL

    func testRealHHFileHas2312Lines() throws {
        guard FileManager.default.fileExists(atPath: Self.hhFile.path) else {
            throw XCTSkip("HH-RLHF file not found at \(Self.hhFile.path); it lives in the shared data folder next to the package")
        }
        var count = 0
        var bytes = 0
        try LineReader(url: Self.hhFile).forEachLine { _, line in
            count += 1
            bytes += line.utf8.count + 1
            XCTAssertTrue(line.hasPrefix("{\"chosen\": "), "line \(count)")
        }
        XCTAssertEqual(count, 2312)
        XCTAssertEqual(bytes, 3_280_164)
        XCTAssertEqual(try Gzip.decompress(contentsOf: Self.hhFile).count, 3_280_164)
    }
}
