import Foundation
import Runtime
import XCTest

final class MappedFileTests: XCTestCase {
    /// Released pages leave the resident set and read back unchanged; ranges that are empty, partial pages or out of
    /// bounds change nothing.
    func testReleasedPagesLeaveTheResidentSetAndReadBackTheSame() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("charter-mapped-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        let size = 64 << 20
        var bytes = [UInt8](repeating: 0, count: size)
        for i in stride(from: 0, to: size, by: 97) { bytes[i] = UInt8(truncatingIfNeeded: i / 97) }
        try Data(bytes).write(to: url)
        let file = try MappedFile(url: url)
        // memcmp reads every page of the mapping.
        func same() -> Bool { bytes.withUnsafeBytes { memcmp(file.base, $0.baseAddress!, size) == 0 } }
        XCTAssertTrue(same())
        #if os(Linux)
        let touched = try Self.residentBytes()
        file.releasePages(0..<size)
        let released = try Self.residentBytes()
        XCTAssertGreaterThan(touched - released, 48 << 20, "the 64 MB mapping left the resident set")
        #else
        file.releasePages(0..<size)
        #endif
        XCTAssertTrue(same(), "released pages read back from the file")
        for range in [0..<0, 1..<100, (size - 10)..<(size + 4096), -4096..<4096] { file.releasePages(range) }
        XCTAssertTrue(same())
        let copy = MappedFile(data: Data([1, 2, 3]))
        copy.releasePages(0..<3)
        XCTAssertEqual(Array(copy.bytes), [1, 2, 3], "an owned copy is left as it is")
    }

    #if os(Linux)
    /// This process's resident set (/proc/self/statm's second field, in pages).
    static func residentBytes() throws -> Int {
        let fields = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8).split(separator: " ")
        return (Int(fields[1]) ?? 0) * Int(getpagesize())
    }
    #endif
}
