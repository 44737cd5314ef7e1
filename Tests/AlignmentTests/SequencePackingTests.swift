import Datasets
import Foundation
import XCTest
@testable import Alignment
import LanguageModels
import Tensors

/// SFT packing as TRL 1.16 packs (`packing_strategy` bfd, bfd_split, wrapped) and padding-free batches: packed rows
/// match `trl.data_utils.pack_dataset` row by row (Fixtures/trl/make_packing_fixtures.py), and packed or
/// padding-free batches give the padded batch's loss and gradients.
final class SequencePackingTests: XCTestCase {
    func testBestFitDecreasingMatchesTRL() throws {
        let url = DPOParityTests.fixtures.appendingPathComponent("expected_packing.json")
        let fixture = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let length = try XCTUnwrap(fixture["max_length"] as? Int)
        let lengths = try XCTUnwrap(fixture["lengths"] as? [Int])
        // Sequence i holds ids i·32 + j; its mask marks odd offsets, so the mask must travel with the ids.
        let sequences = lengths.enumerated().map { index, count in
            TokenizedSequence(ids: (0..<count).map { Int32(index * 32 + $0) }, lossMask: (0..<count).map { $0 % 2 == 1 })
        }
        XCTAssertGreaterThan(sequences.count, SequencePacking.mapBatchSize, "the fixture must span two of TRL's map batches")
        for strategy in [SequencePacking.bestFitDecreasing, .bestFitDecreasingSplit] {
            let expected = try XCTUnwrap(fixture[strategy.rawValue] as? [String: Any])
            let ids = try XCTUnwrap(expected["input_ids"] as? [[Int]])
            let sequenceLengths = try XCTUnwrap(expected["seq_lengths"] as? [[Int]])
            let packed = strategy.pack(sequences, length: length)
            XCTAssertEqual(packed.count, ids.count, "\(strategy) rows")
            for (row, (actual, (wantedIds, wantedLengths))) in zip(packed, zip(ids, sequenceLengths)).enumerated() {
                XCTAssertEqual(actual.ids.map(Int.init), wantedIds, "\(strategy) row \(row) ids")
                XCTAssertEqual(actual.sequenceLengths, wantedLengths, "\(strategy) row \(row) seq_lengths")
                XCTAssertEqual(actual.lossMask, actual.ids.map { $0 % 32 % 2 == 1 }, "\(strategy) row \(row) mask")
            }
        }
    }

    func testWrappedCutsOneStreamWithoutBoundaries() {
        let sequences = [[1, 2, 3], [4], [5, 6, 7, 8, 9]].map { TokenizedSequence(ids: $0.map(Int32.init), lossMask: $0.map { $0 != 4 }) }
        let packed = SequencePacking.wrapped.pack(sequences, length: 4)
        XCTAssertEqual(packed.map(\.ids), [[1, 2, 3, 4], [5, 6, 7, 8], [9]])
        XCTAssertEqual(packed.map(\.lossMask), [[true, true, true, false], [true, true, true, true], [true]])
        XCTAssertTrue(packed.allSatisfy { $0.sequenceLengths == nil }, "wrapped rows attend across examples, as in TRL")
    }

    /// The same examples as a padded batch, a padding-free batch and bfd-packed rows: one loss (the mean over the
    /// same target tokens) and the same gradients, since no example sees another or predicts another's first token.
    func testPackedAndPaddingFreeBatchesGiveThePaddedLossAndGradients() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let encoder = try TrainingFixtures.encoder(folder)
        let data = TrainingFixtures.promptCompletions(count: 7)
        func lossAndGradients(_ change: (inout SFTConfiguration) -> Void) throws -> (loss: Float, gradients: [[Float]], rows: Int, items: Int) {
            let policy = try TrainableModel(directory: folder)
            var configuration = SFTConfiguration()
            configuration.training = TrainingFixtures.arguments(folder, steps: 1)
            configuration.maximumLength = 40
            change(&configuration)
            let trainer = try SFTTrainer(configuration: configuration, policy: policy, encoder: encoder, train: data)
            var generator = SeededGenerator(seed: 1)
            let rows = Array(0..<trainer.exampleCount)
            let (loss, _) = try trainer.loss(examples: rows, generator: &generator)
            loss.backward()
            return (loss.item, policy.model.parameters().map { $0.grad?.scalars ?? [] }, trainer.exampleCount,
                    try XCTUnwrap(trainer.lossItemCount(examples: rows)))
        }
        let padded = try lossAndGradients { _ in }
        let variants = [
            ("padding_free", try lossAndGradients { $0.paddingFree = true }),
            ("packing bfd", try lossAndGradients { $0.packing = true }),
            ("packing bfd_split", try lossAndGradients { $0.packing = true; $0.packingStrategy = .bestFitDecreasingSplit }),
        ]
        XCTAssertEqual(padded.rows, 7)
        XCTAssertLessThan(variants[1].1.rows, 7, "bfd packs several examples per row")
        for (name, variant) in variants {
            XCTAssertEqual(variant.items, padded.items, "\(name): the same target tokens")
            XCTAssertEqual(variant.loss, padded.loss, accuracy: 1e-5 * abs(padded.loss), name)
            for (index, (a, b)) in zip(variant.gradients, padded.gradients).enumerated() {
                let scale = max(b.map(abs).max() ?? 0, 1e-6)
                XCTAssertLessThan(zip(a, b).map { abs($0 - $1) / scale }.max() ?? 0, 1e-4, "\(name) parameter \(index)")
            }
        }
    }

    /// A padding-free batch is one row: its segments restart positions and never predict across a boundary.
    func testPaddingFreeBatchIsOneRowWithRestartingPositions() {
        let rows = [TokenizedSequence(ids: [1, 2, 3], lossMask: [true, true, true]),
                    TokenizedSequence(ids: [4, 5, 6, 7], lossMask: [false, true, true, true], sequenceLengths: [1, 3])]
        let batch = CausalBatch(rows, padding: 0, paddingFree: true)
        XCTAssertEqual(batch.batch, 1)
        XCTAssertEqual(batch.ids, [1, 2, 3, 4, 5, 6, 7])
        XCTAssertEqual(batch.positions, [0, 1, 2, 0, 0, 1, 2])
        XCTAssertEqual(batch.segmentStarts, [0, 0, 0, 3, 4, 4, 4])
        XCTAssertEqual(batch.targets, [2, 3, -100, -100, 6, 7, -100])
        XCTAssertEqual(rows.map(\.targetCount), [2, 2])
    }

    /// TRL's default packing is bfd: a config with packing and no packing_strategy imports and runs as bfd.
    func testPackingWithoutStrategyImportsAsBFD() throws {
        let keys = SFTConfiguration.keys
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("trl-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: url) }
        try "packing: true\n".write(to: url, atomically: true, encoding: .utf8)
        let config = try TrainingRecipe(file: url.path, allowedKeys: keys + TrainingRecipe.modelKeys)
        let imported = try TRLImport(trainer: "sft", config: config, charterDefaults: try TrainingRecipe(allowedKeys: keys).effective(SFTConfiguration()))
        XCTAssertNil(imported.values["packing_strategy"], "TRL's default (bfd) is Charter's")
        let configuration = try config.decode(SFTConfiguration.self)
        XCTAssertEqual(configuration.packingStrategy, .bestFitDecreasing)
        XCTAssertTrue(configuration.effectivePaddingFree, "TRL's SFTTrainer turns padding_free on with bfd packing")
    }
}
