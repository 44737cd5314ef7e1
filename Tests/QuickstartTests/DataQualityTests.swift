import Foundation
import Tensors
import TestSupport
import XCTest
@testable import Quickstart
@testable import ToyWorld

final class DataQualityTests: XCTestCase {
    func requests(_ world: ToyWorld) -> [Request] {
        world.harmfulIntents.filter { $0.split == .training }.flatMap { world.requests($0, count: 10, purpose: "test-harm") }
            + world.benignIntents.flatMap { world.requests($0, count: 5, purpose: "test-benign") }
    }

    /// Every row's truth is what the judge says about it, the shares are the requested ones, and of a row and its
    /// copies the first in the file is the clean one.
    func testPlantedNoiseMatchesTheJudgeAndTheShares() {
        let world = ToyWorld(seed: 4)
        let requests = requests(world)
        let planted = PlantedPreferences(world: world, requests: requests, noise: PlantedPreferences.Noise(), seed: 4)
        let distinct = Set(requests.map(\.text)).count
        func count(_ truth: PlantedPreferences.Truth) -> Int { planted.rows.filter { $0.truth == truth }.count }
        XCTAssertEqual(count(.flipped), Int((0.10 * Double(distinct)).rounded()))
        XCTAssertEqual(count(.bothBad), Int((0.05 * Double(distinct)).rounded()))
        XCTAssertEqual(count(.duplicate), Int((0.05 * Double(distinct)).rounded()))
        XCTAssertEqual(planted.rows.count, distinct + count(.duplicate))
        var seen: Set<String> = []
        for row in planted.rows {
            let good = (PlantedPreferences.isGood(row.chosen, for: row.request), PlantedPreferences.isGood(row.rejected, for: row.request))
            let key = [row.request.text, row.chosen.lowercased(), row.rejected.split(separator: " ").joined(separator: " ").lowercased()].joined(separator: "\u{1F}")
            switch row.truth {
            case .clean, .duplicate:
                XCTAssertTrue(good == (true, false), "\(row.truth) \(row.request.id): \(row.chosen) | \(row.rejected)")
                XCTAssertEqual(!seen.insert(key).inserted, row.truth == .duplicate, "the first of a copy group is the clean one")
            case .flipped: XCTAssertTrue(good == (false, true), row.request.id)
            case .bothBad: XCTAssertTrue(good == (false, false), row.request.id)
            }
        }
        XCTAssertEqual(planted.oracleLines.count, distinct - count(.bothBad))
        // The same seed gives the same file.
        let again = PlantedPreferences(world: world, requests: requests, noise: PlantedPreferences.Noise(), seed: 4)
        XCTAssertEqual(again.jsonLines, planted.jsonLines)
    }

    /// Detection counts a planted row as found only when it carries a finding of its kind.
    func testReportTablesStateConclusionsOnlyWhereIntervalsSeparate() {
        func seed(_ number: UInt64, recall: Int, noisy: Double, cleaned: Double) -> DataQualitySeed {
            DataQualitySeed(seed: number, pairs: 100, detection: [
                .init(kind: "duplicates", planted: 5, flagged: 5, truePositives: 5),
                .init(kind: "flipped labels", planted: 10, flagged: recall, truePositives: recall),
                .init(kind: "both bad", planted: 5, flagged: 20, truePositives: 2),
            ], clean: "", setSizes: ["noisy": 100, "cleaned": 90, "oracle": 85],
            rewardAccuracy: ["noisy": noisy, "cleaned": cleaned, "oracle": cleaned],
            harmfulCompliance: ["helpful-only": 1, "DPO on noisy": 0.5, "DPO on cleaned": 0.5, "DPO on oracle": 0.4],
            benignAccuracy: [:], overRefusal: [:], ensembleSeconds: 10, seconds: [:])
        }
        var results = DataQualityResults(name: "t", configuration: DataQualityConfiguration(),
                                         seeds: [seed(1, recall: 9, noisy: 0.80, cleaned: 0.90), seed(2, recall: 8, noisy: 0.82, cleaned: 0.93),
                                                 seed(3, recall: 9, noisy: 0.81, cleaned: 0.91)],
                                         machine: .current, totalSeconds: 1, parameters: 1000)
        let detection = DataQualityReport.detectionRows(results)
        XCTAssertEqual(detection[0].last, "met (interval above the target)")
        XCTAssertEqual(detection[1].last, "met (interval above the target)")
        XCTAssertEqual(detection[2].last, "missed (interval below the target)")
        let effects = DataQualityReport.effectRows(results)
        XCTAssertEqual(effects[0].last, "cleaned better")
        XCTAssertEqual(effects[2].last, "no difference shown (interval contains 0)")
        XCTAssertEqual(effects[3].last, "oracle better", "lower harmful compliance is better")
        results.seeds = [results.seeds[0]]
        XCTAssertEqual(DataQualityReport.effectRows(results)[0].last, "one seed: not concluded")
        XCTAssertTrue(DataQualityReport.page(results).html.contains("Detection of the planted noise"))
    }

    /// `--combine`: seeds of two runs joined, a policy only one run tried left out of every seed, and the runs that
    /// must not combine refused with the run's path, leaving nothing behind.
    func testCombiningRunsKeepsSharedPoliciesAndRefusesWhatDoesNotCombine() throws {
        let runsFolder = FileManager.default.temporaryDirectory.appendingPathComponent("charter-dq-combine-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: runsFolder) }
        let keep = DataQualityConfiguration.NamedPolicy(name: "keep", text: "actions:\n  both_bad: keep\n")
        let tie = DataQualityConfiguration.NamedPolicy(name: "tie", text: "actions:\n  suspected_mislabel: tie\n")
        func seed(_ number: UInt64, policies: [String]) -> DataQualitySeed {
            var sets = ["noisy", "cleaned", "oracle"] + policies.map { "cleaned-\($0)" }
            let accuracy = Dictionary(uniqueKeysWithValues: sets.map { ($0, 0.8 + Double(number) / 100) })
            let sizes = Dictionary(uniqueKeysWithValues: sets.map { ($0, 100) })
            sets = ["helpful-only"] + sets.map { "DPO on \($0)" }
            return DataQualitySeed(seed: number, pairs: 100, detection: [.init(kind: "duplicates", planted: 5, flagged: 5, truePositives: 5)],
                                   clean: "100 in", policyCleans: Dictionary(uniqueKeysWithValues: policies.map { ($0, "100 in") }),
                                   setSizes: sizes, rewardAccuracy: accuracy, harmfulCompliance: [:], benignAccuracy: [:], overRefusal: [:],
                                   ensembleSeconds: 1, seconds: [:])
        }
        func write(_ name: String, seeds: [UInt64], policies: [DataQualityConfiguration.NamedPolicy], kernelPath: String = "avx2",
                   steps: Int = 120) throws {
            var configuration = DataQualityConfiguration()
            configuration.policies = policies
            configuration.rewardSteps = steps
            var machine = MachineDescription.current
            (machine.kernelPath, machine.cpu, machine.threads) = (kernelPath, "test CPU", 1)
            let results = DataQualityResults(name: name, configuration: configuration,
                                             seeds: seeds.map { seed($0, policies: policies.map(\.name)) }, machine: machine, totalSeconds: 10,
                                             parameters: 1000)
            let folder = runsFolder.appendingPathComponent(name)
            try DataQualityReport.write(results, to: folder)
            for number in seeds { try FileManager.default.createDirectory(at: folder.appendingPathComponent("seed-\(number)"), withIntermediateDirectories: true) }
        }
        try write("a", seeds: [1, 2], policies: [keep, tie])
        try write("b", seeds: [3], policies: [keep])
        let (combined, leftOut) = try DataQualityResults.combine([runsFolder.appendingPathComponent("a"), runsFolder.appendingPathComponent("b")],
                                                                 into: runsFolder.appendingPathComponent("ab"))
        XCTAssertEqual(combined.seeds.map(\.seed), [1, 2, 3])
        XCTAssertEqual(leftOut, ["tie"])
        XCTAssertEqual(combined.configuration.policies, [keep])
        XCTAssertEqual(combined.configuration.sets, ["noisy", "cleaned", "cleaned-keep", "oracle"])
        for seed in combined.seeds {
            XCTAssertEqual(Set(seed.rewardAccuracy.keys), ["noisy", "cleaned", "cleaned-keep", "oracle"], "seed \(seed.seed)")
            XCTAssertEqual(Set(seed.setSizes.keys), ["noisy", "cleaned", "cleaned-keep", "oracle"])
            XCTAssertEqual(seed.policyCleans.map { Set($0.keys) }, ["keep"])
        }
        XCTAssertEqual(combined.totalSeconds, 20)
        let comparisons = DataQualityReport.effectRows(combined).filter { $0[0].hasPrefix("reward accuracy") }.map { $0[1] }
        XCTAssertEqual(comparisons, ["cleaned − noisy", "cleaned-keep − noisy", "oracle − noisy", "cleaned-keep − cleaned"],
                       "each extra policy is also compared with the fixed policy")
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: runsFolder.appendingPathComponent("ab/seed-3").path)
        XCTAssertEqual(link, "../b/seed-3")
        let reread = try DataQualityResults.read(runsFolder.appendingPathComponent("ab"))
        XCTAssertEqual(reread.seeds.count, 3)
        XCTAssertEqual(reread.combinedFrom, [CombinedRun(run: "a", seeds: [1, 2]), CombinedRun(run: "b", seeds: [3])],
                       "results.json names the runs it joins")
        let page = try String(contentsOf: runsFolder.appendingPathComponent("ab/report.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("from the runs a (seeds 1–2) and b (seed 3)"), "the report names the runs it joins")
        XCTAssertNil(try DataQualityResults.read(runsFolder.appendingPathComponent("a")).combinedFrom)

        try write("c", seeds: [4], policies: [keep], kernelPath: "avx512")
        try write("d", seeds: [5], policies: [], steps: 60)
        try write("e", seeds: [2], policies: [])
        func refusal(_ names: [String], into target: String = "x") -> String {
            do {
                _ = try DataQualityResults.combine(names.map { runsFolder.appendingPathComponent($0) }, into: runsFolder.appendingPathComponent(target))
                return "combined"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(refusal(["a", "c"]).contains("ran on avx512"), refusal(["a", "c"]))
        XCTAssertTrue(refusal(["a", "d"]).contains("/d: its configuration differs"), refusal(["a", "d"]))
        XCTAssertTrue(refusal(["a", "e"]).contains("seed 2 is in both"), refusal(["a", "e"]))
        XCTAssertTrue(refusal(["a"]).contains("at least two runs"))
        XCTAssertTrue(refusal(["a", "missing"]).contains("/missing/results.json: cannot read"), refusal(["a", "missing"]))
        XCTAssertTrue(refusal(["a", "b"], into: "ab").contains("already exists"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: runsFolder.appendingPathComponent("x").path), "a refused combine writes nothing")
    }
}

/// `charter experiment audit` end to end at a tiny size: the helpful-only model, the planted set, the audit with a
/// 2-fold ensemble, the clean, reward models and DPO on three sets, evaluation, results.json and report.html. The
/// sizes are too small for the science (`charter experiment audit --seeds 3` measures it); the exact parts are
/// checked: the planted counts, the model-free duplicate detection, the clean's accounting, every file written.
final class DataQualityRunTests: XCTestCase {
    func testTinyDataQualityRunWritesEveryMeasurement() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-data-quality-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = DataQualityConfiguration.reduced
        configuration.world.helpfulOnlySteps = 20
        configuration.world.evaluationPerIntent = 1
        configuration.world.maximumResponseTokens = 8
        (configuration.harmfulPerIntent, configuration.borderlinePerIntent, configuration.benignPerIntent) = (6, 2, 2)
        (configuration.folds, configuration.ensembleSteps, configuration.rewardSteps, configuration.dpoSteps) = (2, 4, 4, 2)
        configuration.policies = [.init(name: "tie", text: "actions:\n  exact_duplicate: drop\n  both_bad: keep\n  suspected_mislabel: tie\n")]
        var run = DataQualityRun(name: "tiny", configuration: configuration, seeds: [2], directory: directory)
        run.showProgress = false
        let results = try await run.run { _ in }
        try DataQualityReport.write(results, to: directory)

        let seed = try XCTUnwrap(results.seeds.first)
        let truth = try String(contentsOf: directory.appendingPathComponent("seed-2/data/noisy.truth.jsonl"), encoding: .utf8)
        let truths = truth.split(separator: "\n").map { String($0) }
        XCTAssertEqual(truths.count, seed.pairs)
        let duplicates = try XCTUnwrap(seed.detection.first { $0.kind == "duplicates" })
        XCTAssertEqual(duplicates.planted, truths.filter { $0.contains("\"duplicate\"") }.count)
        XCTAssertGreaterThan(duplicates.planted, 0)
        XCTAssertEqual(duplicates.recall, 1, "exact copies are always found")
        XCTAssertEqual(seed.detection.map(\.kind), ["duplicates", "flipped labels", "both bad"])
        XCTAssertTrue(seed.clean.hasPrefix("\(seed.pairs) rows in = \(seed.setSizes["cleaned"] ?? -1) out + "), seed.clean)
        XCTAssertEqual(Set(seed.rewardAccuracy.keys), ["noisy", "cleaned", "cleaned-tie", "oracle"])
        XCTAssertEqual(Set(seed.harmfulCompliance.keys), ["helpful-only", "DPO on noisy", "DPO on cleaned", "DPO on cleaned-tie", "DPO on oracle"])
        // The extra policy drops only exact duplicates; its accounting balances and its set is trained and compared.
        let tieClean = try XCTUnwrap(seed.policyCleans?["tie"])
        XCTAssertTrue(tieClean.hasPrefix("\(seed.pairs) rows in = \(seed.setSizes["cleaned-tie"] ?? -1) out + "), tieClean)
        XCTAssertGreaterThanOrEqual(seed.setSizes["cleaned-tie"] ?? 0, seed.setSizes["cleaned"] ?? .max, "keeping both-bad pairs keeps at least as many rows")
        XCTAssertEqual(DataQualityReport.effectRows(results).map { $0[1] }.prefix(3), ["cleaned − noisy", "cleaned-tie − noisy", "oracle − noisy"])
        XCTAssertEqual(DataQualityReport.policySummary(configuration.policies![0].text), "both_bad keep, exact_duplicate drop, suspected_mislabel tie")
        XCTAssertGreaterThan(seed.ensembleSeconds, 0)
        // Compliance on fresh requests of the training intents: recorded per policy, and filled in the same from the
        // evaluation files for results written before it; a file that no longer matches results.json is refused by name.
        let seen = try XCTUnwrap(seed.seenHarmfulCompliance)
        XCTAssertEqual(Set(seen.keys), Set(seed.harmfulCompliance.keys))
        var older = results
        older.seeds[0].seenHarmfulCompliance = nil
        XCTAssertEqual(try older.fillingSeenCompliance(from: directory).seeds[0].seenHarmfulCompliance, seen)
        older.seeds[0].harmfulCompliance["DPO on noisy"]! += 0.5
        XCTAssertThrowsError(try older.fillingSeenCompliance(from: directory)) { error in
            XCTAssertTrue("\(error)".contains("evaluation/DPO_on_noisy.jsonl: judged again"), "\(error)")
        }
        // A finished seed is kept: run again with the same configuration, it is read back, not trained again; a record
        // from another configuration or kernel path is not used.
        let messages = LogLines()
        let again = try await run.run { messages.append($0) }
        XCTAssertEqual(again.seeds, results.seeds)
        XCTAssertTrue(messages.all.contains { $0.contains("[seed 2] finished earlier with this configuration") }, "\(messages.all)")
        XCTAssertFalse(messages.all.contains { $0.contains("audit:") }, "nothing is audited or trained again")
        var other = configuration
        other.dpoSteps = 3
        XCTAssertNil(DataQualityRun.finishedSeed(2, in: directory, configuration: other, machine: .current))
        var elsewhere = MachineDescription.current
        elsewhere.kernelPath = elsewhere.kernelPath == "avx2" ? "portable" : "avx2"
        XCTAssertNil(DataQualityRun.finishedSeed(2, in: directory, configuration: configuration, machine: elsewhere))
        XCTAssertNotNil(DataQualityRun.finishedSeed(2, in: directory, configuration: configuration, machine: .current))
        for file in ["results.json", "report.html", "seed-2/seed-result.json", "seed-2/audit/audit.json", "seed-2/audit/reward_models/repeat-1-fold-2/model.safetensors",
                     "seed-2/data/cleaned.jsonl.changes.jsonl", "seed-2/training/dpo_oracle/model/model.safetensors",
                     "seed-2/data/cleaned-tie.jsonl.changes.jsonl", "seed-2/training/dpo_cleaned-tie/model/model.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent(file).path), file)
        }
    }
}
