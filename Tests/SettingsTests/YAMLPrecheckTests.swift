import Foundation
import Settings
import XCTest

/// The YAML pre-check refuses runaway nesting and alias expansion by file and line, and passes real files.
final class YAMLPrecheckTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func error(_ text: String, limits: YAMLLimits = YAMLLimits()) -> YAMLLimitError? {
        do {
            try YAMLPrecheck.check(text, file: "x.yaml", limits: limits)
            return nil
        } catch {
            return error as? YAMLLimitError
        }
    }

    func testDeepNestingIsRefusedInEveryForm() throws {
        let flow = "a: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n"
        XCTAssertEqual(error(flow)?.line, 1)
        XCTAssertTrue(error(flow)?.description.hasPrefix("x.yaml:1: YAML nests deeper than 128 levels") ?? false)
        let mappings = (0..<1000).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1\n"
        XCTAssertEqual(error(mappings)?.line, 129, "the first line past the bound")
        let entries = String(repeating: "- ", count: 5000) + "x\n"
        XCTAssertEqual(error(entries)?.line, 1)
        let flowObjects = "---\n" + String(repeating: "{a: ", count: 3000) + "1" + String(repeating: "}", count: 3000) + "\n"
        XCTAssertEqual(error(flowObjects)?.line, 2)
        // The bound itself is allowed; one more level is not.
        let limits = YAMLLimits(maximumDepth: 10)
        XCTAssertNil(error(String(repeating: "[", count: 9) + String(repeating: "]", count: 9), limits: limits))
        XCTAssertNotNil(error(String(repeating: "[", count: 11) + String(repeating: "]", count: 11), limits: limits))
    }

    func testBillionLaughsIsRefusedAtTheAliasThatCrossesTheBound() throws {
        var lines = [#"a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]"#]
        for (level, name) in "bcdefghi".enumerated() {
            let previous = level == 0 ? "a" : String(Array("bcdefghi")[level - 1])
            lines.append("\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]")
        }
        let found = try XCTUnwrap(error(lines.joined(separator: "\n")))
        XCTAssertEqual(found.line, 6, "the first *e (66,430 nodes) brings the total past 100,000")
        XCTAssertTrue(found.message.contains("aliases expand to more than 100000 nodes"), found.message)
        // Block-style anchors count the same way.
        var block = ["base: &l0", "  - lol", "  - lol"]
        for level in 1...20 {
            block += ["l\(level): &l\(level)", "  - *l\(level - 1)", "  - *l\(level - 1)"]
        }
        // l_k holds 6·2^k − 2 nodes; the aliases up to l13 add 98,240, the first *l13 (line 44, in l14) 49,150 more.
        XCTAssertEqual(try XCTUnwrap(error(block.joined(separator: "\n"))).line, 44)
    }

    func testOrdinaryAnchorsQuotedTextAndBlockScalarsPass() throws {
        let text = """
        # comments may hold [[[ and *aliases
        defaults: &defaults
          learning_rate: 1e-5   # a comment [
          tags: [a, "b]", 'c''s']
        sft:
          <<: *defaults
          text: "a * and & and [ in quotes"
          note: |
            [[[[ *a &b
            {{{{
          plain: a*b&c[d]
        dpo: {<<: *defaults, beta: 0.1}
        list:
        - &item {x: 1}
        - *item
        """
        XCTAssertNil(error(text))
        for url in [Self.repository.appendingPathComponent("Recipes/quickstart.yaml"),
                    Self.repository.appendingPathComponent("Tests/ConstitutionalTests/Fixtures/e2e/recipe.yaml"),
                    Self.repository.appendingPathComponent("Tests/ConstitutionalTests/Fixtures/e2e/rl-recipe.yaml")] {
            XCTAssertNoThrow(try YAMLPrecheck.check(String(contentsOf: url, encoding: .utf8), file: url.path))
        }
    }

    func testAliasExpansionIsMeasuredExactlyForSmallAnchors() throws {
        // *a stands for 4 nodes ([, 1, 2, 3]): 25 aliases are 100 nodes, 26 are 104.
        let limits = YAMLLimits(maximumAliasExpansion: 100)
        let base = "a: &a [1, 2, 3]\nb: ["
        XCTAssertNil(error(base + Array(repeating: "*a", count: 25).joined(separator: ", ") + "]", limits: limits))
        XCTAssertNotNil(error(base + Array(repeating: "*a", count: 26).joined(separator: ", ") + "]", limits: limits))
    }
}
