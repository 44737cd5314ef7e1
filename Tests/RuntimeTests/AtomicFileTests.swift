import XCTest
@testable import Runtime

final class AtomicFileTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func leftovers() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".tmp") }
    }

    func testWritesAndReplacesWholeFiles() throws {
        let url = directory.appendingPathComponent("results.json")
        try AtomicFile.write(Data("first".utf8), to: url)
        try AtomicFile.write(Data("second, longer".utf8), to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "second, longer")
        XCTAssertEqual(try leftovers(), [])
    }

    func testAFailedWriteLeavesTheOldFileAndNoPartialFile() throws {
        struct Interrupted: Error {}
        let url = directory.appendingPathComponent("model.safetensors")
        try AtomicFile.write(Data("old".utf8), to: url)
        XCTAssertThrowsError(try AtomicFile.write(to: url) { handle in
            try handle.write(contentsOf: Data("half of the new".utf8))
            throw Interrupted()
        }) { XCTAssertTrue($0 is Interrupted, "\($0)") }
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "old")
        XCTAssertEqual(try leftovers(), [])

        let fresh = directory.appendingPathComponent("never.json")
        XCTAssertThrowsError(try AtomicFile.write(to: fresh) { _ in throw Interrupted() })
        XCTAssertFalse(FileManager.default.fileExists(atPath: fresh.path))
        XCTAssertEqual(try leftovers(), [])
    }

    func testAMissingFolderIsAnErrorNamingTheFile() throws {
        let url = directory.appendingPathComponent("missing/out.json")
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: url)) { error in
            XCTAssertEqual((error as? RuntimeError)?.file, url.path)
            XCTAssertTrue("\(error)".contains("check the directory exists"), "\(error)")
        }
    }

    func testStreamingThroughATemporaryFile() throws {
        let url = directory.appendingPathComponent("data.jsonl")
        let temporary = try AtomicFile.createTemporary(for: url)
        XCTAssertEqual(temporary.url.deletingLastPathComponent().path, directory.path)
        XCTAssertTrue(temporary.url.lastPathComponent.hasPrefix(".data.jsonl."))
        try temporary.handle.write(contentsOf: Data("{}\n".utf8))
        try temporary.handle.close()
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        try AtomicFile.moveIntoPlace(temporary.url, to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "{}\n")
        XCTAssertEqual(try leftovers(), [])
    }

    func testAFailedRenameRemovesTheTemporaryFile() throws {
        let url = directory.appendingPathComponent("taken")
        try FileManager.default.createDirectory(at: url.appendingPathComponent("nonempty"), withIntermediateDirectories: true)
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: url)) { error in
            XCTAssertTrue("\(error)".contains("cannot move the finished file into place"), "\(error)")
        }
        XCTAssertEqual(try leftovers(), [])
    }
}
