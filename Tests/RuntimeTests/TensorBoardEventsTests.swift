import Foundation
import XCTest
@testable import Runtime

/// TensorBoard event files: the bytes of TensorBoard's own writer (Fixtures/tensorboard_golden.py printed the
/// expected hex), CRC-32C's check value, and a file that holds the version record and then each write.
final class TensorBoardEventsTests: XCTestCase {
    func testCRC32CCheckValue() {
        XCTAssertEqual(TensorBoardEvents.crc32c(Data("123456789".utf8)), 0xE306_9283)  // the CRC catalogue's check value
    }

    func testRecordsAreTensorBoardsBytes() {
        let version = TensorBoardEvents.record(TensorBoardEvents.event(wallTime: 1.5, step: 0, fileVersion: "brain.Event:2"))
        XCTAssertEqual(hex(version), "1800000000000000a37f4b2209000000000000f83f1a0d627261696e2e4576656e743a322a28646c")
        var summary = Data()
        for (tag, value) in [("train/loss", Float(0.25)), ("eval/loss", -1)] {
            var entry = Data()
            TensorBoardEvents.appendBytes(field: 1, Data(tag.utf8), to: &entry)
            entry.append(0x15)
            withUnsafeBytes(of: value.bitPattern.littleEndian) { entry.append(contentsOf: $0) }
            TensorBoardEvents.appendBytes(field: 1, entry, to: &summary)
        }
        let scalars = TensorBoardEvents.record(TensorBoardEvents.event(wallTime: 1.5, step: 3, summary: summary))
        XCTAssertEqual(hex(scalars), "3200000000000000241956ec09000000000000f83f10032a250a110a0a747261696e2f6c6f7373150000803e0a100a096576616c2f6c6f737315000080bfa4cdd01b")
    }

    func testFileHoldsTheVersionRecordThenEachWrite() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tb-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let start = Date(timeIntervalSince1970: 1.5)
        let events = try TensorBoardEvents(directory: folder.appendingPathComponent("runs/x"), now: start)
        try events.write(scalars: [("train/loss", 0.25), ("eval/loss", -1)], step: 3, wallTime: start)
        try events.write(scalars: [], step: 4)  // nothing to write: no record
        XCTAssertTrue(events.url.lastPathComponent.hasPrefix("events.out.tfevents.1."))
        let bytes = try Data(contentsOf: events.url)
        XCTAssertEqual(hex(bytes), "1800000000000000a37f4b2209000000000000f83f1a0d627261696e2e4576656e743a322a28646c"
                       + "3200000000000000241956ec09000000000000f83f10032a250a110a0a747261696e2f6c6f7373150000803e0a100a096576616c2f6c6f737315000080bfa4cdd01b")
    }

    func testScalarsReadBackInFileOrder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tb-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let events = try TensorBoardEvents(directory: folder)
        try events.write(scalars: [("train/loss", 0.5), ("train/grad_norm", 2)], step: 1)
        try events.write(scalars: [("train/loss", 0.25)], step: 300)
        let read = try TensorBoardEvents.scalars(in: events.url)
        XCTAssertEqual(read.map(\.step), [1, 1, 300])
        XCTAssertEqual(read.map(\.tag), ["train/loss", "train/grad_norm", "train/loss"])
        XCTAssertEqual(read.map(\.value), [0.5, 2, 0.25])
        var cut = try Data(contentsOf: events.url)
        cut.removeLast(3)
        try cut.write(to: events.url)
        XCTAssertThrowsError(try TensorBoardEvents.scalars(in: events.url)) { XCTAssertTrue("\($0)".contains("cut short"), "\($0)") }
    }

    func testDefaultFolderIsTransformersRunsDateHost() {
        let name = TensorBoardEvents.defaultDirectoryName(now: Date(timeIntervalSince1970: 0))
        XCTAssertTrue(name.hasPrefix("runs/"), name)
        XCTAssertTrue(name.hasSuffix("_" + ProcessInfo.processInfo.hostName), name)
        XCTAssertNotNil(name.range(of: #"^runs/[A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2}_"#, options: .regularExpression), name)
    }

    private func hex(_ data: Data) -> String { data.map { String(format: "%02x", $0) }.joined() }
}
