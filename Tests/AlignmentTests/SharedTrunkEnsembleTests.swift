import Datasets
import Foundation
import JSON
import XCTest
@testable import Alignment
import LanguageModels
import Tensors

/// Shared-trunk ensembles: K reward heads on one trunk (`num_labels` K), trained with the sum of the heads' losses and
/// scored with one forward pass.
final class SharedTrunkEnsembleTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    /// Right-padded with the pad token 0 in one batch, so the pooling rule is exercised too.
    static let sequences: [[Int32]] = [[5, 17, 42, 99, 3], [7, 8], [300, 2, 11, 12, 13, 14, 15], [1000]]

    /// A K = 3 folder written by Charter (the TRL fixture's trunk, heads drawn from seeds 11, 12, 13) is what
    /// Fixtures/shared_trunk/make_expected_scores.py loaded with `AutoModelForSequenceClassification`: Charter still
    /// writes exactly those files, and its three scores per sequence equal transformers' logits (batch, 3).
    /// Regenerate with CHARTER_WRITE_FIXTURES=1 swift test --filter SharedTrunkEnsembleTests, then run the script.
    func testThreeHeadFolderScoresAsTransformersDoes() throws {
        let base = try SequenceClassifier.load(directory: Self.fixtures.appendingPathComponent("trl/reward"))
        let trunk = SequenceClassifier(body: base.body, padTokenId: base.padTokenId, headSeeds: [11, 12, 13])
        trunk.labelNames = ["member-1", "member-2", "member-3"]
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("charter-trunk-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: temporary) }
        try trunk.save(to: temporary)
        let committed = Self.fixtures.appendingPathComponent("shared_trunk/reward_k3")
        if ProcessInfo.processInfo.environment["CHARTER_WRITE_FIXTURES"] == "1" {
            try? FileManager.default.removeItem(at: committed)
            try FileManager.default.copyItem(at: temporary, to: committed)
        }
        for name in ["config.json", "model.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: temporary.appendingPathComponent(name)), try Data(contentsOf: committed.appendingPathComponent(name)),
                           "\(name) differs from the committed file that transformers was checked against")
        }
        let loaded = try SequenceClassifier.load(directory: committed, labels: nil)
        XCTAssertEqual(loaded.labelCount, 3)
        XCTAssertEqual(loaded.labelNames, ["member-1", "member-2", "member-3"])
        let expected = try JSONParser.parse(try Data(contentsOf: Self.fixtures.appendingPathComponent("shared_trunk/expected_scores.json")))
        XCTAssertEqual(try XCTUnwrap(expected["ids"]?.arrayValue).map { $0.arrayValue?.compactMap { $0.integerValue.map(Int32.init) } ?? [] }, Self.sequences)
        let reference = try XCTUnwrap(expected["scores"]?.arrayValue).map { $0.arrayValue?.compactMap(\.doubleValue) ?? [] }
        let scores = try loaded.labelScores(Self.sequences, batchSize: Self.sequences.count)
        XCTAssertEqual(scores.map(\.count), [3, 3, 3, 3])
        for (row, referenceRow) in zip(scores, reference) {
            XCTAssertEqual(referenceRow.count, 3)
            for (value, target) in zip(row, referenceRow) { XCTAssertEqual(Double(value), target, accuracy: 1e-5) }
        }
        // A consumer that needs one score refuses the folder, naming num_labels.
        XCTAssertThrowsError(try SequenceClassifier.load(directory: committed)) { XCTAssertTrue("\($0)".contains("num_labels = 3"), "\($0)") }
        XCTAssertThrowsError(try SequenceClassifier.load(directory: committed, labels: 2)) { XCTAssertTrue("\($0)".contains("expected num_labels = 2"), "\($0)") }
    }

    /// Head k's row starts exactly where the separately trained member k's head (seed + k) would.
    func testHeadRowsStartWhereSeparateMembersWould() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let trunk = try SequenceClassifier.load(directory: folder, seed: 40, labels: 3)
        XCTAssertEqual(trunk.score.weight.shape, [3, 32])
        for k in 0..<3 {
            let member = try SequenceClassifier.load(directory: folder, seed: 40 + UInt64(k))
            XCTAssertEqual(Array(trunk.score.weight.scalars[(k * 32)..<((k + 1) * 32)]), member.score.weight.scalars, "row \(k)")
        }
    }

    /// One step's loss on a trunk is the sum of the K heads' losses, each computed on its own by a one-head model with
    /// the same trunk and that head's row (margins, soft labels and centring included); with weights, head k's term
    /// is (1/B) Σᵢ wₖᵢ ℓₖᵢ with ℓₖᵢ that pair's one-head loss.
    func testTrunkLossIsTheSumOfItsHeadsLosses() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let encoder = try TrainingFixtures.encoder(folder)
        var examples = separablePreferences(count: 5, seed: 9)
        examples[0].extras = [JSONValue.Member("margin", .numeric(0.7))]
        examples[2].chosenProbability = 0.8
        var configuration = RewardConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 1)
        configuration.centerRewardsCoefficient = 0.01
        let heads = 3
        let trunk = try SequenceClassifier.load(directory: folder, seed: 5, labels: heads)
        var generator = SeededGenerator(seed: 7)
        trunk.score.weight.assign(Tensor.randomNormal([heads, 32], standardDeviation: 0.5, generator: &generator))
        let weights: [[Float]] = [[1, 0, 2, 1, 0], [0, 3, 1, 1, 0], [1, 1, 1, 1, 1]]
        let trainer = try RewardTrainer(configuration: configuration, model: trunk, sourceDirectory: folder, encoder: encoder, train: examples,
                                        exampleWeights: weights)
        let unweighted = try RewardTrainer(configuration: configuration, model: trunk, sourceDirectory: folder, encoder: encoder, train: examples)
        let batch = trainer.pairs
        var sum = 0.0, weightedSum = 0.0
        for k in 0..<heads {
            let single = SequenceClassifier(body: trunk.body, padTokenId: trunk.padTokenId, headSeeds: [0])
            single.score.weight.assign(Tensor(shape: [1, 32], scalars: Array(trunk.score.weight.scalars[(k * 32)..<((k + 1) * 32)])))
            let head = try RewardTrainer(configuration: configuration, model: single, sourceDirectory: folder, encoder: encoder, train: examples)
            sum += Double(head.compute(batch).0.item)
            for (index, pair) in batch.enumerated() {
                weightedSum += Double(weights[k][index]) * Double(head.compute([pair]).0.item) / Double(batch.count)
            }
        }
        XCTAssertEqual(Double(unweighted.compute(batch).0.item), sum, accuracy: 1e-5)
        let (loss, metrics) = try trainer.loss(examples: Array(batch.indices), generator: &generator)
        XCTAssertEqual(Double(loss.item), weightedSum, accuracy: 1e-5)
        XCTAssertNotEqual(Double(loss.item), sum, accuracy: 1e-3, "the weights must change the loss")
        XCTAssertNotNil(metrics["accuracy/LABEL_2"], "per-head accuracy is logged under the head's label")
    }

    /// A principle's pairs train only its own head: with one-hot weights, a batch of head 0's pairs leaves head 1's
    /// row without gradient, while head 0's row gets one.
    func testAHeadsLossDoesNotReachAnotherHeadsRow() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = RewardConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 1)
        let trunk = try SequenceClassifier.load(directory: folder, seed: 3, labels: 2)
        let examples = separablePreferences(count: 4, seed: 2)
        let trainer = try RewardTrainer(configuration: configuration, model: trunk, sourceDirectory: folder, encoder: try TrainingFixtures.encoder(folder),
                                        train: examples, exampleWeights: [[1, 1, 0, 0], [0, 0, 1, 1]])
        var generator = SeededGenerator(seed: 1)
        let (loss, _) = try trainer.loss(examples: [0, 1], generator: &generator)
        loss.backward()
        let gradient = try XCTUnwrap(trunk.score.weight.grad).scalars
        XCTAssertGreaterThan(gradient[0..<32].map(abs).max() ?? 0, 0)
        XCTAssertEqual(gradient[32..<64].map(abs).max(), 0)
    }

    /// A trained K = 3 trunk: one folder (`num_labels` 3) whose columns are the manifest's members; its members
    /// disagree (the heads start from different seeds); loading it builds one scorer for the three members, whose
    /// standardised scores are the columns of one forward pass; bootstrap counts match the separate members'.
    func testTrainedTrunkMembersDisagreeAndScoreInOneForwardPass() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = RewardConfiguration()
        configuration.training = TrainingFixtures.arguments(folder, steps: 6)
        configuration.training.learningRate = 1e-3
        configuration.training.outputDirectory = folder.appendingPathComponent("ensemble").path
        let examples = separablePreferences(count: 24, seed: 5)
        var runs = 0
        let manifest = try RewardEnsembleTraining.trainSharedTrunk(configuration: configuration, base: folder, chatTemplate: nil, examples: examples,
                                                                   size: 3, bootstrap: true, log: { _ in }) { trainer, arguments in
            runs += 1
            _ = try TrainingLoop(arguments: arguments).run(trainer)
        }
        XCTAssertEqual(runs, 1, "one trunk is trained once")
        let directory = URL(fileURLWithPath: configuration.training.outputDirectory)
        XCTAssertEqual(try RewardEnsembleManifest.load(directory: directory), manifest)
        XCTAssertEqual(manifest.members.map(\.path), ["trunk", "trunk", "trunk"])
        XCTAssertEqual(manifest.members.map(\.column), [0, 1, 2])
        XCTAssertEqual(manifest.members.map(\.seed), [configuration.training.seed, configuration.training.seed + 1, configuration.training.seed + 2])
        XCTAssertTrue(manifest.members.allSatisfy { $0.bootstrap && $0.trainingPairs == 24 }, "a resample has as many pairs as the data")
        XCTAssertEqual(try SequenceClassifier.labelCount(directory: directory.appendingPathComponent("trunk")), 3)

        let encoder = try TrainingFixtures.encoder(folder)
        let rollouts = ["tell me about sun:", "tell me about dog:"].flatMap { prompt in
            [" a kind clear reply", " a rude vague reply"].map { response in
                ScoredRollout(promptIds: encoder.encode(prompt), responseIds: encoder.encode(response), prompt: prompt, response: response,
                              endsWithStopToken: false)
            }
        }
        let ensemble = try EnsembleReward.load(directory: directory, aggregation: .worstCase, sharesTokenizer: true)
        XCTAssertEqual(ensemble.scorers.count, 1, "the three members share one loaded model")
        XCTAssertEqual(ensemble.memberCount, 3)
        let scorer = try XCTUnwrap(ensemble.scorers.first as? RewardModelScorer)
        XCTAssertEqual(scorer.model.labelCount, 3)
        let members = try ensemble.memberScores(rollouts)
        XCTAssertNotEqual(members[0], members[1], "heads trained from different seeds must differ")
        let rows = try scorer.model.labelScores(rollouts.map { $0.promptIds + $0.responseIds })
        for (k, member) in manifest.members.enumerated() {
            for (standardised, row) in zip(members[k], rows) {
                XCTAssertEqual(standardised, (Double(row[k]) - member.rewardMean) / member.rewardStandardDeviation, accuracy: 1e-5)
            }
        }
        let scores = try ensemble.scores(rollouts)
        for column in rollouts.indices { XCTAssertEqual(Double(scores[column]), members.map { $0[column] }.min()!, accuracy: 1e-5) }
        XCTAssertGreaterThan(try XCTUnwrap(ensemble.lastMetrics["objective/ensemble_std"]), 0)
        // The one-member "ensemble" of column 1 alone scores as member 2 did.
        let single = folder.appendingPathComponent("single")
        try FileManager.default.createDirectory(at: single, withIntermediateDirectories: true)
        var second = manifest.members[1]
        second.path = directory.appendingPathComponent("trunk").path
        try RewardEnsembleManifest(members: [second]).write(to: single)
        let alone = try EnsembleReward.load(directory: single, aggregation: .mean, sharesTokenizer: true).memberScores(rollouts)
        for (a, b) in zip(alone[0], members[1]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    /// ensemble.json's column: a member without one on a K-label folder and a column out of range (or on a one-label
    /// folder) are errors naming the file, the field and num_labels; a manifest without columns is read as before.
    func testManifestColumnErrorsNameTheFileAndField() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-columns-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("shared_trunk/reward_k3"), to: directory.appendingPathComponent("trunk"))
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("trl/reward"), to: directory.appendingPathComponent("single"))
        func write(_ members: String) throws {
            try Data("{\"members\": [\(members)]}".utf8).write(to: directory.appendingPathComponent("ensemble.json"))
        }
        func member(_ path: String, column: Int?) -> String {
            "{\"path\": \"\(path)\", \"seed\": 1, \"training_pairs\": 4, \"bootstrap\": false, \"reward_mean\": 0, \"reward_std\": 1"
                + (column.map { ", \"column\": \($0)" } ?? "") + "}"
        }
        try write([member("single", column: nil), member("trunk", column: 2), member("trunk", column: 0)].joined(separator: ","))
        let manifest = try RewardEnsembleManifest.load(directory: directory)
        XCTAssertEqual(manifest.members.map(\.column), [nil, 2, 0])
        let mixed = try EnsembleReward.load(directory: directory, aggregation: .mean, sharesTokenizer: true)
        XCTAssertEqual(mixed.scorers.count, 2)
        XCTAssertEqual(mixed.columns.map(\.scorer), [0, 1, 1])
        XCTAssertEqual(mixed.columns.map(\.column), [0, 2, 0])
        for (members, expected) in [
            (member("trunk", column: nil), "members[0] has no column, but"),
            (member("trunk", column: 3), "members[0].column is 3, but"),
            (member("single", column: 1), "members[0].column is 1, but"),
        ] {
            try write(members)
            XCTAssertThrowsError(try RewardEnsembleManifest.load(directory: directory)) { error in
                XCTAssertTrue("\(error)".contains("ensemble.json") && "\(error)".contains(expected) && "\(error)".contains("num_labels"), "\(error)")
            }
        }
        // The manifest written for separate members has no column key at all (old readers see the old format).
        try RewardEnsembleManifest(members: [.init(path: "single", seed: 1, trainingPairs: 4, bootstrap: false, rewardMean: 0, rewardStandardDeviation: 1)])
            .write(to: directory)
        XCTAssertFalse(try String(contentsOf: directory.appendingPathComponent("ensemble.json"), encoding: .utf8).contains("column"))
    }
}
