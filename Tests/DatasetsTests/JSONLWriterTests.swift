import Foundation
import JSON
import XCTest
@testable import Datasets

/// Writing examples back: lossless round trips, atomic output, gzip, and a committed file Python verifies.
final class JSONLWriterTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-jsonl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testEveryFixtureRoundTrips() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: DatasetFormatTests.fixtures.path)
            .filter { ($0.hasSuffix(".jsonl") || $0.hasSuffix(".jsonl.gz")) && $0 != "malformed.jsonl" && !$0.hasPrefix("charter") }
        XCTAssertEqual(names.count, 12)
        for name in names {
            let original = try Dataset.load(DatasetFormatTests.fixtures.appendingPathComponent(name))
            for compressed in [false, true] {
                let url = directory.appendingPathComponent(name + (compressed ? ".out.gz" : ".out"))
                let writer = try JSONLWriter(url: url)
                XCTAssertEqual(writer.isCompressed, compressed)
                for example in original.examples { try writer.write(example, keepImplicitPrompt: true) }
                try writer.finish()
                let reread = try Dataset.load(url)
                XCTAssertEqual(reread.examples, original.examples, "\(name) compressed=\(compressed)")
                XCTAssertEqual(reread.type, original.type)
                XCTAssertEqual(reread.format, original.format)
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".tmp") }, [])
    }

    func testExplicitPromptOutputAndJSONText() throws {
        let implicit = try Dataset.load(DatasetFormatTests.fixtures.appendingPathComponent("implicit-preference-standard.jsonl"))
        XCTAssertEqual(implicit.examples[0].jsonValue().serialized(.jsonLines),
                       "{\"prompt\": \"The sky is\", \"chosen\": \" blue.\", \"rejected\": \" green.\"}")
        XCTAssertEqual(implicit.examples[0].jsonValue(keepImplicitPrompt: true).serialized(.jsonLines),
                       "{\"chosen\": \"The sky is blue.\", \"rejected\": \"The sky is green.\"}")
        let example = Example(.unpairedPreference(prompt: .standard("q\n\"x\"\t\u{1}"), completion: .standard("é"), label: false),
                              extras: [JSONValue.Member("id", .number("12345678901234567890"))])
        XCTAssertEqual(example.jsonValue().serialized(.jsonLines),
                       "{\"prompt\": \"q\\n\\\"x\\\"\\t\\u0001\", \"completion\": \"é\", \"label\": false, \"id\": 12345678901234567890}",
                       "escapes, UTF-8 kept, big integers exact")
        XCTAssertEqual(try JSONParser.parse(example.jsonValue().serialized(.jsonLines)), example.jsonValue())
    }

    func testAbandonedWriterLeavesNothingAndMissingDirectoryErrors() throws {
        do {
            let writer = try JSONLWriter(url: directory.appendingPathComponent("out.jsonl"))
            try writer.write(.object([JSONValue.Member("text", .string("partial"))]))
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [])
        XCTAssertThrowsError(try JSONLWriter(url: directory.appendingPathComponent("missing/out.jsonl"))) { error in
            XCTAssertEqual((error as? DatasetError)?.kind, .io)
        }
    }

    /// The same five examples make_fixtures.py --verify checks with Python's gzip/json and TRL.
    /// Set CHARTER_REGENERATE_FIXTURES=1 to rewrite the committed file.
    func testCharterWrittenFileIsByteStable() throws {
        let regenerate = ProcessInfo.processInfo.environment["CHARTER_REGENERATE_FIXTURES"] != nil
        let name = "charter-written.jsonl.gz"
        let url = (regenerate ? DatasetFormatTests.fixtures : directory).appendingPathComponent(name)
        let writer = try JSONLWriter(url: url)
        for source in ["preference-conversational.jsonl", "preference-standard.jsonl"] {
            for example in try Dataset.load(DatasetFormatTests.fixtures.appendingPathComponent(source)).examples {
                try writer.write(example)
            }
        }
        try writer.finish()
        XCTAssertEqual(writer.lineCount, 5)
        if !regenerate {
            // Header, CRC-32 and size exactly (the compressed body depends on the zlib build; its content does not).
            let (written, expected) = (try Data(contentsOf: url), try Data(contentsOf: DatasetFormatTests.fixtures.appendingPathComponent(name)))
            XCTAssertEqual(written.prefix(10), expected.prefix(10))
            XCTAssertEqual(written.suffix(8), expected.suffix(8))
            let reader = try JSONLReader(url: url)
            var lines = 0
            while try reader.next() != nil { lines += 1 }
            XCTAssertEqual(lines, 5, "the written file decodes to its five lines")
        }
    }
}
