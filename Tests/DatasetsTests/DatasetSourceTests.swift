import Foundation
import XCTest
@testable import Datasets

/// Dataset folders and `datasets:` mixtures are read as `datasets.load_dataset` and TRL's `get_dataset` read them:
/// files go to splits by the keywords in their names, several files concatenate in sorted order, fractions keep
/// each dataset's first rows, and what cannot be read here is refused by name.
final class DatasetSourceTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("charter-source-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// Writes `count` SFT rows `{"prompt": "NAME i", "completion": "x"}` to `path` under the test folder.
    @discardableResult
    func write(_ path: String, _ name: String, count: Int) throws -> URL {
        let url = folder.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let lines = (0..<count).map { #"{"prompt": "\#(name) \#($0)", "completion": " x"}"# }
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func prompts(_ dataset: Dataset) -> [String] {
        dataset.examples.map { example in
            guard case let .promptCompletion(.standard(text), _) = example.body else { return "?" }
            return text
        }
    }

    func testSplitKeywordsInFileAndFolderNames() {
        XCTAssertEqual(DatasetSource.splits(of: "train.jsonl"), ["train"])
        XCTAssertEqual(DatasetSource.splits(of: "hh-rlhf_test.jsonl.gz"), ["test"])
        XCTAssertEqual(DatasetSource.splits(of: "data/train-00000-of-00002.jsonl"), ["train"])
        XCTAssertEqual(DatasetSource.splits(of: "data/rejected_only-00000-of-00001.jsonl"), ["rejected_only"])
        XCTAssertEqual(DatasetSource.splits(of: "validation/part0.jsonl"), ["validation"])
        XCTAssertEqual(DatasetSource.splits(of: "trainset.jsonl"), [], "a keyword counts only as a whole word")
        XCTAssertEqual(DatasetSource.splits(of: "train2.jsonl"), ["train"], "digits separate words, as datasets' patterns")
    }

    func testFolderSplitsAndConcatenation() throws {
        try write("hh/data/train-00001-of-00002.jsonl", "b", count: 2)
        try write("hh/data/train-00000-of-00002.jsonl", "a", count: 1)
        try write("hh/data/test-00000-of-00001.jsonl", "t", count: 1)
        try "# card".write(to: folder.appendingPathComponent("hh/README.md"), atomically: true, encoding: .utf8)
        let hh = folder.appendingPathComponent("hh")
        XCTAssertEqual(prompts(try DatasetSource.load(hh, split: "train")), ["a 0", "b 0", "b 1"])
        XCTAssertEqual(prompts(try DatasetSource.load(hh, split: "test")), ["t 0"])
        XCTAssertThrowsError(try DatasetSource.load(hh, split: "validation")) { error in
            XCTAssertTrue("\(error)".contains(#"no file for split "validation"; its files are named for test, train"#), "\(error)")
        }
    }

    func testUnnamedFilesAreTheTrainSplit() throws {
        try write("plain/one.jsonl", "one", count: 1)
        try write("plain/two.jsonl", "two", count: 1)
        XCTAssertEqual(prompts(try DatasetSource.load(folder.appendingPathComponent("plain"), split: "train")), ["one 0", "two 0"])
        XCTAssertThrowsError(try DatasetSource.load(folder.appendingPathComponent("plain"), split: "test"))
    }

    func testFolderOfParquetIsRefusedWithWhatToDo() throws {
        let parquet = folder.appendingPathComponent("pq/train-00000-of-00001.parquet")
        try FileManager.default.createDirectory(at: parquet.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data([0x50, 0x41, 0x52, 0x31]).write(to: parquet)
        XCTAssertThrowsError(try DatasetSource.load(folder.appendingPathComponent("pq"))) { error in
            XCTAssertTrue("\(error)".contains("only train-00000-of-00001.parquet"), "\(error)")
            XCTAssertTrue("\(error)".contains("to_json"), "\(error)")
        }
    }

    func testMixtureWithDataFilesAndFractions() throws {
        try write("a.jsonl", "a", count: 10)
        try write("b/train.jsonl", "b", count: 4)
        try write("b/test.jsonl", "bt", count: 2)
        let entries: [Any] = [
            ["path": "json", "data_files": ["train": "a.jsonl"], "split": "train", "fraction": 0.5] as [String: Any],
            ["path": "b", "fraction": 0.5] as [String: Any],
        ]
        let mixture = try DatasetMixture(entries, relativeTo: folder)
        // Shares ½ and ½; b has 4 rows, so the mixture holds 8: the first 4 of each.
        XCTAssertEqual(prompts(try mixture.load(source: folder)), ["a 0", "a 1", "a 2", "a 3", "b 0", "b 1", "b 2", "b 3"])
        let fromFolder = try DatasetMixture([["path": "json", "data_dir": "b", "data_files": NSNull(), "split": "test"] as [String: Any]], relativeTo: folder)
        XCTAssertEqual(prompts(try fromFolder.load(source: folder)), ["bt 0", "bt 1"], "data_dir's test split (data_files: null)")
        let whole = try DatasetMixture([["path": "json", "data_files": ["a.jsonl", "b/test.jsonl"]] as [String: Any]], relativeTo: folder)
        XCTAssertEqual(try whole.load(source: folder).examples.count, 12)
    }

    func testFractionCountsFollowTRL() {
        // TRL: weights normalised, total = min(len / weight), first round(weight * total) rows.
        XCTAssertEqual(DatasetMixture.fractionCounts(sizes: [100, 10], fractions: [3, 1]), [30, 10])
        XCTAssertEqual(DatasetMixture.fractionCounts(sizes: [100, 100], fractions: [1, 0]), [100, 0])
        XCTAssertEqual(DatasetMixture.fractionCounts(sizes: [5, 5], fractions: [0.5, 0.5]), [5, 5])
    }

    func testMixtureRefusesWhatItCannotRead() {
        func message(_ value: Any) -> String {
            do { _ = try DatasetMixture(value, relativeTo: folder); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertTrue(message([["path": "trl-lib/ultrafeedback"]]).contains("datasets[0].path: trl-lib/ultrafeedback is not a local file or folder"))
        XCTAssertTrue(message([["path": "json"]]).contains("datasets[0].data_files: path: json needs data_files"))
        XCTAssertTrue(message([["path": "json", "data_files": "a.jsonl", "columns": ["prompt"]]]).contains("datasets[0].columns"))
        XCTAssertTrue(message([["path": "json", "data_files": "a.jsonl", "fraction": 1], ["path": "json", "data_files": "b.jsonl"]])
            .contains("fraction must be set on every entry or on none"))
        XCTAssertTrue(message([["path": "json", "data_files": "a.jsonl", "spilt": "train"]]).contains("datasets[0].spilt: unknown key"))
        XCTAssertTrue(message("a.jsonl").contains("must be a non-empty list"))
    }
}
