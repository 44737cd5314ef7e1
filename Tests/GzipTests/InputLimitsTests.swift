import Foundation
import XCTest
import Gzip

/// Hostile inputs stay bounded: an over-long line is an error naming its line (and never held whole), a gzip bomb
/// an error naming the file; the bounds come from the environment.
final class InputLimitsTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-limits-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func write(_ data: Data, _ name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    /// Reads every line, recording an error as `error N` (N its line) and going on.
    func outcomes(_ reader: LineReader) -> [String] {
        var result: [String] = []
        while true {
            do {
                guard let (number, line) = try reader.next() else { return result }
                result.append("\(number): \(line.count)")
            } catch let error as GzipError {
                guard case let .lineTooLong(line, _) = error.reason else { return result + ["\(error)"] }
                result.append("error \(line)")
            } catch {
                return result + ["\(error)"]
            }
        }
    }

    func testALineOverTheLimitIsAnErrorNamingItsLineAndTheNextLineStillReads() throws {
        let text = "short\n" + String(repeating: "x", count: 11) + "\n" + String(repeating: "y", count: 10) + "\nlast"
        let limits = InputLimits(maximumLineBytes: 10)
        let plain = try write(Data(text.utf8), "plain.jsonl")
        XCTAssertEqual(outcomes(try LineReader(url: plain, limits: limits)), ["1: 5", "error 2", "3: 10", "4: 4"])
        let packed = try write(Gzip.compress(Data(text.utf8)), "packed.jsonl.gz")
        XCTAssertEqual(outcomes(try LineReader(url: packed, limits: limits)), ["1: 5", "error 2", "3: 10", "4: 4"])
        // Without the bound every line is returned.
        XCTAssertEqual(outcomes(try LineReader(url: plain, limits: InputLimits())), ["1: 5", "2: 11", "3: 10", "4: 4"])

        let reader = try LineReader(url: plain, limits: limits)
        _ = try reader.next()
        XCTAssertThrowsError(try reader.next()) { error in
            XCTAssertEqual("\(error)", "\(plain.path):2: line is longer than 10 bytes; if the file is genuine, "
                           + "raise the limit with CHARTER_MAX_LINE_BYTES=<bytes>")
        }
    }

    func testAnOverLongLineSpanningManyChunksIsSkippedWithoutBeingHeld() throws {
        // A 40 MiB line (160 decoder chunks) in 40 KB of gzip, between two short lines, and a final one without a
        // newline that is too long as well.
        var text = Data("first\n".utf8)
        text.append(Data(repeating: UInt8(ascii: "a"), count: 40 << 20))
        text.append(Data("\nmiddle\n".utf8))
        text.append(Data(repeating: UInt8(ascii: "b"), count: 20 << 20))
        let packed = try write(Gzip.compress(text, level: .fast), "bomb-line.jsonl.gz")
        XCTAssertLessThan(try Data(contentsOf: packed).count, 1 << 20)
        let reader = try LineReader(url: packed)  // the defaults: 16 MiB lines
        XCTAssertEqual(outcomes(reader), ["1: 5", "error 2", "3: 6", "error 4"])
    }

    func testAGzipBombIsRefusedNamingTheFileAndTheKnob() throws {
        let payload = Data(String(repeating: String(repeating: "a", count: 1023) + "\n", count: 24 << 10).utf8)  // 24 MiB
        let bomb = try write(Gzip.compress(payload), "bomb.jsonl.gz")
        let compressed = try Data(contentsOf: bomb).count
        XCTAssertLessThan(compressed * 100, payload.count, "expands more than 100×")
        let limits = InputLimits(ratioAllowanceBytes: 1 << 20)
        XCTAssertThrowsError(try Gzip.decompress(contentsOf: bomb, limits: limits)) { error in
            guard let error = error as? GzipError, case let .expansionTooLarge(limit, size) = error.reason else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(size, compressed)
            XCTAssertEqual(limit, max(1 << 20, 100 * compressed))
            XCTAssertTrue(error.description.hasPrefix(bomb.path + ": decompresses to more than"), error.description)
            XCTAssertTrue(error.description.contains("CHARTER_MAX_GZIP_RATIO"), error.description)
        }
        // The line reader stops at the same bound, after at most one chunk past it.
        let reader = try LineReader(url: bomb, limits: limits)
        var lines = 0
        XCTAssertThrowsError(try reader.forEachLine { _, _ in lines += 1 })
        XCTAssertLessThanOrEqual(lines * 1024, max(1 << 20, 100 * compressed) + (1 << 18))
        // Within a larger allowance (the default 64 MiB), the same file is read whole.
        XCTAssertEqual(try Gzip.decompress(contentsOf: bomb, limits: InputLimits()).count, payload.count)
        // An absolute bound applies whatever the ratio.
        XCTAssertThrowsError(try Gzip.decompress(Data(contentsOf: bomb), limits: InputLimits(maximumDecompressedBytes: 1000)))
    }

    func testTheEnvironmentSetsTheBoundsAndABadValueIsNamed() throws {
        let limits = try InputLimits.fromEnvironment(["CHARTER_MAX_LINE_BYTES": "64", "CHARTER_MAX_GZIP_RATIO": "1100",
                                                       "CHARTER_MAX_GZIP_BYTES": "5000000"])
        XCTAssertEqual(limits, InputLimits(maximumLineBytes: 64, maximumCompressionRatio: 1100, maximumDecompressedBytes: 5_000_000))
        XCTAssertEqual(try InputLimits.fromEnvironment([:]), InputLimits())
        XCTAssertThrowsError(try InputLimits.fromEnvironment(["CHARTER_MAX_LINE_BYTES": "16M"])) { error in
            XCTAssertEqual("\(error)", "CHARTER_MAX_LINE_BYTES: must be a positive whole number, got \"16M\"")
        }
        XCTAssertEqual(InputLimits().decompressedByteLimit(compressedSize: 1 << 30), 100 << 30)
        XCTAssertEqual(InputLimits().decompressedByteLimit(compressedSize: 1000), 64 << 20)
        XCTAssertEqual(InputLimits.describe(bytes: 16 << 20), "16 MiB")
        XCTAssertEqual(InputLimits.describe(bytes: 3 << 29), "1.5 GiB")
        XCTAssertEqual(InputLimits.describe(limit: 16 << 20), "16 MiB (16777216 bytes)")
    }
}
