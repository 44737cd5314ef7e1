import Foundation
import XCTest
@testable import Gzip

/// Streams made by Python's gzip/zlib (Fixtures/make_fixtures.py) decode exactly; Charter's writer output
/// round-trips and is byte-stable with the system zlib (the same script checks Python reads it).
final class GzipFixtureTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: Self.fixtures.appendingPathComponent(name))
    }

    /// Decodes with a given chunk size, to exercise the decoder's pause/resume points.
    func decode(_ data: Data, chunkSize: Int = 1 << 18) throws -> Data {
        let decoder = GzipDecoder(data: data, name: "fixture", chunkSize: chunkSize)
        var output = Data()
        while let chunk = try decoder.nextChunk() { output.append(chunk) }
        return output
    }

    func testPythonLevelsDecodeExactly() throws {
        let random = try fixture("random.bin")
        let text = try fixture("text.txt")
        for level in [0, 1, 6, 9] {
            XCTAssertEqual(try Gzip.decompress(fixture("random-L\(level).gz")), random, "random level \(level)")
            XCTAssertEqual(try Gzip.decompress(fixture("text-L\(level).gz")), text, "text level \(level)")
            XCTAssertEqual(try Gzip.decompress(contentsOf: Self.fixtures.appendingPathComponent("text-L\(level).gz")), text)
        }
        XCTAssertEqual(try Gzip.decompress(fixture("text-fixed.gz")), text, "fixed Huffman blocks")
        XCTAssertEqual(try Gzip.decompress(fixture("empty.gz")), Data())
        let runs = try fixture("runs.bin")
        XCTAssertEqual(try Gzip.decompress(fixture("runs-rle.gz")), runs, "overlapping distance-1 matches")
        XCTAssertEqual(try Gzip.decompress(fixture("runs-huffman-only.gz")), runs)
    }

    func testSmallChunksResumeAnywhere() throws {
        let text = try fixture("text.txt")
        for chunkSize in [1, 7, 300, 4096] {
            XCTAssertEqual(try decode(fixture("text-L6.gz"), chunkSize: chunkSize), text, "chunk \(chunkSize)")
            XCTAssertEqual(try decode(fixture("text-L0.gz"), chunkSize: chunkSize), text, "stored, chunk \(chunkSize)")
        }
        XCTAssertEqual(try decode(fixture("runs-rle.gz"), chunkSize: 5), try fixture("runs.bin"))
    }

    func testHeaderFieldsAndMultipleMembers() throws {
        let decoder = GzipDecoder(data: try fixture("flags.gz"))
        var output = Data()
        while let chunk = try decoder.nextChunk() { output.append(chunk) }
        XCTAssertEqual(output, try fixture("text.txt").prefix(5000))
        XCTAssertEqual(decoder.storedFileName, "text.txt")
        XCTAssertEqual(decoder.storedComment, "fixture with FEXTRA, FNAME, FCOMMENT, FHCRC")

        let multi = GzipDecoder(data: try fixture("multi.gz"))
        var joined = Data()
        while let chunk = try multi.nextChunk() { joined.append(chunk) }
        XCTAssertEqual(joined, try fixture("multi.txt"))
        XCTAssertEqual(multi.memberCount, 3)

        let named = GzipDecoder(data: try fixture("named.gz"))
        XCTAssertEqual(try named.nextChunk(), try fixture("text.txt").prefix(1000))
        XCTAssertEqual(named.storedFileName, "named.txt")
    }

    func testRoundTripThroughDeflater() throws {
        var generator = SystemRandomNumberGenerator()
        let text = try fixture("text.txt")
        let random = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let samples: [Data] = [Data(), Data([7]), Data(repeating: 0, count: 70_000), Data(random), text, text + text,
                               Data(random.prefix(65535)), Data(random.prefix(65536))]
        for sample in samples {
            for level in [Deflater.Level.stored, .fast, .default] {
                let packed = Gzip.compress(sample, level: level)
                XCTAssertEqual(try Gzip.decompress(packed), sample, "\(sample.count) bytes at \(level)")
            }
        }
        let packedText = Gzip.compress(text)
        XCTAssertLessThan(packedText.count, text.count / 2, "the default level must actually compress text")
        // The default level is zlib's level 6: within 1% of what Python's gzip.compress(level 6) made of the same text.
        XCTAssertLessThanOrEqual(Double(packedText.count), 1.01 * Double(try fixture("text-L6.gz").count))
        XCTAssertLessThan(Gzip.compress(text, level: .fast).count, Gzip.compress(text, level: .stored).count)
        XCTAssertEqual(GzipDecoder(data: Gzip.compress(text, fileName: "a.txt")).name, "<data>")
    }

    /// The text both this test and make_fixtures.py generate; keep the two in sync.
    static func charterText() -> String {
        (0..<3000).map { index in
            "{\"index\": \(index), \"text\": \"line \(index) \(String(repeating: "abc", count: index % 7)) é中\"}"
        }.joined(separator: "\n") + "\n"
    }

    /// GzipWriter's output is deterministic and byte-identical to the committed files Python verified.
    /// Set CHARTER_REGENERATE_FIXTURES=1 to rewrite them (then rerun `python3 make_fixtures.py --verify`).
    func testCharterWrittenFilesAreByteStableAndReadBack() throws {
        let regenerate = ProcessInfo.processInfo.environment["CHARTER_REGENERATE_FIXTURES"] != nil
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-gz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, level) in [("charter-default.jsonl.gz", Deflater.Level.default), ("charter-fast.jsonl.gz", .fast),
                              ("charter-stored.jsonl.gz", .stored)] {
            let url = (regenerate ? Self.fixtures : directory).appendingPathComponent(name)
            let writer = try GzipWriter(url: url, level: level)
            for line in Self.charterText().split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                try writer.write(String(line) + "\n")
            }
            try writer.finish()
            let reader = try LineReader(url: url)
            XCTAssertTrue(reader.isCompressed)
            var count = 0
            try reader.forEachLine { number, line in
                count += 1
                XCTAssertEqual(number, count)
                if number == 4 { XCTAssertEqual(line, "{\"index\": 3, \"text\": \"line 3 abcabcabc é中\"}") }
            }
            XCTAssertEqual(count, 3000)
            if !regenerate { try assertMatchesFixture(try Data(contentsOf: url), name: name, exactly: level == .stored) }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".tmp") }, [],
                       "no temporary files left behind")
    }

    /// The gzip header (10 bytes) and trailer (CRC-32 and size) must equal the fixture's; the DEFLATE body must too
    /// for stored blocks, and otherwise be within 2% of its size — compressed bytes depend on the zlib build
    /// (zlib-ng, Apple's zlib), the content they decode to does not (checked line by line above).
    private func assertMatchesFixture(_ written: Data, name: String, exactly: Bool) throws {
        let expected = try fixture(name)
        if exactly { return XCTAssertEqual(written, expected, name) }
        XCTAssertEqual(written.prefix(10), expected.prefix(10), "\(name): header")
        XCTAssertEqual(written.suffix(8), expected.suffix(8), "\(name): CRC-32 and size")
        XCTAssertLessThanOrEqual(abs(Double(written.count - expected.count)), 0.02 * Double(expected.count), "\(name): size")
    }

    /// More than one writer block (1 MiB each): one DEFLATE stream continues across them.
    func testWriterSpanningSeveralBlocksRoundTrips() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-gz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = try fixture("text.txt")
        var expected = Data()
        for level in [Deflater.Level.default, .fast, .stored] {
            let url = directory.appendingPathComponent("big-\(level).gz")
            let writer = try GzipWriter(url: url, level: level)
            expected = Data()
            for index in 0..<40 {
                let piece = text.prefix(70_000 + index * 997)
                try writer.write(piece)
                expected.append(piece)
            }
            try writer.finish()
            XCTAssertGreaterThan(expected.count, 2 << 20)
            XCTAssertEqual(try Gzip.decompress(contentsOf: url), expected, "\(level)")
        }
    }

    func testAbandonedWriterLeavesNothing() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-gz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let writer = try GzipWriter(url: directory.appendingPathComponent("out.gz"))
            try writer.write("partial")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [])
        XCTAssertThrowsError(try GzipWriter(url: directory.appendingPathComponent("missing/out.gz"))) { error in
            XCTAssertTrue("\(error)".contains("check the directory exists"), "\(error)")
        }
    }
}
