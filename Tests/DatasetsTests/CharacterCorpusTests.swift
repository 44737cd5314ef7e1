import Datasets
import Foundation
import Runtime
import XCTest

final class CharacterCorpusTests: XCTestCase {
    /// The vocabulary is the sorted distinct characters and the batches are the windows at SplitMix64's offsets. The
    /// expected values were computed with `Benchmarks/pytorch/bench_train.py`'s `character_corpus` and `SplitMix64`
    /// (seed 1337, context 4), so both engines train on the same batches.
    func testVocabularyAndBatchesAreThoseOfThePyTorchScript() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("to be, or not to be: that is the question.\n".utf8).write(to: file)
        let corpus = try CharacterCorpus(file: file, context: 4)
        XCTAssertEqual(String(String.UnicodeScalarView(corpus.vocabulary)), "\n ,.:abehinoqrstu")
        XCTAssertEqual(corpus.vocabularySize, 17)
        var offsets = SplitMix64(seed: 1337)
        let batch = corpus.batch(rows: 3, offsets: &offsets)
        XCTAssertEqual(batch.inputs, [15, 9, 11, 10, 7, 14, 15, 9, 15, 11, 1, 6])   // offsets 37, 35, 14
        XCTAssertEqual(batch.targets, [9, 11, 10, 3, 14, 15, 9, 11, 11, 1, 6, 7])
    }

    func testAFileTooShortForOneWindowIsRefusedByName() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("short-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("abcde".utf8).write(to: file)
        XCTAssertThrowsError(try CharacterCorpus(file: file, context: 4)) { error in
            XCTAssertTrue("\(error)".hasPrefix(file.lastPathComponent + ": 5 characters"), "\(error)")
        }
        XCTAssertThrowsError(try CharacterCorpus(file: file.appendingPathExtension("missing"), context: 4)) { error in
            XCTAssertTrue("\(error)".contains("cannot read the file"), "\(error)")
        }
    }
}
