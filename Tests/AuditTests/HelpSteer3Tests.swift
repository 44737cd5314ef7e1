import Datasets
import Foundation
import JSON
import XCTest

@testable import Audit

/// HelpSteer3's preference subset, audited like HelpSteer2's file and cleaned back into its own layout.
final class HelpSteer3Tests: XCTestCase {
    /// HelpSteer3-shaped lines, in the field names and order of the `preference` subset of
    /// huggingface.co/datasets/nvidia/HelpSteer3 (dataset card, section "Preference": `domain`, `language`, `context`
    /// as `{"role", "content"}` messages, `response1`, `response2`, `overall_preference` −3 … 3, negative when
    /// response 1 is better, 0 about the same; `individual_preference` entries `{"score", "reasoning"}`, up to three,
    /// no annotator ids). Texts are made up.
    static let lines = [
        line(context: [("user", "Name a colour."), ("assistant", "Blue."), ("user", "Another one?")],
             first: "Green.", second: "Blue again.", overall: -2, scores: [-2, -3, 1]),
        line(domain: "stem", context: [("user", "What is 2 + 2?")], first: "5.", second: "4.", overall: 3, scores: [3, 2]),
        line(context: [("user", "Pick a number.")], first: "Seven.", second: "Three.", overall: 0, scores: [0, 0, -1]),
        line(domain: "multilingual", language: "French", context: [("user", "Capitale de l'Australie ?")],
             first: "Sydney.", second: "Canberra.", overall: -1, scores: [-1, 2, 3]),
    ]

    static func line(domain: String = "general", language: String = "english", context: [(String, String)], first: String, second: String,
                     overall: Int, scores: [Int]) -> String {
        let turns = context.map { #"{"role": "\#($0.0)", "content": "\#($0.1)"}"# }
        let entries = scores.map { #"{"score": \#($0), "reasoning": "@Response \#($0 > 0 ? 2 : 1) reads better."}"# }
        return #"{"domain": "\#(domain)", "language": "\#(language)", "context": [\#(turns.joined(separator: ", "))], "#
            + #""response1": "\#(first)", "response2": "\#(second)", "overall_preference": \#(overall), "#
            + #""individual_preference": [\#(entries.joined(separator: ", "))]}"#
    }

    func testLinesAreReadAsConversationalPairsWithEveryAnnotatorsScore() throws {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        let result = try fixture.audit(Self.lines, name: "train.jsonl")
        XCTAssertEqual(result.unreadable, [])
        XCTAssertEqual(result.pairs.count, 4)
        // overall_preference decides chosen: response2 when positive, response1 when negative or 0 (a tie, soft label ½).
        let texts = try result.texts(lines: [1, 2, 3, 4])
        XCTAssertEqual(texts[1]?.prompt, "user: Name a colour.\n\nassistant: Blue.\n\nuser: Another one?", "the prompt is the context, turn by turn")
        XCTAssertEqual(texts[1]?.chosen, "assistant: Green.")
        XCTAssertEqual(texts[1]?.rejected, "assistant: Blue again.")
        XCTAssertEqual(texts[2]?.chosen, "assistant: 4.")
        XCTAssertEqual(texts[3]?.chosen, "assistant: Seven.")
        XCTAssertEqual(texts[4]?.chosen, "assistant: Sydney.")
        XCTAssertEqual(result.pairs.map(\.chosenProbability), [nil, nil, 0.5, nil])
        XCTAssertEqual(result.pairs.map(\.margin), [2, 3, 0, 1], "the label margin is |overall_preference|")
        // individual_preference, anonymous, relative to the pair's chosen: line 1 [−2, −3, 1] with response1 chosen.
        XCTAssertEqual(result.pairs[0].votes, [AnnotatorVote(annotator: nil, choice: .chosen, strength: 2), AnnotatorVote(annotator: nil, choice: .chosen, strength: 3),
                                               AnnotatorVote(annotator: nil, choice: .rejected, strength: 1)])
        XCTAssertEqual(result.pairs[1].votes.map(\.choice), [.chosen, .chosen])
        XCTAssertEqual(result.pairs[2].votes.map(\.choice), [.tie, .tie, .chosen])
        XCTAssertEqual(result.pairs[3].votes.map(\.choice), [.chosen, .rejected, .rejected])

        let agreement = try XCTUnwrap(result.annotators)
        // Units, judgements, ties among them, anonymous judgements, units not unanimous.
        XCTAssertEqual([agreement.units, agreement.judgements, agreement.tieJudgements, agreement.anonymousJudgements, agreement.disagreeingUnits],
                       [4, 11, 2, 11, 3])
        XCTAssertEqual(agreement.annotators, [], "HelpSteer3 names no annotators; positions are not people")
        let entropies = [AnnotatorAgreement.entropy([2, 1]), 0, AnnotatorAgreement.entropy([1, 2]), AnnotatorAgreement.entropy([1, 2])]
        XCTAssertEqual(agreement.entropies.count, entropies.count)
        for (found, expected) in zip(agreement.entropies, entropies) { XCTAssertEqual(found, expected, accuracy: 1e-12) }
        // Units (chosen, rejected, tie) (2, 1, 0), (2, 0, 0), (1, 0, 2), (1, 2, 0): n = 11, t = 2;
        // Σ_{c≠k} o_ck = 2·2·1/2 + 0 + 2·1·2/2 + 2·1·2/2 = 6; Σ_{c≠k} n_c n_k = (11 − 2)²/2 + 2·2·9 = 76.5;
        // α = 1 − (n − 1)·6/76.5 = 1 − 60/76.5 = 11/51.
        XCTAssertEqual(try XCTUnwrap(agreement.alpha), 11.0 / 51, accuracy: 1e-12)
        XCTAssertEqual(result.evidence.filter { $0.kinds.contains(.annotatorDisagreement) }.map(\.line), [1, 3, 4])
        XCTAssertEqual(result.evidenceOf(.annotatorDisagreement, line: 1)?["same_way"], 2)
        XCTAssertEqual(result.evidenceOf(.annotatorDisagreement, line: 1)?["other_way"], 1)
        XCTAssertEqual(result.evidenceOf(.annotatorDisagreement, line: 3)?["ties"], 2)
        XCTAssertEqual(result.evidenceOf(.annotatorDisagreement, line: 4)?["share_same_way"]?.doubleValue ?? 0, 1.0 / 3, accuracy: 1e-12)
        XCTAssertNotNil(result.evidenceOf(.lowConfidence, line: 3), "a tie is a soft label of ½")
        XCTAssertEqual(result.jsonValue["annotators"]?["anonymous_judgements"], 11)
    }

    func testBadLinesNameTheLineFieldAndIndex() throws {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        let user = #"[{"role": "user", "content": "Hi?"}]"#
        func helpSteer3(context: String? = #"[{"role": "user", "content": "Hi?"}]"#, first: String? = #""A""#, second: String? = #""B""#,
                        overall: String? = "-1", scores: String? = #"[{"score": -1, "reasoning": "A."}]"#, extra: String = "") -> String {
            let fields = [context.map { #""context": \#($0)"# }, first.map { #""response1": \#($0)"# }, second.map { #""response2": \#($0)"# },
                          overall.map { #""overall_preference": \#($0)"# }, scores.map { #""individual_preference": \#($0)"# }]
            return "{" + (fields.compactMap { $0 } + (extra.isEmpty ? [] : [extra])).joined(separator: ", ") + "}"
        }
        let result = try fixture.audit([
            helpSteer3(),
            helpSteer3(context: nil),
            helpSteer3(context: #""Hi?""#),
            helpSteer3(context: "[]"),
            helpSteer3(context: #"[{"role": "user", "content": "Hi?"}, {"role": "robot", "content": "Beep."}]"#),
            helpSteer3(context: #"[{"role": "user"}]"#),
            helpSteer3(overall: #""-2""#),
            helpSteer3(overall: nil),
            helpSteer3(scores: nil),
            helpSteer3(scores: #"[{"score": 1}, {"score": -1}, {"score": 5, "reasoning": "Off the scale."}]"#),
            helpSteer3(scores: #"[{"score": 1}, {"reasoning": "No score."}]"#),
            helpSteer3(scores: "[]"),
            helpSteer3(second: nil),
            helpSteer3(first: "1"),
            helpSteer3(extra: #""response_2": "B""#),
            helpSteer3(extra: #""prompt": \#(user)"#),
            helpSteer3(extra: #""chosen": "A""#),
            helpSteer3(scores: #"[{"score": -100, "reasoning": "Neither."}]"#),
        ], name: "train.jsonl")
        XCTAssertEqual(result.pairs.map(\.line), [1])
        let expected = [
            #"train.jsonl:2: missing field "context" (HelpSteer3 preference lines need "context", "response1", "response2", "overall_preference" and "individual_preference")"#,
            #"train.jsonl:3: field "context" must be a list of {"role", "content"} messages"#,
            #"train.jsonl:4: field "context" is empty"#,
            #"train.jsonl:5: field "context[1].role" must be one of "system", "user", "assistant", "tool", found "robot""#,
            #"train.jsonl:6: field "context[0].content" is missing"#,
            #"train.jsonl:7: field "overall_preference" must be an integer from −3 (response 1 much better) to 3 (response 2 much better), found "-2""#,
            #"train.jsonl:8: field "overall_preference" is missing"#,
            #"train.jsonl:9: missing field "individual_preference" (each annotator's {"score", "reasoning"})"#,
            #"train.jsonl:10: field "individual_preference[2].score" must be an integer from −3 (response 1 much better) to 3 (response 2 much better), found 5"#,
            #"train.jsonl:11: field "individual_preference[1].score" is missing"#,
            #"train.jsonl:12: field "individual_preference" is empty"#,
            #"train.jsonl:13: missing field "response2""#,
            #"train.jsonl:14: field "response1" must be a string"#,
            #"train.jsonl:15: has HelpSteer2's "response_1"/"response_2" and HelpSteer3's "response1"/"response2"; keep one layout"#,
            #"train.jsonl:16: has HelpSteer3's "response1"/"response2" and TRL's "prompt"; keep one layout"#,
            #"train.jsonl:17: has HelpSteer3's "response1"/"response2" and TRL's "chosen"; keep one layout"#,
            // The card documents −3 … 3 only; a score outside it is refused, never read as something else.
            #"train.jsonl:18: field "individual_preference[0].score" must be an integer from −3 (response 1 much better) to 3 (response 2 much better), found -100"#,
        ]
        result.assertUnreadable(startingWith: expected)
    }

    // MARK: - Clean

    func testCleanWritesLinesBackInTheirOwnLayout() throws {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        // Line 4's label (response1) is the minority of its annotators (1 to 2); soften's shares are line 1 2/3,
        // line 3 (1 + 2/2)/3 = 2/3 and line 4 1/3.
        try fixture.checkHelpSteerClean(Self.lines, overall: "overall_preference", flippedChosen: "assistant: Canberra.", judgements: 11,
                                        softened: [2.0 / 3, nil, 2.0 / 3, 1.0 / 3], tied: [0, 3, 0, 0])
    }
}
