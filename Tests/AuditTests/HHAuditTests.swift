import Datasets
import Foundation
import XCTest

@testable import Audit

/// The audit and clean on the real Anthropic HH-RLHF harmless-base test split (skipped when the shared data folder is
/// absent). Empty responses and length counts are checked against Python:
///
///     python3 -c "import gzip, json, os
///     L = [json.loads(l) for l in gzip.open('harmless-base-test.jsonl.gz', 'rt')]
///     # split each pair after the last '\n\nAssistant:' of the common prefix; count empty responses and
///     # len(chosen) > len(rejected) among pairs of different lengths" → [87, 517, 926, 1104], 1025 of 2301
final class HHAuditTests: XCTestCase {
    static let hhFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/data/hh-rlhf/harmless-base-test.jsonl.gz").standardizedFileURL

    func testAuditAndCleanOfHarmlessBase() throws {
        guard FileManager.default.fileExists(atPath: Self.hhFile.path) else {
            throw XCTSkip("HH-RLHF file not found at \(Self.hhFile.path); it lives in the shared data folder next to the package")
        }
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        let result = try DataAudit(configuration: AuditConfiguration()).run(Self.hhFile)
        XCTAssertEqual(result.pairs.count, 2312)
        XCTAssertEqual(result.unreadable.count, 0)
        XCTAssertEqual(result.evidence.filter { $0.kinds.contains(.emptyResponse) }.map(\.line), [87, 517, 926, 1104])
        XCTAssertEqual(result.lengthBias.chosenLonger, 1025)
        XCTAssertEqual(result.lengthBias.comparablePairs, 2301)
        let counts = Dictionary(uniqueKeysWithValues: result.counts.map { ($0.kind, $0.pairs) })
        XCTAssertEqual(counts[.exactDuplicate], 0)
        XCTAssertEqual(counts[.contradiction], 0)
        XCTAssertEqual(counts[.personalData], 16)
        XCTAssertEqual(counts[.truncatedResponse], 30)  // 31 before emoticons such as ":-(" (line 564) were told apart

        try result.write(to: fixture.url("audit"))
        let policy = try CleaningPolicy.parse("actions: {empty_response: drop, personal_data: drop}", file: "policy.yaml")
        let summary = try DataCleaner(policy: policy).clean(Self.hhFile, audit: fixture.url("audit"), output: fixture.url("clean.jsonl"))
        XCTAssertEqual([summary.rowsIn, summary.rowsOut, summary.dropped], [2312, 2292, 20])
        // Kept pairs are written back as they were read: the same examples, in the implicit-prompt HH form.
        let original = try Dataset.load(Self.hhFile).examples
        let cleaned = try Dataset.load(fixture.url("clean.jsonl"))
        XCTAssertEqual(cleaned.type, .implicitPromptPreference)
        let dropped = Set(result.evidence.filter { !Set($0.kinds).isDisjoint(with: [.emptyResponse, .personalData]) }.map(\.line))
        XCTAssertEqual(cleaned.examples.map(\.body), original.filter { !dropped.contains($0.line) }.map(\.body))
    }
}
