import Constitutional
import Foundation
import Pipelines
import XCTest

/// Every YAML entry point of the Constitutional layer refuses runaway nesting and aliases before Yams parses (5,000
/// levels crashed it; "billion laughs" took 6.6 GB), and a required text field holding `null` is an error.
final class YAMLInputTests: XCTestCase {
    static let deep = "name: x\nversion: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
    static let laughs = (["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        + (1...9).map { "a\($0): &a\($0) [" + Array(repeating: "*a\($0 - 1)", count: 10).joined(separator: ", ") + "]" })
        .joined(separator: "\n")

    func message(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    func testConstitutionsAndRecipesAreCheckedBeforeParsing() throws {
        XCTAssertTrue(message { try Constitution.parse(yaml: Self.deep, file: "c.yaml") }
            .hasPrefix("c.yaml: line 2: YAML nests deeper than 128 levels"))
        XCTAssertTrue(message { try Constitution.parse(yaml: Self.laughs, file: "c.yaml") }
            .hasPrefix("c.yaml: line 5: YAML aliases expand to more than 100000 nodes"))
        let base = URL(fileURLWithPath: "/tmp")
        XCTAssertTrue(message { try PipelineRecipe.parse(yaml: Self.deep, file: "r.yaml", baseDirectory: base) }
            .hasPrefix("r.yaml: line 2: YAML nests deeper"))
        XCTAssertTrue(message { try PipelineRecipe.parse(yaml: Self.laughs, file: "r.yaml", baseDirectory: base) }
            .hasPrefix("r.yaml: line 5: YAML aliases expand"))
    }

    func testEndpointFilesAreCheckedAndNameNonFiniteNumbers() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("charter-yaml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("endpoints.yaml")
        for (text, expected) in [(Self.deep, ": line 2: YAML nests deeper"), (Self.laughs, ": line 5: YAML aliases expand"),
                                 ("urls: [http://127.0.0.1:1/v1]\nmodel: m\ntimeout: .nan\n", ": timeout: must be a finite number"),
                                 ("urls: [http://127.0.0.1:1/v1]\nmodel: m\nretry: {delays: [1, -.inf]}\n",
                                  ": retry.delays[1]: must be a finite number")] {
            try text.write(to: file, atomically: true, encoding: .utf8)
            let found = message { try ModelFactory.endpointsJSON(file.path) }
            XCTAssertTrue(found.hasPrefix(file.path + expected), found)
        }
    }

    func testNullInARequiredTextFieldIsAnError() throws {
        let valid = Constitution.charterDefaultYAML
        for (field, replacement) in [("name", "name: null"), ("name", "name: ~"), ("version", "version:")] {
            let lines = valid.split(separator: "\n", omittingEmptySubsequences: false).map {
                $0.hasPrefix("\(field):") ? Substring(replacement) : $0
            }
            let found = message { try Constitution.parse(yaml: lines.joined(separator: "\n"), file: "c.yaml") }
            XCTAssertTrue(found.contains("\(field): is null (line "), found)
        }
        let principle = valid.replacingOccurrences(of: "category: non-discrimination", with: "category: null")
        XCTAssertTrue(message { try Constitution.parse(yaml: principle, file: "c.yaml") }.contains(".category: is null"))
        // Quoted, it is the word.
        let quoted = valid.split(separator: "\n").map { $0.hasPrefix("name:") ? "name: \"null\"" : String($0) }.joined(separator: "\n")
        XCTAssertEqual(try Constitution.parse(yaml: quoted, file: "c.yaml").name, "null")
    }
}
