import Foundation
import XCTest

/// `charter constitution collect`: analysis of a Polis export into a constitution, invites and moderation.
extension CLITests {
    func testCollectAnalyzeAPolisExportWritesAConstitutionTheLoaderAccepts() throws {
        let polis = Self.repository.appendingPathComponent("Tests/CollectiveTests/Fixtures/polis-planted").path
        let output = folder.appendingPathComponent("ccai").path
        let (status, out, err) = try charter(["constitution", "collect", "analyze", "--polis", polis, "--output", output])
        XCTAssertEqual(status, 0, err)
        XCTAssertTrue(out.contains("24 participants, 10 statements, 202 votes; 2 opinion groups (sizes 12, 12)"), out)
        XCTAssertTrue(out.contains("3 statements at consensus ≥ 0.360"), out)
        for file in ["results.json", "report.html", "constitution.yaml"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(output)/\(file)"), file)
        }
        let (validStatus, valid, _) = try charter(["constitution", "validate", "\(output)/constitution.yaml"])
        XCTAssertEqual(validStatus, 0)
        XCTAssertTrue(valid.contains("3 principles (3 critique/revision, 3 comparison; other 3)"), valid)

        let (both, _, bothError) = try charter(["constitution", "collect", "analyze", "--polis", polis, "--db", "x.sqlite", "--output", output])
        XCTAssertNotEqual(both, 0)
        XCTAssertTrue(bothError.contains("give exactly one of --db"), bothError)
        let (high, _, highError) = try charter(["constitution", "collect", "analyze", "--polis", polis, "--output", output, "--threshold", "0.9"])
        XCTAssertNotEqual(high, 0)
        XCTAssertTrue(highError.contains("no statement reaches consensus 0.900 (the highest is 0.769); lower --threshold"), highError)
    }

    func testCollectInviteAndModerateWorkOnTheDatabase() throws {
        let db = folder.appendingPathComponent("ccai.sqlite").path
        let (status, out, err) = try charter(["constitution", "collect", "invite", "--db", db, "--count", "3", "--base-url", "http://127.0.0.1:9000"])
        XCTAssertEqual(status, 0, err)
        let links = out.split(separator: "\n")
        XCTAssertEqual(links.count, 3)
        XCTAssertTrue(links.allSatisfy { $0.range(of: #"^http://127\.0\.0\.1:9000/login\?token=[0-9a-f]{64}$"#, options: .regularExpression) != nil }, out)
        XCTAssertEqual(Set(links).count, 3)
        let (listed, list, _) = try charter(["constitution", "collect", "moderate", "--db", db])
        XCTAssertEqual(listed, 0)
        XCTAssertTrue(list.contains("0 statement(s) awaiting moderation"), list)
        let (missing, _, missingError) = try charter(["constitution", "collect", "moderate", "--db", db, "--accept", "7"])
        XCTAssertNotEqual(missing, 0)
        XCTAssertTrue(missingError.contains("no statement 7"), missingError)
        let (empty, _, emptyError) = try charter(["constitution", "collect", "analyze", "--db", db, "--output", folder.appendingPathComponent("o").path])
        XCTAssertNotEqual(empty, 0)
        XCTAssertTrue(emptyError.contains("0 statement(s) accepted"), emptyError)
    }
}
