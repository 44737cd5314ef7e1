import Foundation
import LanguageModels
import Reports
import ToyWorld
import XCTest
@testable import Oversight

/// The weak-to-strong experiment: its generated tasks and a reduced run.
final class WeakToStrongTests: XCTestCase {
    func testHarmfulnessSplitsAreSeededBalancedAndLabelledByTheWorld() {
        let splits = WeakToStrongTask.harmfulness.splits(seed: 3, perIntent: 2)
        let world = ToyWorld(seed: 3)
        XCTAssertEqual(splits.test.count, 2 * world.intents.count)
        XCTAssertEqual(splits.test.filter(\.label).count, 2 * world.harmfulIntents.count)
        XCTAssertEqual(WeakToStrongTask.harmfulness.splits(seed: 3, perIntent: 2).heldOut, splits.heldOut, "same seed, same examples")
        XCTAssertNotEqual(splits.heldOut, splits.test, "the splits are separate draws")
        XCTAssertNotEqual(WeakToStrongTask.harmfulness.splits(seed: 4, perIntent: 2).test, splits.test)
        // The weak supervisor's ground truth covers the world's training intents only; the other splits every intent.
        let heldOutIntents = Set(world.intents.filter { $0.split == .heldOut }.map(\.id))
        XCTAssertEqual(heldOutIntents.count, 8)
        XCTAssertTrue(splits.weakTraining.allSatisfy { !heldOutIntents.contains($0.kind) })
        XCTAssertEqual(Set(splits.heldOut.map(\.kind)).intersection(heldOutIntents), heldOutIntents)
        for example in splits.all {
            XCTAssertEqual(example.label, world.intent(example.kind)?.isHarmful, example.first)
            XCTAssertNil(example.second)
        }
    }

    func testRewardPairsAreRankedByTheGroundTruthJudge() {
        let splits = WeakToStrongTask.rewardModelling.splits(seed: 2, perIntent: 3)
        XCTAssertGreaterThan(splits.test.count, 80)
        let firstBetter = Double(splits.all.filter(\.label).count) / Double(splits.all.count)
        XCTAssertTrue((0.35...0.65).contains(firstBetter), "the better response comes first about half the time: \(firstBetter)")
        var verdicts = Set<String>()
        for example in splits.all {
            let second = try? XCTUnwrap(example.second)
            XCTAssertNotEqual(example.first, second)
            // The kind names both verdicts; the label says which one the judge ranks higher.
            let parts = example.kind.split(separator: ":", maxSplits: 1)[1].components(separatedBy: " vs ").map { $0.trimmingCharacters(in: .whitespaces) }
            XCTAssertEqual(parts.count, 2, example.kind)
            verdicts.formUnion(parts)
            let harmful = ToyWorld(seed: 2).intent(String(example.kind.split(separator: ":")[0]))?.isHarmful ?? false
            let rank = parts.map { WeakToStrongTask.quality(Verdict(rawValue: $0)!, harmfulRequest: harmful) }
            XCTAssertNotEqual(rank[0], rank[1], example.kind)
            XCTAssertEqual(example.label, rank[0] > rank[1], example.kind)
        }
        XCTAssertEqual(verdicts, Set(Verdict.allCases.map(\.rawValue)), "every verdict occurs in some pair")
    }

    func testPerformanceGapRecovered() {
        XCTAssertEqual(WeakToStrongOutcome.gapRecovered(student: 0.8, weak: 0.7, ceiling: 0.9)!, 0.5, accuracy: 1e-12)
        XCTAssertNil(WeakToStrongOutcome.gapRecovered(student: 0.8, weak: 0.9, ceiling: 0.9))
    }

    func testReducedRunBeatsTheWeakModelWithTheCeilingAndWritesTheReport() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("charter-weak-to-strong-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let configuration = WeakToStrongConfiguration.reduced
        let outcome = try WeakToStrong.run(configuration, task: .harmfulness, seed: 1, folder: folder.appendingPathComponent("seed-1"))
        for accuracy in [outcome.weak, outcome.weakToStrong, outcome.weakToStrongConfidence, outcome.ceiling, outcome.weakLabelAccuracy] {
            XCTAssertTrue((0...1).contains(accuracy), "\(accuracy)")
            XCTAssertEqual(accuracy * Double(outcome.testExamples), (accuracy * Double(outcome.testExamples)).rounded(), accuracy: 1e-9)
        }
        XCTAssertGreaterThan(outcome.ceiling, outcome.weak, "the strong model trained on ground truth beats the weak supervisor")
        let results = WeakToStrongResults(configuration: configuration, outcomes: [outcome])
        XCTAssertEqual(results.tasks.count, 1)
        try WeakToStrongReport.write(results, to: folder)
        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("Test accuracy by model"))
        let decoded = try JSONDecoder().decode(WeakToStrongResults.self, from: Data(contentsOf: folder.appendingPathComponent(ResultsFile.name)))
        XCTAssertEqual(decoded, results)
    }

    /// The experiment's main effect at reduced size: linear-probe students taught by the weak model's labels beat it,
    /// and with the confidence loss recover at least 30% of the gap to the ceiling, at two seeds. (Measured with
    /// `charter experiment weak-to-strong --head-only --tasks harmfulness --strong-pretraining-steps 100 --per-intent 3`:
    /// the confidence student is above the weak model at each of seeds 1–8, by 1 to 15 points; seed 1 gives weak 91.9%,
    /// confidence student 97.0%, ceiling 100%; seed 2 83.8%, 98.0%, 98.0%; the same on the avx512, avx2 and portable
    /// kernel paths.)
    func testHeadOnlyStudentsRecoverTheGapWithTheConfidenceLoss() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("charter-weak-to-strong-effect-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = WeakToStrongConfiguration()
        configuration.headOnlyStudents = true
        configuration.perIntent = 3
        configuration.strongPretrainingSteps = 100
        for seed: UInt64 in [1, 2] {
            let outcome = try WeakToStrong.run(configuration, task: .harmfulness, seed: seed, folder: folder.appendingPathComponent("seed-\(seed)"))
            let summary = "seed \(seed): weak \(outcome.weak), weak-to-strong \(outcome.weakToStrong), confidence \(outcome.weakToStrongConfidence), ceiling \(outcome.ceiling)"
            XCTAssertGreaterThanOrEqual(outcome.weakToStrongConfidence, outcome.weak + 0.03, summary)
            XCTAssertGreaterThan(outcome.weakToStrong, outcome.weak, summary)
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(outcome.performanceGapRecoveredConfidence, summary), 0.3, summary)
        }
    }

    /// `headOnlyStudents`: the students and the ceiling keep every trunk weight of the pretrained strong model bit for
    /// bit and move only their head; the weak supervisor is still fine-tuned whole.
    func testHeadOnlyStudentsTrainOnlyTheHead() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("charter-weak-to-strong-head-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = WeakToStrongConfiguration.reduced
        configuration.headOnlyStudents = true
        let seedFolder = folder.appendingPathComponent("seed-1")
        let outcome = try WeakToStrong.run(configuration, task: .harmfulness, seed: 1, folder: seedFolder)
        XCTAssertTrue((0...1).contains(outcome.weakToStrong))
        func parameters(_ name: String) throws -> [String: [Float]] {
            let model = try SequenceClassifier.load(directory: seedFolder.appendingPathComponent(name), seed: 1)
            return Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.tensor.scalars) })
        }
        let pretrained = try parameters("strong-pretrained")
        for student in ["weak-to-strong", "weak-to-strong-confidence", "ceiling"] {
            let trained = try parameters(student)
            let trunk = trained.keys.filter { !$0.hasPrefix("score.") }
            XCTAssertGreaterThan(trunk.count, 10, student)
            for name in trunk {
                XCTAssertTrue(trained[name]?.map(\.bitPattern) == pretrained[name]?.map(\.bitPattern), "\(student): \(name) moved")
            }
            XCTAssertTrue(try XCTUnwrap(trained["score.weight"]).contains { $0 != 0 }, "\(student): the head left zero")
        }
        let weakInitial = try parameters("weak-initial"), weak = try parameters("weak")
        XCTAssertTrue(weak.contains { name, values in !name.hasPrefix("score.") && values != weakInitial[name] }, "the weak model is fine-tuned whole")
    }
}
