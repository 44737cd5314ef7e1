import Alignment
import Datasets
import Foundation
import JSON
import LanguageModels
import TestSupport
import XCTest
@testable import Audit

/// The reference model's relevance vote: what it computes, and how it moves a pair across the mislabel threshold.
final class ReferenceRelevanceTests: XCTestCase {
    func testGapIsTheOwnPromptsLogLikelihoodAdvantageOfChosenOverRejected() throws {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        let folder = try TinyModels.folder(in: fixture.directory, name: "reference", seed: 5)
        let texts = [("question one:", " yes it is", " no"), ("another question:", " maybe so", " never mind that")]
        let examples = texts.enumerated().map { index, text in
            Example(.preference(prompt: .standard(text.0), chosen: .standard(text.1), rejected: .standard(text.2)), line: index + 1)
        }
        let pairs = try examples.map { try XCTUnwrap(try AuditPair($0, file: "pairs.jsonl")) }
        // Two prompts: each response's only other prompt is the other pair's.
        let gaps = try ReferenceRelevance(model: folder).gaps(examples: examples, pairs: pairs) { _ in }
        XCTAssertEqual(gaps.count, 2)

        let model = try PretrainedModel.load(directory: folder)
        let encoder = try ExampleEncoder.load(directory: folder)
        let eos = try XCTUnwrap(encoder.tokenizer.eosToken)
        func logLikelihood(_ prompt: String, _ response: String) throws -> Double {
            let start = encoder.encode(prompt).count
            let values = try model.tokenLogProbabilities([encoder.encode(prompt + response + eos)])[0]
            return values[(start - 1)...].reduce(0) { $0 + Double($1) }
        }
        for row in 0..<2 {
            let (prompt, chosen, rejected) = texts[row], other = texts[1 - row].0
            let expected = (try logLikelihood(prompt, chosen) - logLikelihood(other, chosen))
                - (try logLikelihood(prompt, rejected) - logLikelihood(other, rejected))
            XCTAssertEqual(try XCTUnwrap(gaps[row]), expected, accuracy: 1e-3 * max(1, abs(expected)), "row \(row)")
        }

        // One prompt for every pair: nothing to contrast with, so no votes (and a note says so).
        let same = texts.indices.map { Example(.preference(prompt: .standard("q:"), chosen: .standard(texts[$0].1), rejected: .standard(texts[$0].2)), line: $0 + 1) }
        var notes: [String] = []
        let none = try ReferenceRelevance(model: folder).gaps(examples: same, pairs: try same.map { try XCTUnwrap(try AuditPair($0, file: "f")) }) { notes.append($0) }
        XCTAssertTrue(none.isEmpty)
        XCTAssertTrue(notes.contains { $0.contains("same prompt") }, "\(notes)")
    }

    func testTheVoteJoinsTheModelsMeanBothWays() throws {
        // One informative model over 10 pairs: rows 0–7 clearly agree with their labels; row 8 clearly disagrees
        // (P ≈ 0.018), row 9 mildly (P ≈ 0.27).
        var rewards: [Int: (chosen: Double, rejected: Double)] = [:]
        for row in 0..<8 { rewards[row] = (2, -2) }
        rewards[8] = (-2, 2)
        rewards[9] = (0, 1)
        let scores = [RewardEnsemble.ModelScores(name: "m", trainingPairs: 0, seconds: 0, rewards: rewards)]
        let ensemble = RewardEnsemble(models: .given([]), mislabelConfidence: 0.8, log: { _ in })

        let alone = ensemble.findings(scores, rows: 10).findings
        XCTAssertEqual(Set(alone.filter { $0.value.contains { $0.kind == .suspectedMislabel } }.keys), [8])

        // Row 9's chosen response fits its prompt far worse (gap −24 nats: vote σ(−2) ≈ 0.12, joint ≈ 0.19 ≤ 0.2);
        // row 8's chosen fits better (gap +12: vote ≈ 0.73, joint ≈ 0.37), which clears it.
        let reference = ReferenceRelevance(model: URL(fileURLWithPath: "/unused"), scale: 12)
        let (findings, summary) = ensemble.findings(scores, rows: 10, relevance: .init(reference: reference, gaps: [8: 12, 9: -24], seconds: 1.5))
        XCTAssertEqual(Set(findings.filter { $0.value.contains { $0.kind == .suspectedMislabel } }.keys), [9])
        XCTAssertEqual(summary.suspectedMislabels, 1)
        XCTAssertEqual(summary.reference?.scoredPairs, 2)
        let evidence = try XCTUnwrap(findings[9]?.first { $0.kind == .suspectedMislabel }?.evidence)
        XCTAssertEqual(evidence["relevance_gap"]?.doubleValue ?? 0, -24, accuracy: 1e-12)
        XCTAssertEqual(evidence["relevance_vote"]?.doubleValue ?? 0, 1 / (1 + exp(2.0)), accuracy: 1e-12)
        XCTAssertEqual(evidence["combined_chosen_preference"]?.doubleValue ?? 0, (1 / (1 + exp(1.0)) + 1 / (1 + exp(2.0))) / 2, accuracy: 1e-12)
        XCTAssertEqual(summary.jsonValue["reference"]?["relevance_scale"]?.doubleValue, 12)
        XCTAssertEqual(summary.jsonValue["reference"]?["scored_pairs"], .integer(2))
    }

    func testAReferenceNeedsRewardModelsAndSaneSettings() {
        var configuration = AuditConfiguration()
        configuration.reference = ReferenceRelevance(model: URL(fileURLWithPath: "/nonexistent"))
        XCTAssertThrowsError(try DataAudit(configuration: configuration)) { XCTAssertTrue("\($0)".contains("--ensemble K"), "\($0)") }
        configuration.rewardModels = .given([URL(fileURLWithPath: "/nonexistent")])
        configuration.reference?.scale = 0
        XCTAssertThrowsError(try DataAudit(configuration: configuration)) { XCTAssertTrue("\($0)".contains("relevance scale"), "\($0)") }
        configuration.reference?.scale = 12
        configuration.reference?.otherPrompts = 0
        XCTAssertThrowsError(try DataAudit(configuration: configuration)) { XCTAssertTrue("\($0)".contains("other prompts"), "\($0)") }
    }
}
