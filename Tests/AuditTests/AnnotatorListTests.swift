import Datasets
import Foundation
import JSON
import Tensors
import XCTest

@testable import Audit

/// Multi-annotator data with all of a pair's judgements on one line: Charter's `annotator_labels` lists and
/// HelpSteer2's preference file, audited like one-judgement-per-line files and cleaned back into their own layout.
final class AnnotatorListTests: XCTestCase {
    /// HelpSteer2-shaped lines, in the field names and order of `preference/preference.jsonl.gz` in
    /// huggingface.co/datasets/nvidia/HelpSteer2 (dataset card at revision 990b2711a36180dd19d9c94b8627844866f8982a,
    /// "Preferences (NEW - 1 Oct 2024)": `preference_strength` −3 … 3, negative when response 1 is better, 0 about the
    /// same; `all_preferences_unprocessed` entries `{"strength", "justification"}`). Texts are made up. Line 1's
    /// `three_most_similar_preferences` deliberately disagree with its raw list: the audit must read the raw list.
    static let helpSteer2 = [
        helpSteer2Line(prompt: #"Define a signal.\n<extra_id_1>Assistant\nA carrier of information.\n<extra_id_1>User\nAnd its properties?"#,
                       first: "Amplitude and frequency.", second: "Amplitude, frequency, phase and wavelength, with a diagram.",
                       overall: 2, similar: [2, 2, 2], all: [2, 1, -1]),
        helpSteer2Line(prompt: "Name a prime.", first: "7 is prime.", second: "9 is prime.", overall: -1, similar: [-1, -2, -3], all: [-1, -2, -3]),
        helpSteer2Line(prompt: "Say hi.", first: "Hi!", second: "Hello!", overall: 0, similar: [0, 1, -1], all: [0, 1, -1]),
        helpSteer2Line(prompt: "Capital of Peru?", first: "Quito.", second: "Lima.", overall: -1, similar: [-1, 2, 3], all: [-1, 2, 3]),
    ]

    static func helpSteer2Line(prompt: String, first: String, second: String, overall: Int, similar: [Int], all: [Int]) -> String {
        let similarEntries = similar.map { #"{"statement": "@Response \#($0 > 0 ? 2 : 1) is better.", "elaboration": "Because.", "strength": \#($0)}"# }
        let allEntries = all.map { #"{"strength": \#($0), "justification": "@Response \#($0 > 0 ? 2 : 1) is better than @Response \#($0 > 0 ? 1 : 2)."}"# }
        return #"{"split": "train", "prompt": "\#(prompt)", "response_1": "\#(first)", "response_2": "\#(second)", "preference_strength": \#(overall), "#
            + #""preference_statement": "@Response \#(overall > 0 ? 2 : 1) is better.", "preference_elaboration": "Because.", "#
            + #""three_most_similar_preferences": [\#(similarEntries.joined(separator: ", "))], "all_preferences_unprocessed": [\#(allEntries.joined(separator: ", "))]}"#
    }

    // MARK: - The list form is the per-line form

    /// One pair's judgements, generated: which response is the line's chosen, and each annotator's choice.
    struct GeneratedPair {
        let prompt: String, chosen: String, rejected: String
        let votes: [(annotator: String, choice: AnnotatorVote.Choice, strength: Int)]
    }

    static func generate(seed: UInt64) -> [GeneratedPair] {
        var generator = SeededGenerator(seed: seed)
        let pool = ["ann0", "ann1", "ann2", "ann3", "ann4", "ann5"]
        return (0..<Int.random(in: 4...14, using: &generator)).map { index in
            // Two pairs per prompt; either response may be the line's chosen.
            let prompt = "Prompt \(index / 2)"
            let responses = ["Answer \(index) one", "Answer \(index) two"].shuffled(using: &generator)
            let annotators = pool.shuffled(using: &generator).prefix(Int.random(in: 1...5, using: &generator))
            let votes = annotators.map { name -> (annotator: String, choice: AnnotatorVote.Choice, strength: Int) in
                let choice = AnnotatorVote.Choice.allCases.randomElement(using: &generator) ?? .chosen
                return (name, choice, choice == .tie ? 0 : Int.random(in: 1...3, using: &generator))
            }
            return GeneratedPair(prompt: prompt, chosen: responses[0], rejected: responses[1], votes: votes)
        }
    }

    /// The pair as one line with `annotator_labels`.
    static func listLine(_ pair: GeneratedPair) -> String {
        let labels = pair.votes.map { #"{"annotator": "\#($0.annotator)", "choice": "\#($0.choice.rawValue)", "strength": \#($0.strength)}"# }
        return #"{"prompt": "\#(pair.prompt)", "chosen": "\#(pair.chosen)", "rejected": "\#(pair.rejected)", "annotator_labels": [\#(labels.joined(separator: ", "))]}"#
    }

    /// The pair as one line per judgement, as `charter annotate export --per-annotator` writes them: chosen is the
    /// annotator's choice; a tie keeps the pair's order with `"label": "tie"`.
    static func perJudgementLines(_ pair: GeneratedPair) -> [String] {
        pair.votes.map { vote in
            let (chosen, rejected) = vote.choice == .rejected ? (pair.rejected, pair.chosen) : (pair.chosen, pair.rejected)
            let label = vote.choice == .tie ? "tie" : "preference"
            return #"{"prompt": "\#(pair.prompt)", "chosen": "\#(chosen)", "rejected": "\#(rejected)", "annotator": "\#(vote.annotator)", "label": "\#(label)", "strength": \#(vote.strength)}"#
        }
    }

    func testListLinesGiveTheAnnotatorSectionOfTheEquivalentPerJudgementFile() throws {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        var sawTies = false, sawDisagreement = false
        for seed in UInt64(0)..<25 {
            let pairs = Self.generate(seed: seed)
            let list = try fixture.audit(pairs.map(Self.listLine), name: "list-\(seed).jsonl")
            let perLine = try fixture.audit(pairs.flatMap(Self.perJudgementLines), name: "lines-\(seed).jsonl")
            XCTAssertEqual(list.unreadable, [], "seed \(seed)")
            XCTAssertEqual(perLine.unreadable, [], "seed \(seed)")
            XCTAssertEqual(list.pairs.count, pairs.count, "seed \(seed)")
            let section = try XCTUnwrap(list.jsonValue["annotators"], "seed \(seed)")
            XCTAssertNotEqual(section, .null, "seed \(seed): the list form carries judgements")
            XCTAssertEqual(section, perLine.jsonValue["annotators"], "seed \(seed)")
            XCTAssertEqual(list.annotators, perLine.annotators, "seed \(seed)")
            // Every judgement of a pair with two or more is counted, none dropped.
            XCTAssertEqual(list.annotators?.judgements, pairs.map(\.votes.count).filter { $0 >= 2 }.reduce(0, +), "seed \(seed)")
            sawTies = sawTies || (list.annotators?.tieJudgements ?? 0) > 0
            sawDisagreement = sawDisagreement || (list.annotators?.disagreeingUnits ?? 0) > 0
            // Each disagreeing list line carries one finding whose vote share matches the per-line file's judgements.
            for record in list.evidence where record.kinds.contains(.annotatorDisagreement) {
                let row = try XCTUnwrap(list.pairs.firstIndex { $0.line == record.line })
                let finding = try XCTUnwrap(record.findings.first { $0.kind == .annotatorDisagreement })
                XCTAssertEqual(finding.evidence["judgements_on_line"]?.integerValue, pairs[row].votes.count)
            }
        }
        XCTAssertTrue(sawTies && sawDisagreement, "the generated data must exercise ties and disagreement")
    }

    func testKrippendorffAlphaWithTies() {
        // Units (first, second, tie) (2, 0, 1) and (0, 0, 2): n = 5, t = 3; Σ_{c≠k} o_ck = 2·2·1/2 + 0 = 2;
        // Σ_{c≠k} n_c n_k = (5 − 3)²/2 + 2·3·2 = 14; α = 1 − 4·2/14 = 3/7.
        XCTAssertEqual(try XCTUnwrap(AnnotatorAgreement.krippendorffAlpha([[2, 0, 1], [0, 0, 2]])), 3.0 / 7, accuracy: 1e-12)
        XCTAssertNil(AnnotatorAgreement.krippendorffAlpha([[0, 0, 3]]), "all ties: no expected disagreement")
        XCTAssertEqual(AnnotatorAgreement.entropy([1, 1, 1]), log2(3), accuracy: 1e-12)
    }

    // MARK: - HelpSteer2

    func testHelpSteer2LinesAreReadAsPairsWithEveryAnnotatorsJudgement() throws {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        let result = try fixture.audit(Self.helpSteer2, name: "preference.jsonl")
        XCTAssertEqual(result.unreadable, [])
        XCTAssertEqual(result.pairs.count, 4)
        // preference_strength decides chosen: response_2 when positive, response_1 when negative or 0 (a tie, soft label ½).
        let chosen = try result.texts(lines: [1, 2, 3, 4])
        XCTAssertEqual(chosen[1]?.chosen, "Amplitude, frequency, phase and wavelength, with a diagram.")
        XCTAssertEqual(chosen[1]?.prompt, "Define a signal.\n<extra_id_1>Assistant\nA carrier of information.\n<extra_id_1>User\nAnd its properties?")
        XCTAssertEqual(chosen[2]?.chosen, "7 is prime.")
        XCTAssertEqual(chosen[3]?.chosen, "Hi!")
        XCTAssertEqual(result.pairs.map(\.chosenProbability), [nil, nil, 0.5, nil])
        XCTAssertEqual(result.pairs.map(\.margin), [2, 1, 0, 1], "the label margin is |preference_strength|")
        // The raw list, anonymous, relative to the pair's chosen: line 1 [2, 1, −1] with response 2 chosen.
        XCTAssertEqual(result.pairs[0].votes, [AnnotatorVote(annotator: nil, choice: .chosen, strength: 2), AnnotatorVote(annotator: nil, choice: .chosen, strength: 1),
                                               AnnotatorVote(annotator: nil, choice: .rejected, strength: 1)])
        XCTAssertEqual(result.pairs[2].votes.map(\.choice), [.tie, .rejected, .chosen])
        XCTAssertEqual(result.pairs[3].votes.map(\.choice), [.chosen, .rejected, .rejected])

        let agreement = try XCTUnwrap(result.annotators)
        XCTAssertEqual(agreement.units, 4)
        XCTAssertEqual(agreement.judgements, 12)
        XCTAssertEqual(agreement.tieJudgements, 1)
        XCTAssertEqual(agreement.anonymousJudgements, 12)
        XCTAssertEqual(agreement.annotators, [], "HelpSteer2 names no annotators; positions are not people")
        XCTAssertEqual(agreement.disagreeingUnits, 3)
        XCTAssertEqual(agreement.entropies[0], AnnotatorAgreement.entropy([2, 1]), accuracy: 1e-12)
        XCTAssertEqual(agreement.entropies[1], 0)
        XCTAssertEqual(agreement.entropies[2], log2(3), accuracy: 1e-12)
        // Units (2, 1, 0), (3, 0, 0), (1, 1, 1), (1, 2, 0): n = 12, t = 1, Σ_{c≠k} o_ck = 4/2 + 0 + 6/2 + 4/2 = 7,
        // Σ_{c≠k} n_c n_k = 11²/2 + 2·1·11 = 82.5; α = 1 − 11·7/82.5 = 1/15.
        XCTAssertEqual(try XCTUnwrap(agreement.alpha), 1.0 / 15, accuracy: 1e-12)
        XCTAssertEqual(result.evidence.filter { $0.kinds.contains(.annotatorDisagreement) }.map(\.line), [1, 3, 4])
        XCTAssertEqual(result.evidenceOf(.annotatorDisagreement, line: 1)?["same_way"], 2)
        XCTAssertEqual(result.evidenceOf(.annotatorDisagreement, line: 1)?["other_way"], 1)
        XCTAssertEqual(result.evidenceOf(.annotatorDisagreement, line: 4)?["share_same_way"]?.doubleValue ?? 0, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(result.evidenceOf(.annotatorDisagreement, line: 3)?["ties"], 1)
        XCTAssertNotNil(result.evidenceOf(.lowConfidence, line: 3), "a tie is a soft label of ½")
        XCTAssertEqual(result.jsonValue["annotators"]?["anonymous_judgements"], 12)
    }

    // MARK: - Bad input

    func testBadJudgementsNameTheLineFieldAndIndex() throws {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        func list(_ labels: String) -> String { #"{"prompt": "P", "chosen": "A", "rejected": "B", "annotator_labels": \#(labels)}"# }
        func helpSteer(_ overall: String, _ all: String?) -> String {
            #"{"prompt": "P", "response_1": "A", "response_2": "B", "preference_strength": \#(overall)"#
                + (all.map { #", "all_preferences_unprocessed": \#($0)"# } ?? "") + "}"
        }
        let result = try fixture.audit([
            list(#"[{"annotator": "x", "choice": "chosen"}, {"annotator": "y", "choice": "tie", "strength": 0}]"#),
            list(#"[{"annotator": "x", "choice": "chosen"}, {"choice": "rejected"}]"#),
            list(#"[{"annotator": "x"}]"#),
            list(#"[{"annotator": "x", "choice": "chosen"}, {"annotator": "y", "choice": "maybe"}]"#),
            list(#"[{"annotator": "x", "choice": "chosen", "strength": 5}]"#),
            list(#""x chosen""#),
            list("[]"),
            list(#"[{"annotator": "x", "choice": "chosen"}, {"annotator": "x", "choice": "rejected"}]"#),
            helpSteer("1", nil),
            helpSteer("4", #"[{"strength": 1}]"#),
            helpSteer("1", #"[{"strength": 1}, {"strength": -100, "justification": "neither"}]"#),
            helpSteer("1", #"[{"justification": "no strength"}]"#),
            #"{"prompt": "P", "chosen": "A", "rejected": "B", "annotator": "x", "annotator_labels": [{"annotator": "y", "choice": "chosen"}]}"#,
            #"{"prompt": "P", "chosen": "A", "rejected": "B", "annotator": "x", "label": "maybe"}"#,
            list(#"[{"annotator": "x", "choice": "tie", "strength": 2}]"#),
        ])
        XCTAssertEqual(result.pairs.map(\.line), [1])
        let expected = [
            #"pairs.jsonl:2: field "annotator_labels[1].annotator" is missing"#,
            #"pairs.jsonl:3: field "annotator_labels[0].choice" is missing"#,
            #"pairs.jsonl:4: field "annotator_labels[1].choice" must be one of "chosen", "rejected", "tie", found "maybe""#,
            #"pairs.jsonl:5: field "annotator_labels[0].strength" must be an integer from 1 (slightly better) to 3"#,
            #"pairs.jsonl:6: field "annotator_labels" must be a list"#,
            #"pairs.jsonl:7: field "annotator_labels" is empty"#,
            #"pairs.jsonl:8: field "annotator_labels[1].annotator" "x" already labelled this pair at index 0"#,
            #"pairs.jsonl:9: missing field "all_preferences_unprocessed""#,
            #"pairs.jsonl:10: field "preference_strength" must be an integer from −3"#,
            #"pairs.jsonl:11: field "all_preferences_unprocessed[1].strength" must be an integer from −3 (response 1 much better) to 3 (response 2 much better), found -100"#,
            #"pairs.jsonl:12: field "all_preferences_unprocessed[0].strength" is missing"#,
            #"pairs.jsonl:13: field "annotator" and "annotator_labels" are both given"#,
            #"pairs.jsonl:14: field "label" must be "preference", "tie" or "both_bad""#,
            #"pairs.jsonl:15: field "annotator_labels[0].strength" must be 0 for a tie, found 2"#,
        ]
        result.assertUnreadable(startingWith: expected)
    }

    // MARK: - Clean

    func testCleanWritesListLinesBackAsLists() throws {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        func line(_ prompt: String, _ chosen: String, _ rejected: String, _ labels: [(String, String)]) -> String {
            let entries = labels.map { #"{"annotator": "\#($0.0)", "choice": "\#($0.1)"}"# }
            return #"{"prompt": "\#(prompt)", "chosen": "\#(chosen)", "rejected": "\#(rejected)", "annotator_labels": [\#(entries.joined(separator: ", "))]}"#
        }
        let input = [
            line("P1", "A", "B", [("x", "chosen"), ("y", "rejected"), ("z", "rejected")]),  // the label is the minority's
            line("P2", "C", "D", [("x", "chosen"), ("y", "chosen")]),
            line("P2", "C", "D", [("x", "chosen"), ("y", "chosen")]),                       // an exact duplicate
            line("P4", "E", "F", [("x", "chosen"), ("y", "tie")]),                          // share (1 + ½)/2 = ¾
        ]
        let flipped = try fixture.clean(input, policy: "actions: {annotator_disagreement: flip, exact_duplicate: drop}", name: "flip.jsonl")
        XCTAssertEqual(flipped.summary.rowsIn, 4)
        XCTAssertEqual(flipped.summary.rowsOut + flipped.summary.dropped, 4)
        XCTAssertEqual(flipped.summary.dropped, 1)
        XCTAssertEqual(flipped.summary.flipped, 1)
        // The flipped line swaps its label and keeps what each annotator said: x still prefers A.
        XCTAssertEqual(flipped.text[0], line("P1", "B", "A", [("x", "rejected"), ("y", "chosen"), ("z", "chosen")]))
        XCTAssertEqual(Array(flipped.text[1...]), [input[1], input[3]], "unchanged lines are written back byte for byte")
        XCTAssertEqual(flipped.changes.map { $0["action"] }, ["flip", "drop"])
        // Read again, the flipped line's judgements are the same people's, now agreeing with its label by 2 to 1.
        let reread = try fixture.audit(flipped.text, name: "flipped.jsonl")
        XCTAssertEqual(reread.evidenceOf(.annotatorDisagreement, line: 1)?["same_way"], 2)
        XCTAssertEqual(reread.annotators?.annotators.map(\.name), ["x", "y", "z"])

        let softened = try fixture.clean(input, policy: "actions: {annotator_disagreement: soften}", name: "soften.jsonl")
        XCTAssertEqual(softened.lines.map { $0["chosen_probability"]?.doubleValue }, [1.0 / 3, nil, nil, 0.75])
        XCTAssertEqual(softened.lines.map { $0["annotator_labels"] }, try input.map { try JSONParser.parse($0)["annotator_labels"] })
    }

    func testCleanWritesHelpSteer2LinesBackInTheirOwnLayout() throws {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        // Line 4's label (response 1) is the minority of its annotators (1 to 2); soften's shares are line 1 2/3,
        // line 3 (1 + ½)/3 = ½ and line 4 1/3.
        try fixture.checkHelpSteerClean(Self.helpSteer2, overall: "preference_strength", flippedChosen: "Lima.", judgements: 12,
                                        softened: [2.0 / 3, nil, 0.5, 1.0 / 3], tied: [0, -1, 0, 0])
    }
}
