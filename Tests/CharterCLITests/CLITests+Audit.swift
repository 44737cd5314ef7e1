import Foundation
import XCTest

extension CLITests {
    func testAuditThenCleanEndToEnd() throws {
        let data = try write([
            #"{"prompt": "Pick one", "chosen": "A", "rejected": "B"}"#,
            #"{"prompt": "Pick one", "chosen": "A", "rejected": "B"}"#,
            #"{"prompt": "Pick one", "chosen": "B", "rejected": "A"}"#,
            #"{"prompt": "Mail?", "chosen": "Write to someone@example.org.", "rejected": "No."}"#,
            #"{"prompt": "Broken", "chosen": "#,
        ], to: "pairs.jsonl")
        let audit = folder.appendingPathComponent("audit").path
        let (status, output, errors) = try charter(["audit", data, "--output", audit])
        XCTAssertEqual(status, 0, errors)
        XCTAssertTrue(output.contains("audit: 4 pairs, 1 unreadable lines, 4 pairs flagged"), output)
        XCTAssertTrue(errors.contains("pairs.jsonl:5: invalid JSON"), errors)
        for file in ["audit.json", "findings.jsonl", "report.html"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(audit)/\(file)"), file)
        }

        let policy = try write(["actions:", "  exact_duplicate: drop", "  contradiction: flip", "  personal_data: drop"], to: "policy.yaml")
        let cleaned = folder.appendingPathComponent("clean.jsonl").path
        let (cleanStatus, cleanOutput, cleanErrors) = try charter(["clean", data, "--audit", audit, "--policy", policy, "--output", cleaned])
        XCTAssertEqual(cleanStatus, 0, cleanErrors)
        XCTAssertTrue(cleanOutput.contains("5 rows in = 2 out + 3 dropped (1 of them unreadable); 1 flipped"), cleanOutput)
        let lines = try String(contentsOfFile: cleaned, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines, [#"{"prompt": "Pick one", "chosen": "A", "rejected": "B"}"#, #"{"prompt": "Pick one", "chosen": "A", "rejected": "B"}"#])
        let changes = try String(contentsOfFile: cleaned + ".changes.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(changes.count, 4)

        let badPolicy = try write(["actions:", "  duplicate: drop"], to: "bad-policy.yaml")
        let (badStatus, _, badErrors) = try charter(["clean", data, "--audit", audit, "--policy", badPolicy, "--output", cleaned])
        XCTAssertNotEqual(badStatus, 0)
        XCTAssertTrue(badErrors.contains("bad-policy.yaml:2: actions.duplicate: unknown finding"), badErrors)
    }
}
