import Foundation
import Runtime
import XCTest
@testable import Gzip

/// Corrupt and truncated input produces a ``GzipError`` naming the input and offset — never a crash and never
/// silently wrong output.
final class GzipCorruptionTests: XCTestCase {
    func fixture(_ name: String) throws -> Data {
        try Data(contentsOf: GzipFixtureTests.fixtures.appendingPathComponent(name))
    }

    func expectError(_ data: Data, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Gzip.decompress(data, name: "input.gz"), file: file, line: line) { error in
            XCTAssertEqual("\(error)", message, file: file, line: line)
        }
    }

    func testEveryTruncationIsAnError() throws {
        for name in ["flags.gz", "multi.gz", "text-L0.gz"] {
            let whole = try fixture(name)
            var generator = SplitMix64(seed: 3)
            let lengths = whole.count < 2000 ? Array(0..<whole.count)
                : (0..<300).map { _ in Int.random(in: 0..<whole.count, using: &generator) }
            for length in lengths {
                // Cutting exactly between members is a valid shorter stream.
                if name == "multi.gz", let decoded = try? Gzip.decompress(whole.prefix(length)) {
                    XCTAssertTrue(Data("first member\nsecond member\n".utf8).starts(with: decoded))
                    continue
                }
                XCTAssertThrowsError(try Gzip.decompress(whole.prefix(length)), "\(name) cut at \(length)") { error in
                    XCTAssertTrue(error is GzipError)
                }
            }
        }
        let text = try fixture("text-L6.gz")
        for length in stride(from: 20, to: text.count, by: 997) {
            XCTAssertThrowsError(try Gzip.decompress(text.prefix(length))) { error in
                guard let error = error as? GzipError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.reason, .truncated, "cut at \(length)")
                XCTAssertLessThanOrEqual(error.offset, length)
            }
        }
    }

    func testRandomCorruptionIsDetectedOrHarmless() throws {
        let original = try fixture("text.txt")
        for name in ["text-L6.gz", "text-L1.gz", "flags.gz", "text-fixed.gz"] {
            let whole = try fixture(name)
            let expected = name == "flags.gz" ? original.prefix(5000) : original
            var generator = SplitMix64(seed: 11)
            var detected = 0
            for _ in 0..<100 {
                var corrupt = whole
                let index = Int.random(in: 0..<corrupt.count, using: &generator)
                corrupt[index] ^= UInt8.random(in: 1...255, using: &generator)
                do {
                    // Undetected changes (MTIME/OS bytes, unused padding bits) must leave the output intact.
                    let decoded = try Gzip.decompress(corrupt)
                    XCTAssertEqual(decoded, expected, "\(name): byte \(index) changed silently")
                } catch is GzipError {
                    detected += 1
                }
            }
            XCTAssertGreaterThan(detected, 80, name)
        }
    }

    /// Arbitrary bytes after a valid member header: the inflater must reject or decode them, never crash,
    /// loop forever or read out of bounds.
    func testRandomDeflateStreamsNeverCrash() {
        var generator = SplitMix64(seed: 5)
        let header: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]
        var rejected = 0
        for trial in 0..<2000 {
            let length = Int.random(in: 0...200, using: &generator)
            var body = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Steer a third of the trials into dynamic and fixed blocks, where the table code lives.
            if !body.isEmpty && trial % 3 == 0 { body[0] = body[0] & 0xF8 | 0b101 }
            if !body.isEmpty && trial % 3 == 1 { body[0] = body[0] & 0xF8 | 0b011 }
            do {
                _ = try Gzip.decompress(Data(header + body))
            } catch is GzipError {
                rejected += 1
            } catch {
                XCTFail("unexpected error type: \(error)")
            }
        }
        XCTAssertGreaterThan(rejected, 1990, "random data essentially never passes the CRC check")
    }

    func testSpecificErrorsHaveActionableMessages() throws {
        expectError(Data(), "input.gz: byte 0: not a gzip stream (expected magic bytes 1f 8b)")
        expectError(Data("hello".utf8), "input.gz: byte 0: not a gzip stream (expected magic bytes 1f 8b)")
        expectError(Data([0x1F, 0x8B, 7, 0, 0, 0, 0, 0, 0, 0]), "input.gz: byte 2: unsupported compression method 7 (only 8, DEFLATE, exists)")
        expectError(Data([0x1F, 0x8B, 8, 0x20, 0, 0, 0, 0, 0, 0]), "input.gz: byte 3: reserved header flag bits set (FLG=0x20)")
        let header: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]
        expectError(Data(header + [0x07]), "input.gz: byte 10: invalid DEFLATE block type 3; the data is corrupt")
        expectError(Data(header + [0x01, 0x05, 0x00, 0x00, 0x00]),
                    "input.gz: byte 11: stored block length does not match its complement; the data is corrupt")
        // Fixed block whose first symbol is a match of length 3 at distance 1 with no output yet.
        expectError(Data(header + [0x03, 0x02, 0x00]),
                    "input.gz: byte 11: back-reference reaches before the 0 bytes of output so far; the data is corrupt")
        let valid = Gzip.compress(Data("hello, world".utf8))
        var badCRC = valid
        badCRC[badCRC.count - 8] ^= 0xFF
        XCTAssertThrowsError(try Gzip.decompress(badCRC, name: "input.gz")) { error in
            guard case .checksumMismatch? = (error as? GzipError)?.reason else { return XCTFail("\(error)") }
            XCTAssertEqual((error as? GzipError)?.offset, valid.count - 8)
        }
        var badSize = valid
        badSize[badSize.count - 1] ^= 0x01
        expectError(badSize, "input.gz: byte \(valid.count - 4): size mismatch (trailer says 16777228 bytes, decoded 12); the data is corrupt")
        expectError(valid + Data([0x78]), "input.gz: byte \(valid.count): trailing bytes after the last gzip member are not another member")
        expectError(valid + Data([0, 0, 0x1F]), "input.gz: byte \(valid.count + 2): trailing bytes after the last gzip member are not another member")
        XCTAssertEqual(try Gzip.decompress(valid + Data(count: 10)), Data("hello, world".utf8), "zero padding is tolerated, as by Python")
        var badHeaderCRC = try fixture("flags.gz")
        badHeaderCRC[5] ^= 0x01  // MTIME, covered by FHCRC
        XCTAssertThrowsError(try Gzip.decompress(badHeaderCRC)) { error in
            XCTAssertEqual((error as? GzipError)?.reason, .headerChecksumMismatch)
        }
        // Dynamic block declaring 30 distance codes is fine; 31+ is rejected.
        // (zlib's wording for it: "too many length or distance symbols".)
        expectError(Data(header + [0x05, 0x1E, 0x00]), "input.gz: byte 12: invalid Huffman code: too many length or distance symbols; the data is corrupt")
    }

    func testLineReaderReportsCorruptionWithPath() throws {
        var corrupt = try fixture("text-L6.gz")
        corrupt[5000] ^= 0x55
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("corrupt-\(UUID().uuidString).jsonl.gz")
        defer { try? FileManager.default.removeItem(at: url) }
        try corrupt.write(to: url)
        let reader = try LineReader(url: url)
        // Streaming hands out lines before the member's CRC is checked, so the first symptom may be a garbled
        // (non-UTF-8) line; either way the read fails with an error naming the file.
        XCTAssertThrowsError(try reader.forEachLine { _, _ in }) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(url.path):"), "\(error)")
        }
    }
}
