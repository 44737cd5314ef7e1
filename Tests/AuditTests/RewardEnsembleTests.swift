import Alignment
import Datasets
import Foundation
import JSON
import TestSupport
import XCTest
@testable import Audit

/// The reward-model findings on a language a tiny model learns in a few steps: the good response says "yes", the
/// bad one "no"; a few labels are flipped and a few pairs have two bad responses.
final class RewardEnsembleTests: XCTestCase {
    /// 60 pairs over distinct prompts; lines 5, 17, 29 and 41 are flipped, lines 11, 23 and 35 are both bad.
    func preferenceFile(_ fixture: AuditFixture) throws -> URL {
        let flipped: Set<Int> = [5, 17, 29, 41], bothBad: Set<Int> = [11, 23, 35]
        let lines = (1...60).map { line -> String in
            let good = "yes yes yes", bad = "no no no", worse = "no no"
            let (chosen, rejected) = flipped.contains(line) ? (bad, good) : bothBad.contains(line) ? (worse, bad) : (good, bad)
            return #"{"prompt": "question \#(line):", "chosen": " \#(chosen)", "rejected": " \#(rejected)"}"#
        }
        return try fixture.file("pairs.jsonl", lines)
    }

    func crossFitted(base: URL, directory: URL, folds: Int = 3, repeats: Int = 1) -> RewardModels {
        var settings = RewardConfiguration()
        settings.training.maximumSteps = 40
        settings.training.learningRate = 3e-3
        settings.training.batchSize = 8
        settings.training.loggingSteps = 40
        settings.training.saveStrategy = "no"
        return .crossFitted(base: base, folds: folds, repeats: repeats, configuration: settings, directory: directory)
    }

    func testCrossFittedEnsembleFlagsFlippedLabelsAndBothBadPairs() throws {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        let base = try TinyModels.folder(in: fixture.directory, name: "base", seed: 3)
        var configuration = AuditConfiguration()
        configuration.rewardModels = crossFitted(base: base, directory: fixture.url("models"), repeats: 2)
        var lines: [String] = []
        let result = try DataAudit(configuration: configuration).run(try preferenceFile(fixture)) { lines.append($0) }

        let summary = try XCTUnwrap(result.rewardModels)
        XCTAssertEqual(summary.models.count, 6, "3 folds × 2 repeats")
        XCTAssertEqual(summary.scoredPairs, 60)
        XCTAssertEqual(summary.unscoredPairs, 0)
        for model in summary.models {
            // Every model scores only pairs it never saw: held-out + training = all pairs.
            XCTAssertEqual(model.trainingPairs + model.scoredPairs, 60, model.name)
            XCTAssertGreaterThan(model.agreement ?? 0, 0.8, model.name)
        }
        XCTAssertEqual(lines.filter { $0.contains("training a reward model") }.count, 6)
        let mislabelled = Set(result.evidence.filter { $0.kinds.contains(.suspectedMislabel) }.map(\.line))
        XCTAssertEqual(mislabelled, [5, 17, 29, 41])
        let bothBad = Set(result.evidence.filter { $0.kinds.contains(.bothBad) }.map(\.line))
        XCTAssertTrue(bothBad.isSuperset(of: [11, 23, 35]), "both-bad found: \(bothBad.sorted())")
        XCTAssertTrue(bothBad.isDisjoint(with: mislabelled), "a flipped pair has one good response")
        let evidence = try XCTUnwrap(result.evidence.first { $0.line == 5 }?.findings.first { $0.kind == .suspectedMislabel }?.evidence)
        XCTAssertEqual(evidence["models"], .integer(2))
        XCTAssertLessThan(evidence["mean_chosen_preference"]?.doubleValue ?? 1, 0.2)

        // audit.json records the ensemble; the saved models score the same pairs again as given reward models.
        try result.write(to: fixture.url("audit"))
        let audit = try JSONParser.parse(try String(contentsOf: fixture.url("audit/audit.json"), encoding: .utf8))
        XCTAssertEqual(audit["reward_models"]?["source"], .string("cross_fitted"))
        XCTAssertEqual(audit["reward_models"]?["folds"], .integer(3))
        XCTAssertEqual(audit["counts"]?["suspected_mislabel"], .integer(4))
        let html = try String(contentsOf: fixture.url("audit/report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("Reward-model findings"))
        XCTAssertFalse(html.contains("at chance"), "every model agrees with more than 80% of its labels")
    }

    func testGivenRewardModelsScoreEveryPair() throws {
        let fixture = try AuditFixture()
        defer { fixture.remove() }
        let base = try TinyModels.folder(in: fixture.directory, name: "base", seed: 3)
        let data = try preferenceFile(fixture)
        var configuration = AuditConfiguration()
        configuration.rewardModels = crossFitted(base: base, directory: fixture.url("models"), folds: 2)
        _ = try DataAudit(configuration: configuration).run(data)
        let saved = fixture.url("models/repeat-1-fold-1")
        configuration.rewardModels = .given([saved])
        let result = try DataAudit(configuration: configuration).run(data)
        let summary = try XCTUnwrap(result.rewardModels)
        XCTAssertEqual(summary.models.map(\.scoredPairs), [60])
        XCTAssertEqual(summary.models.first?.trainingPairs, 0)
        // This model trained on half of the pairs, flipped ones included: it flags only flipped pairs, but may have
        // learnt a flipped pair it saw (which is why the ensemble cross-fits).
        let flagged = Set(result.evidence.filter { $0.kinds.contains(.suspectedMislabel) }.map(\.line))
        XCTAssertTrue(flagged.isSubset(of: [5, 17, 29, 41]) && flagged.count >= 2, "flagged \(flagged.sorted())")
        XCTAssertEqual(result.rewardModels?.models.first?.name, saved.path)

        // On labels that are half one way and half the other, any consistent model is at chance, and the report says so.
        let mixed = try fixture.file("mixed.jsonl", (1...20).map { line in
            line % 2 == 0 ? #"{"prompt": "q\#(line):", "chosen": " yes yes yes", "rejected": " no no no"}"#
                          : #"{"prompt": "q\#(line):", "chosen": " no no no", "rejected": " yes yes yes"}"#
        })
        let atChance = try DataAudit(configuration: configuration).run(mixed)
        XCTAssertEqual(atChance.rewardModels?.models.first?.agreement, 0.5)
        XCTAssertEqual(atChance.rewardModels?.suspectedMislabels, 0, "a model at chance gives no findings")
        XCTAssertEqual(atChance.rewardModels?.bothBad, 0)
        XCTAssertTrue(atChance.evidence.allSatisfy { $0.kinds.allSatisfy { $0 != .suspectedMislabel && $0 != .bothBad } })
        try atChance.write(to: fixture.url("mixed-audit"))
        XCTAssertTrue(try String(contentsOf: fixture.url("mixed-audit/report.html"), encoding: .utf8).contains("at chance, so their scores give no findings"))
    }

    func testFoldsKeepAPromptsCopiesTogetherAndDifferByRepeat() {
        let keys: [UInt64] = (0..<400).map { $0 &* 0x9E37_79B9 }
        let first = keys.map { RewardEnsemble.fold(promptKey: $0, repeatIndex: 0, folds: 4) }
        let second = keys.map { RewardEnsemble.fold(promptKey: $0, repeatIndex: 1, folds: 4) }
        XCTAssertEqual(first, keys.map { RewardEnsemble.fold(promptKey: $0, repeatIndex: 0, folds: 4) })
        XCTAssertNotEqual(first, second)
        for fold in 0..<4 { XCTAssertGreaterThan(first.filter { $0 == fold }.count, 60, "fold \(fold) is far from a quarter") }
    }

    func testSettingsOutOfRangeAreRefused() {
        var configuration = AuditConfiguration()
        configuration.rewardModels = crossFitted(base: URL(fileURLWithPath: "/nonexistent"), directory: URL(fileURLWithPath: "/tmp/x"), folds: 1)
        XCTAssertThrowsError(try DataAudit(configuration: configuration)) { XCTAssertTrue("\($0)".contains("2 to 20 folds"), "\($0)") }
        configuration.rewardModels = .given([])
        XCTAssertThrowsError(try DataAudit(configuration: configuration))
        configuration.rewardModels = nil
        configuration.mislabelConfidence = 0.3
        XCTAssertThrowsError(try DataAudit(configuration: configuration)) { XCTAssertTrue("\($0)".contains("mislabel confidence"), "\($0)") }
    }
}
