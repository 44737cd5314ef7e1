import Datasets
import Foundation
import JSON
import XCTest

@testable import Audit

final class DataAuditTests: XCTestCase {
    private func audit(_ lines: [String], name: String = "pairs.jsonl", configure: (inout AuditConfiguration) -> Void = { _ in }) throws -> AuditResult {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        var configuration = AuditConfiguration()
        configure(&configuration)
        return try DataAudit(configuration: configuration).run(try fixture.file(name, lines))
    }

    /// Lines flagged with `kind`, in order.
    private func lines(_ result: AuditResult, _ kind: Finding.Kind) -> [Int] {
        result.evidence.filter { $0.kinds.contains(kind) }.map(\.line)
    }

    private func evidence(_ result: AuditResult, line: Int, _ kind: Finding.Kind) -> JSONValue? {
        result.evidence.first { $0.line == line }?.findings.first { $0.kind == kind }?.evidence
    }

    func testPairIDIsSHA256OfTheNormalisedTexts() {
        // python3 -c "import hashlib; print(hashlib.sha256('what is 2+2?\x1f4\x1fi don\'t know'.encode()).hexdigest()[:16])"
        XCTAssertEqual(PairID.of(prompt: "What is  2+2?\n", chosen: " 4", rejected: "I don't KNOW"), "1a976ff9cbd02a7d")
        XCTAssertNotEqual(PairID.of(prompt: "What is 2+2?", chosen: "I don't know", rejected: "4"), "1a976ff9cbd02a7d")
    }

    func testExactAndNearDuplicatesAndIdenticalResponses() throws {
        let story = "Once upon a time a patient dragon guarded a huge mountain of gold deep under the northern hills, and every night "
            + "it counted the coins one by one while the villagers below told stories about the treasure and the brave knight who would come"
        let result = try audit([
            #"{"prompt": "What is the capital of France?", "chosen": " Paris is the capital.", "rejected": " London."}"#,
            #"{"prompt": "what is the capital of   France?", "chosen": " Paris is the capital.", "rejected": " london."}"#,
            #"{"prompt": "Tell me a story about a dragon.", "chosen": " \#(story) one day.", "rejected": " No."}"#,
            #"{"prompt": "Tell me a story about a dragon.", "chosen": " \#(story) some day.", "rejected": " No."}"#,
            #"{"prompt": "Hi", "chosen": "Same answer", "rejected": "same   answer"}"#,
            #"{"prompt": "Tell me a story about a dragon.", "chosen": " No.", "rejected": " \#(story) one day."}"#,
        ])
        XCTAssertEqual(result.pairs.count, 6)
        XCTAssertEqual(lines(result, .exactDuplicate), [2])
        XCTAssertEqual(evidence(result, line: 2, .exactDuplicate)?["duplicate_of_line"], 1)
        XCTAssertEqual(result.pairs[0].id, result.pairs[1].id)
        // Line 6 is line 3 swapped: a contradiction, not a near duplicate.
        XCTAssertEqual(lines(result, .nearDuplicate), [4])
        XCTAssertEqual(evidence(result, line: 4, .nearDuplicate)?["duplicate_of_line"], 3)
        XCTAssertEqual(evidence(result, line: 4, .nearDuplicate)?["prompt_similarity"]?.doubleValue, 1)
        XCTAssertEqual(lines(result, .identicalResponses), [5])
        XCTAssertEqual(lines(result, .contradiction), [3, 6])
        // A stricter threshold than the pair's similarity finds no near duplicate.
        let strict = try audit([
            #"{"prompt": "Tell me a story about a dragon.", "chosen": " \#(story) one day.", "rejected": " No."}"#,
            #"{"prompt": "Tell me a story about a dragon.", "chosen": " \#(story) some day.", "rejected": " No."}"#,
        ]) { $0.nearDuplicateThreshold = 1 }
        XCTAssertEqual(lines(strict, .nearDuplicate), [])
    }

    func testContradictionsAndCycles() throws {
        let result = try audit([
            #"{"prompt": "Pick one", "chosen": "A", "rejected": "B"}"#,
            #"{"prompt": "Pick one", "chosen": "B", "rejected": "A"}"#,
            #"{"prompt": "Pick one", "chosen": "A", "rejected": "B"}"#,
            #"{"prompt": "Rank", "chosen": "X", "rejected": "Y"}"#,
            #"{"prompt": "Rank", "chosen": "Y", "rejected": "Z"}"#,
            #"{"prompt": "Rank", "chosen": "Z", "rejected": "X"}"#,
            #"{"prompt": "Order", "chosen": "X", "rejected": "Y"}"#,
            #"{"prompt": "Order", "chosen": "Y", "rejected": "Z"}"#,
            #"{"prompt": "Order", "chosen": "X", "rejected": "Z"}"#,
        ])
        XCTAssertEqual(lines(result, .contradiction), [1, 2, 3])
        XCTAssertEqual(evidence(result, line: 2, .contradiction)?["same_way"], 1)
        XCTAssertEqual(evidence(result, line: 2, .contradiction)?["other_way"], 2)
        XCTAssertEqual(evidence(result, line: 2, .contradiction)?["agrees_with_majority"], false)
        XCTAssertEqual(evidence(result, line: 2, .contradiction)?["other_way_lines"], [1, 3])
        XCTAssertEqual(lines(result, .exactDuplicate), [3])
        XCTAssertEqual(lines(result, .preferenceCycle), [4, 5, 6])
        XCTAssertEqual(evidence(result, line: 4, .preferenceCycle)?["responses_in_cycle"], 3)
    }

    func testAnnotatorAgreement() throws {
        func line(_ prompt: String, _ chosen: String, _ rejected: String, _ annotator: String) -> String {
            #"{"prompt": "\#(prompt)", "chosen": "\#(chosen)", "rejected": "\#(rejected)", "annotator": "\#(annotator)"}"#
        }
        let result = try audit([
            line("P1", "A", "B", "ann1"), line("P1", "A", "B", "ann2"), line("P1", "B", "A", "ann3"),
            line("P2", "C", "D", "ann1"), line("P2", "C", "D", "ann2"),
            line("P3", "E", "F", "ann1"), line("P3", "F", "E", "ann3"),
            line("P4", "G", "H", "ann2"),
        ])
        // Different annotators disagreeing is not a contradiction.
        XCTAssertEqual(lines(result, .contradiction), [])
        XCTAssertEqual(lines(result, .annotatorDisagreement), [1, 2, 3, 6, 7])
        XCTAssertEqual(evidence(result, line: 3, .annotatorDisagreement)?["share_same_way"]?.doubleValue ?? 0, 1.0 / 3, accuracy: 1e-12)
        let agreement = try XCTUnwrap(result.annotators)
        XCTAssertEqual(agreement.units, 3)
        XCTAssertEqual(agreement.disagreeingUnits, 2)
        XCTAssertEqual(agreement.entropies.count, 3)
        XCTAssertEqual(agreement.entropies[0], -(2.0 / 3 * log2(2.0 / 3) + 1.0 / 3 * log2(1.0 / 3)), accuracy: 1e-12)
        XCTAssertEqual(agreement.entropies[1], 0)
        XCTAssertEqual(agreement.entropies[2], 1)
        // Leave-one-out majorities: ann1 ties in P1, agrees in P2, disagrees in P3; ann2 ties in P1, agrees in P2;
        // ann3 disagrees in P1 and P3. P4 has one judgement only.
        XCTAssertEqual(agreement.annotators.map(\.name), ["ann1", "ann2", "ann3"])
        XCTAssertEqual(agreement.annotators.map(\.judgements), [3, 2, 2])
        XCTAssertEqual(agreement.annotators.map(\.compared), [2, 1, 2])
        XCTAssertEqual(agreement.annotators.map(\.agreed), [1, 1, 0])
        // Units (2, 1), (2, 0), (1, 1): n = 7, Σ 2ab/(m − 1) = 2·2/2 + 0 + 2·1/1 = 4, α = 1 − 2·6·4/49 = 1/49.
        XCTAssertEqual(try XCTUnwrap(agreement.alpha), 1.0 / 49, accuracy: 1e-12)
        XCTAssertEqual(AnnotatorAgreement.krippendorffAlpha([(3, 0), (0, 2)]), 1)
    }

    func testLabelRecordsPositionBiasSoftLabelsAndUnreadableLines() throws {
        func judgement(_ principle: String, _ flipped: String) -> String {
            #"{"principle_id": "\#(principle)", "weight": 1, "orders": [], "p_first": 0.6, "flipped": \#(flipped)}"#
        }
        let result = try audit([
            #"{"prompt": "Q1", "chosen": " a", "rejected": " b", "chosen_probability": 0.55, "judgements": [\#(judgement("harm", "true")), \#(judgement("honest", "false"))]}"#,
            #"{"prompt": "Q2", "chosen": " c", "rejected": " d", "chosen_probability": 0.9, "judgements": [\#(judgement("harm", "false")), \#(judgement("honest", "false"))]}"#,
            #"{"prompt": "Q3", "chosen": " e", "rejected": " f", "chosen_probability": 0.7, "judgements": [\#(judgement("harm", "true")), \#(judgement("honest", "null"))]}"#,
            #"{"prompt": "Q4", "chosen": " g", "rejected": " h", "chosen_probability": 0.7, "judgements": [\#(judgement("harm", "\"yes\""))]}"#,
            #"{"prompt": "Q5", "chosen": "#,
            #"{"prompt": "Q6", "chosen": " i", "rejected": 3}"#,
        ], name: "labels.jsonl")
        XCTAssertEqual(result.pairs.count, 3)
        XCTAssertEqual(lines(result, .positionBias), [1, 3])
        XCTAssertEqual(evidence(result, line: 1, .positionBias)?["flipped_principles"], ["harm"])
        XCTAssertEqual(lines(result, .lowConfidence), [1])
        XCTAssertEqual(result.positionBias.principles.map(\.id), ["harm", "honest"])
        XCTAssertEqual(result.positionBias.principles.map(\.judgements), [3, 2])
        XCTAssertEqual(result.positionBias.principles.map(\.flips), [2, 0])
        XCTAssertEqual(result.unreadable.map(\.line), [4, 5, 6])
        XCTAssertTrue(result.unreadable[0].description.hasPrefix("labels.jsonl:4: field \"judgements\""), result.unreadable[0].description)
        XCTAssertTrue(result.unreadable[2].description.contains("\"rejected\""), result.unreadable[2].description)
    }

    func testLengthBias() throws {
        let result = try audit([
            #"{"prompt": "p", "chosen": "aaaa", "rejected": "aa", "score_chosen": 8, "score_rejected": 7}"#,
            #"{"prompt": "p", "chosen": "aaaaaa", "rejected": "aa", "score_chosen": 9, "score_rejected": 7}"#,
            #"{"prompt": "p", "chosen": "aaaaaaaa", "rejected": "aa", "score_chosen": 10, "score_rejected": 7}"#,
            #"{"prompt": "p", "chosen": "b", "rejected": "bbb", "score_chosen": 6, "score_rejected": 7}"#,
            #"{"prompt": "p", "chosen": "cc", "rejected": "dd", "score_chosen": 6, "score_rejected": 5}"#,
        ])
        XCTAssertEqual(result.lengthBias.comparablePairs, 4)
        XCTAssertEqual(result.lengthBias.chosenLonger, 3)
        XCTAssertEqual(result.lengthBias.chosenLongerShare, 0.75)
        XCTAssertEqual(result.lengthBias.pairsWithMargin, 5)
        // Differences 2, 4, 6, −2, 0 against margins 1, 2, 3, −1, 1: r = 18 / √(40 · 8.8).
        XCTAssertEqual(try XCTUnwrap(result.lengthBias.marginCorrelation), 18 / (40 * 8.8).squareRoot(), accuracy: 1e-12)
    }

    func testPersonalDataEmptyAndTruncatedResponses() throws {
        let result = try audit([
            #"{"prompt": "Contact?", "chosen": "Email me at jane.doe@example.com.", "rejected": "Call (555) 123-4567 or +44 20 7946 0958 now."}"#,
            #"{"prompt": "Numbers?", "chosen": "The answer is 1234567890 and 3.14159, see user@localhost", "rejected": "In 1990-2000 things happened."}"#,
            #"{"prompt": "Steps?", "chosen": "   ", "rejected": "Here are the steps:"}"#,
            #"{"prompt": "Code?", "chosen": "```python\nprint(1)", "rejected": "fine (really)."}"#,
            #"{"prompt": "Sad?", "chosen": "yes :-(", "rejected": "The options are ("}"#,
        ])
        XCTAssertEqual(lines(result, .personalData), [1])
        let matches = try XCTUnwrap(evidence(result, line: 1, .personalData)?["matches"]?.arrayValue)
        XCTAssertEqual(matches.map { $0["text"]?.stringValue ?? "" }, ["jane.doe@example.com", "(555) 123-4567", "+44 20 7946 0958"])
        XCTAssertEqual(matches.map { $0["kind"]?.stringValue ?? "" }, ["email", "phone", "phone"])
        XCTAssertEqual(lines(result, .emptyResponse), [3])
        XCTAssertEqual(evidence(result, line: 3, .emptyResponse)?["responses"], ["chosen"])
        XCTAssertEqual(lines(result, .truncatedResponse), [3, 4, 5])
        XCTAssertEqual(evidence(result, line: 5, .truncatedResponse)?["response"], "rejected")
        XCTAssertEqual(evidence(result, line: 4, .truncatedResponse)?["reason"], "ends inside a code fence")
    }

    func testWritesAuditFindingsAndReport() throws {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        let input = try fixture.file("pairs.jsonl", [
            #"{"prompt": "Q", "chosen": "A <b>", "rejected": "B"}"#,
            #"{"prompt": "Q", "chosen": "A <b>", "rejected": "B"}"#,
            "not json",
        ])
        let result = try DataAudit(configuration: AuditConfiguration()).run(input)
        var extended = result
        extended.add(Finding(.lowConfidence, ["source": "a model-based analysis"]), line: 1)
        XCTAssertEqual(extended.evidence.map(\.line), [1, 2])
        try result.write(to: fixture.url("audit"))
        let document = try JSONParser.parse(String(contentsOf: fixture.url("audit/audit.json"), encoding: .utf8))
        XCTAssertEqual(document["pairs"], 2)
        XCTAssertEqual(document["unreadable_lines"], 1)
        XCTAssertEqual(document["counts"]?["exact_duplicate"], 1)
        XCTAssertEqual(document["findings"]?.arrayValue?.first?["pair_id"]?.stringValue, result.pairs[1].id)
        let findings = try String(contentsOf: fixture.url("audit/findings.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(findings.count, 1)
        let html = try String(contentsOf: fixture.url("audit/report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("A &lt;b&gt;"))
        XCTAssertFalse(html.contains("A <b>"))
        XCTAssertTrue(html.contains("pairs.jsonl:3: invalid JSON"))
    }
}
