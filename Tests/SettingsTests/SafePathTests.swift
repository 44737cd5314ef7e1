import Foundation
import Settings
import XCTest

/// Names that become paths are plain names, and the paths they name stay inside their root with links followed
/// (issue 24 item 1: a stage named `../victim` moved a folder outside the run folder and deleted `victim.previous/`).
final class SafePathTests: XCTestCase {
    var root: URL!
    var outside: URL!

    override func setUpWithError() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("charter-safepath-\(UUID().uuidString)")
        root = base.appendingPathComponent("root")
        outside = base.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }

    func testOnlyPlainNamesAreComponents() {
        for name in ["sft", "dpo-2", "stage 3", "ünïcode", "a.b", "x..y", String(repeating: "n", count: SafePath.maximumNameLength)] {
            XCTAssertNil(SafePath.problem(with: name), name)
        }
        let refused = ["", ".", "..", "../victim", "..\\victim", "/etc", "/", "a/b", "a\\b", ".hidden", "a\u{0}b", "line\nbreak", "tab\t",
                       String(repeating: "n", count: SafePath.maximumNameLength + 1)]
        for name in refused {
            XCTAssertNotNil(SafePath.problem(with: name), name)
            XCTAssertThrowsError(try SafePath.component(name, key: "stages[0].name")) { error in
                XCTAssertEqual((error as? SettingsError)?.key, "stages[0].name")
                XCTAssertTrue("\(error)".contains("got \""), "\(error) quotes the value")
            }
        }
    }

    func testChildStaysInsideTheRoot() throws {
        XCTAssertEqual(try SafePath.child("sft", of: root, key: "name").path, root.appendingPathComponent("sft").path)
        for name in ["..", "../outside", "/tmp", "a/../../outside"] {
            XCTAssertThrowsError(try SafePath.child(name, of: root, key: "name"), name)
        }
    }

    func testSymbolicLinksAreFollowedBeforeTheCheck() throws {
        // A name that is a link to a folder outside the root, and one that is a dangling link.
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("victim"), withDestinationURL: outside)
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("dangling"),
                                                   withDestinationURL: outside.appendingPathComponent("missing"))
        XCTAssertThrowsError(try SafePath.child("victim", of: root, key: "stages[0].name")) { error in
            XCTAssertTrue("\(error)".contains("outside"), "\(error)")
            XCTAssertTrue("\(error)".contains("\"victim\""), "\(error)")
        }
        XCTAssertThrowsError(try SafePath.child("dangling", of: root, key: "name"))
        XCTAssertThrowsError(try SafePath.descendant("victim/file.jsonl", of: root, key: "dataset"))
        // A link that stays inside is fine, and so is a root that is itself a link (the root is what it resolves to).
        try FileManager.default.createDirectory(at: root.appendingPathComponent("real"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("alias"), withDestinationURL: root.appendingPathComponent("real"))
        XCTAssertNoThrow(try SafePath.child("alias", of: root, key: "name"))
        let linkedRoot = outside.appendingPathComponent("root-link")
        try FileManager.default.createSymbolicLink(at: linkedRoot, withDestinationURL: root)
        XCTAssertNoThrow(try SafePath.child("new-stage", of: linkedRoot, key: "name"))
        XCTAssertThrowsError(try SafePath.child("victim", of: linkedRoot, key: "name"))
    }

    func testDescendantsAreRelativePathsOfPlainNames() throws {
        XCTAssertEqual(try SafePath.descendant("model/config.json", of: root, key: "k").path, root.appendingPathComponent("model/config.json").path)
        for path in ["../x", "a/../../x", "/etc/passwd", "a//b", "a/./b", "a/", ""] {
            XCTAssertThrowsError(try SafePath.descendant(path, of: root, key: "k"), path)
        }
    }

    func testResolvedFollowsLinksThenAppliesTheRestLexically() throws {
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("out"), withDestinationURL: outside)
        let realOutside = try XCTUnwrap(SafePath.resolved(outside))
        XCTAssertEqual(SafePath.resolved(root.appendingPathComponent("out/new/file")), realOutside + "/new/file")
        // `..` after a link goes to the link target's parent, as the kernel resolves it.
        XCTAssertEqual(SafePath.resolved(root.appendingPathComponent("out/..")), (realOutside as NSString).deletingLastPathComponent)
    }
}
