import Datasets
import Foundation
import JSON
import XCTest

@testable import Audit

final class DataCleanerTests: XCTestCase {
    /// Audits `lines`, cleans them by `policy`, and returns the summary, the output's lines and the changes log.
    private func clean(_ lines: [String], policy: String, name: String = "pairs.jsonl", output: String = "clean.jsonl", fixture: AuditFixture)
        throws -> (summary: DataCleaner.Summary, lines: [String], changes: [JSONValue])
    {
        let input = try fixture.file(name, lines)
        try DataAudit(configuration: AuditConfiguration()).run(input).write(to: fixture.url("audit"))
        let parsed = try CleaningPolicy.parse(policy, file: "policy.yaml")
        let summary = try DataCleaner(policy: parsed).clean(input, audit: fixture.url("audit"), output: fixture.url(output))
        let written = try String(contentsOf: fixture.url(output), encoding: .utf8).split(separator: "\n").map(String.init)
        let changes = try String(contentsOf: DataCleaner.changesURL(for: fixture.url(output)), encoding: .utf8)
            .split(separator: "\n").map { try JSONParser.parse(String($0)) }
        return (summary, written, changes)
    }

    func testAccountingAndActions() throws {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        let (summary, lines, changes) = try clean([
            #"{"prompt": "Pick one", "chosen": "A", "rejected": "B"}"#,
            #"{"prompt": "Pick one", "chosen": "B", "rejected": "A"}"#,
            #"{"prompt": "Pick one", "chosen": "A", "rejected": "B", "source": "copy"}"#,
            #"{"prompt": "Hi", "chosen": "same", "rejected": "Same"}"#,
            #"{"prompt": "Ok", "chosen": "fine", "rejected": "bad", "chosen_probability": 0.52}"#,
            #"{"prompt": "Broken", "chosen": 1, "rejected": "x"}"#,
            #"{"prompt": "Plain", "chosen": "good", "rejected": "bad"}"#,
        ], policy: """
            actions:
              exact_duplicate: drop
              contradiction: flip
              identical_responses: tie
              low_confidence: soften
            soften_to: 0.7
            """, fixture: fixture)
        XCTAssertEqual(summary.rowsIn, 7)
        XCTAssertEqual(summary.rowsOut, 5)
        XCTAssertEqual(summary.dropped, 2)
        XCTAssertEqual(summary.unreadable, 1)
        XCTAssertEqual(summary.rowsIn, summary.rowsOut + summary.dropped)
        XCTAssertEqual([summary.flipped, summary.tied, summary.softened], [1, 1, 1])
        XCTAssertEqual(lines, [
            #"{"prompt": "Pick one", "chosen": "A", "rejected": "B"}"#,
            #"{"prompt": "Pick one", "chosen": "A", "rejected": "B"}"#,
            #"{"prompt": "Hi", "chosen": "same", "rejected": "Same", "chosen_probability": 0.5}"#,
            #"{"prompt": "Ok", "chosen": "fine", "rejected": "bad", "chosen_probability": 0.52}"#,
            #"{"prompt": "Plain", "chosen": "good", "rejected": "bad"}"#,
        ])
        XCTAssertEqual(changes.map { $0["line"] }, [2, 3, 4, 5, 6])
        XCTAssertEqual(changes.map { $0["action"] }, ["flip", "drop", "tie", "soften", "drop"])
        XCTAssertEqual(changes[1]["because"], ["exact_duplicate"])
        XCTAssertEqual(changes[4]["because"], ["unreadable"])
        XCTAssertTrue(changes[4]["error"]?.stringValue?.hasPrefix("pairs.jsonl:6: field \"chosen\"") == true)
    }

    /// Kept pairs come back as the input spelled them (pandas' compact separators and `\/`, Python's `\u` escapes, the
    /// file's key order, `1.0`), changed ones in Charter's layout.
    func testKeptLinesKeepTheirBytes() throws {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        let kept = [
            #"{"chosen":"Caf\u00e9 au lait","rejected":"Tea","prompt":"Drink?","score":1.0}"#,
            #"{"prompt": "Path", "chosen": "a\/b", "rejected": "c\/d", "chosen_probability": 0.70}"#,
            #"{"prompt":"Ok","chosen":"fine","rejected":"bad","chosen_probability":1e0}"#,
        ]
        let (summary, lines, changes) = try clean(kept + [
            #"{"prompt": "Hi", "chosen": "same", "rejected": "Same"}"#,
            #"{"prompt":"Drink?","chosen":"Caf\u00e9 au lait","rejected":"Tea"}"#,
        ], policy: """
            actions:
              exact_duplicate: drop
              identical_responses: tie
            """, fixture: fixture)
        XCTAssertEqual(summary.rowsOut, 4)
        XCTAssertEqual(Array(lines.prefix(3)), kept)
        XCTAssertEqual(lines[3], #"{"prompt": "Hi", "chosen": "same", "rejected": "Same", "chosen_probability": 0.5}"#)
        XCTAssertEqual(changes.map { $0["action"] }, ["tie", "drop"])
    }

    func testSoftenUsesTheVoteShareOfContradictions() throws {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        let (_, lines, _) = try clean([
            #"{"prompt": "Pick", "chosen": "A", "rejected": "B", "annotator": "x"}"#,
            #"{"prompt": "Pick", "chosen": "B", "rejected": "A", "annotator": "x"}"#,
            #"{"prompt": "Pick", "chosen": "A", "rejected": "B", "annotator": "x"}"#,
            #"{"prompt": "Pick", "chosen": "A", "rejected": "B", "annotator": "y"}"#,
        ], policy: "actions: {contradiction: soften, exact_duplicate: keep}", fixture: fixture)
        XCTAssertEqual(lines.map { try? JSONParser.parse($0)["chosen_probability"]?.doubleValue }, [2.0 / 3, 1.0 / 3, 2.0 / 3, nil])
    }

    func testRoundTripsStandardConversationalAndHHFormats() throws {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        let formats: [(name: String, lines: [String])] = [
            ("standard.jsonl", [
                #"{"prompt": "The sky is", "chosen": " blue.", "rejected": " green.", "id": 7}"#,
                #"{"prompt": "The sky is", "chosen": " blue.", "rejected": " green.", "id": 8}"#,
            ]),
            ("conversational.jsonl", [
                #"{"prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "Hello!"}], "rejected": [{"role": "assistant", "content": "Go away."}]}"#,
                #"{"prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "Hello!"}], "rejected": [{"role": "assistant", "content": "Go away."}]}"#,
            ]),
            ("hh.jsonl", [
                #"{"chosen": "\n\nHuman: How do I bake bread?\n\nAssistant: Mix flour, water, yeast and salt.", "rejected": "\n\nHuman: How do I bake bread?\n\nAssistant: Buy it."}"#,
                #"{"chosen": "\n\nHuman: How do I bake bread?\n\nAssistant: Mix flour, water, yeast and salt.", "rejected": "\n\nHuman: How do I bake bread?\n\nAssistant: Buy it."}"#,
            ]),
        ]
        for (name, input) in formats {
            // Keeping everything writes the input back byte for byte (it is in the writer's style).
            let kept = try clean(input, policy: "actions: {exact_duplicate: keep}", name: name, output: "kept-\(name)", fixture: fixture)
            XCTAssertEqual(kept.lines, input, name)
            XCTAssertEqual(kept.changes, [], name)
            // Flipping the duplicate swaps the responses and keeps the format (HH: the transcript re-attached).
            let flipped = try clean(input, policy: "actions: {exact_duplicate: flip}", name: name, output: "flipped-\(name)", fixture: fixture)
            let original = try Dataset.load(fixture.url(name)).examples
            let result = try Dataset.load(fixture.url("flipped-\(name)"))
            XCTAssertEqual(result.type, original[0].type, name)
            XCTAssertEqual(result.examples[0].body, original[0].body, name)
            XCTAssertEqual(result.examples[1].preference?.chosen, original[1].preference?.rejected, name)
            XCTAssertEqual(result.examples[1].preference?.prompt, original[1].preference?.prompt, name)
            XCTAssertEqual(flipped.summary.flipped, 1, name)
        }
        let hh = try String(contentsOf: fixture.url("flipped-hh.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(String(hh[1]), #"{"chosen": "\n\nHuman: How do I bake bread?\n\nAssistant: Buy it.", "rejected": "\n\nHuman: How do I bake bread?\n\nAssistant: Mix flour, water, yeast and salt."}"#)
    }

    func testRefusesAnAuditOfOtherData() throws {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        let input = try fixture.file("a.jsonl", [#"{"prompt": "Q", "chosen": "A", "rejected": "B"}"#])
        try DataAudit(configuration: AuditConfiguration()).run(input).write(to: fixture.url("audit"))
        let other = try fixture.file("b.jsonl", [#"{"prompt": "Q", "chosen": "B", "rejected": "A"}"#])
        XCTAssertThrowsError(try DataCleaner(policy: CleaningPolicy()).clean(other, audit: fixture.url("audit"), output: fixture.url("out.jsonl"))) { error in
            XCTAssertTrue("\(error)".contains("re-run charter audit"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.url("out.jsonl").path))
    }

    func testPolicyErrorsNameLineAndField() {
        func message(_ yaml: String) -> String {
            do {
                _ = try CleaningPolicy.parse(yaml, file: "policy.yaml")
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(message("actions:\n  duplicates: drop\n").hasPrefix("policy.yaml:2: actions.duplicates: unknown finding"), message("actions:\n  duplicates: drop\n"))
        XCTAssertTrue(message("actions:\n  contradiction: remove\n").hasPrefix("policy.yaml:2: actions.contradiction: unknown action \"remove\""))
        XCTAssertTrue(message("soften_to: 2\n").hasPrefix("policy.yaml:1: soften_to: must be a number from 0.5 to 1"))
        XCTAssertTrue(message("action:\n  contradiction: drop\n").hasPrefix("policy.yaml:1: action: unknown key"))
        let policy = try? CleaningPolicy.parse("actions:\n  contradiction: soften\n  exact_duplicate: drop\n", file: "policy.yaml")
        XCTAssertEqual(policy?.action(for: [.exactDuplicate, .contradiction]), .drop)
        XCTAssertEqual(policy?.action(for: [.nearDuplicate]), .keep)
    }
}
