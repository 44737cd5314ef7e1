import Audit
import Datasets
import Foundation
import JSON
import XCTest
@testable import Annotation

/// The export's vote shares, ties and both-bad handling, per-annotator lines, and that Datasets and `charter audit`
/// read the files.
final class LabelExportTests: XCTestCase {
    /// Three tasks labelled by three annotators: task 0 first ≫ / first > / tie (share (1 + 0.75 + 0.5)/3 = 0.75),
    /// task 1 second > ×2 and first ≫ (share (0.25 + 0.25 + 1)/3 = 0.5: a tie), task 2 both bad ×2 and second ≫.
    func labelled() throws -> (Scratch, AnnotationStore, [String]) {
        let scratch = try Scratch()
        let store = try scratch.store()
        try store.importTasks(from: scratch.pairs("pairs.jsonl", count: 3))
        let ids = (0..<3).map { AnnotationStore.taskID(prompt: .string("prompt \($0)"), first: .string("good \($0)"), second: .string("bad \($0)")) }
        XCTAssertEqual(Set(try store.taskIDs(limit: 3)), Set(ids))
        let annotators = try ["ann", "bo", "cy"].map { try store.invite($0).annotator.id }
        let votes: [[Judgement]] = [
            [.init(taskID: ids[0], verdict: .prefer, strength: 2), .init(taskID: ids[0], verdict: .prefer, strength: 1),
             .init(taskID: ids[0], verdict: .tie, strength: 0)],
            [.init(taskID: ids[1], verdict: .prefer, strength: -1), .init(taskID: ids[1], verdict: .prefer, strength: -1),
             .init(taskID: ids[1], verdict: .prefer, strength: 2)],
            [.init(taskID: ids[2], verdict: .bothBad, reasons: [.harmful]), .init(taskID: ids[2], verdict: .bothBad, reasons: [.harmful, .offTopic]),
             .init(taskID: ids[2], verdict: .prefer, strength: -2)],
        ]
        var batch: [(annotator: Int64, judgement: Judgement)] = []
        for task in votes { for (index, judgement) in task.enumerated() { batch.append((annotators[index], judgement)) } }
        try store.recordInBulk(batch)
        return (scratch, store, ids)
    }

    func lines(_ url: URL) throws -> [[String: JSONValue]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            guard case let .object(members) = try JSONParser.parse(String(line)) else { throw DatasetError(file: "", line: 0, kind: .invalidJSON, reason: "not an object") }
            return Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        }
    }

    func testVoteSharesTiesAndBothBad() throws {
        let (scratch, store, ids) = try labelled()
        let url = URL(fileURLWithPath: scratch.path("prefs.jsonl"))
        let summary = try LabelExport().write(store, to: url)
        XCTAssertEqual(summary, .init(written: 3, preferences: 1, ties: 1, bothBad: 1, excluded: 0))
        let records = Dictionary(uniqueKeysWithValues: try lines(url).map { ($0["task_id"]?.stringValue ?? "", $0) })
        let first = try XCTUnwrap(records[ids[0]])
        XCTAssertEqual(first["chosen_probability"]?.doubleValue ?? 0, 0.75, accuracy: 1e-12)
        XCTAssertEqual(first["label"], .string("preference"))
        XCTAssertTrue(first["chosen"]?.stringValue?.hasPrefix("good") ?? false)
        XCTAssertEqual(first["votes"], JSONValue(sortingKeys: ["chosen_much_better": .integer(1), "chosen_better": .integer(1), "tie": .integer(1)]))
        let tie = try XCTUnwrap(records[ids[1]])
        XCTAssertEqual(tie["label"], .string("tie"))
        XCTAssertEqual(tie["chosen_probability"]?.doubleValue ?? 0, 0.5, accuracy: 1e-12)
        let bad = try XCTUnwrap(records[ids[2]])
        XCTAssertEqual(bad["label"], .string("both_bad"))
        XCTAssertNil(bad["chosen_probability"])
        XCTAssertEqual(bad["both_bad_reasons"], JSONValue(sortingKeys: ["harmful": .integer(2), "off-topic": .integer(1)]))

        let excluded = URL(fileURLWithPath: scratch.path("strict.jsonl"))
        XCTAssertEqual(try LabelExport(ties: .exclude).write(store, to: excluded).excluded, 2)
        XCTAssertEqual(try lines(excluded).map { $0["task_id"] }, [.string(ids[0])])
        // Datasets reads the strict file as TRL preference data with the soft label.
        let reader = try DatasetReader(url: excluded)
        let example = try XCTUnwrap(reader.next())
        XCTAssertEqual(example.type, .preference)
        XCTAssertEqual(example.chosenProbability ?? 0, 0.75, accuracy: 1e-12)
    }

    func testPerAnnotatorLinesAreWhatAuditReads() throws {
        let (scratch, store, ids) = try labelled()
        let url = URL(fileURLWithPath: scratch.path("labels.jsonl"))
        let summary = try LabelExport(ties: .exclude, perAnnotator: true).write(store, to: url)
        XCTAssertEqual(summary.written, 6, "9 labels less one tie and two both bad")
        let records = try lines(url)
        XCTAssertEqual(Set(records.compactMap { $0["annotator"]?.stringValue }), ["ann", "bo", "cy"])
        let secondTask = records.filter { $0["task_id"] == .string(ids[1]) }
        XCTAssertEqual(secondTask.compactMap { $0["chosen"]?.stringValue }.sorted(), ["bad 1", "bad 1", "good 1"])
        XCTAssertEqual(secondTask.compactMap { $0["chosen_probability"]?.doubleValue }.sorted(), [0.75, 0.75, 1.0])

        // `charter audit` reads the file and finds the annotators and their disagreement.
        let result = try DataAudit(configuration: AuditConfiguration()).run(url)
        XCTAssertTrue(result.unreadable.isEmpty, "\(result.unreadable)")
        XCTAssertEqual(result.pairs.count, 6)
        let agreement = try XCTUnwrap(result.annotators)
        XCTAssertEqual(agreement.annotators.map(\.name), ["ann", "bo", "cy"])
        XCTAssertEqual(agreement.units, 2)
        XCTAssertEqual(agreement.disagreeingUnits, 1, "task 1 splits two to one; task 0 is unanimous once its tie is left out")
        // The flagged per-annotator file is readable too.
        let flagged = URL(fileURLWithPath: scratch.path("flagged.jsonl"))
        XCTAssertEqual(try LabelExport(perAnnotator: true).write(store, to: flagged).written, 9)
        XCTAssertEqual(try DataAudit(configuration: AuditConfiguration()).run(flagged).pairs.count, 9)
    }

    func testNothingToExportIsAnError() throws {
        let scratch = try Scratch()
        let store = try scratch.store()
        XCTAssertThrowsError(try LabelExport().write(store, to: URL(fileURLWithPath: scratch.path("x.jsonl")))) { error in
            XCTAssertEqual(error as? AnnotationError, .noJudgements(path: store.path))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.path("x.jsonl")))
    }

    func testDashboardStatistics() throws {
        let (_, store, _) = try labelled()
        let statistics = LabelStatistics(try store.judgements())
        XCTAssertEqual(statistics.labels, 9)
        XCTAssertEqual(statistics.overlappingTasks, 3)
        // Nominal labels per task: [first, first, tie], [second, second, first], [bad, bad, second].
        let units = [[0, 0, 2], [1, 1, 0], [3, 3, 1]]
        XCTAssertEqual(statistics.nominalAlpha ?? .nan, Agreement.krippendorffAlpha(units, metric: .nominal) ?? 0, accuracy: 1e-12)
        XCTAssertEqual(statistics.ordinalAlpha ?? .nan, Agreement.krippendorffAlpha([[2, 1, 0], [-1, -1, 2], [-2]], metric: .ordinal) ?? 0, accuracy: 1e-12)
        let byName = Dictionary(uniqueKeysWithValues: statistics.annotators.map { ($0.name, $0) })
        // ann's and bo's others split one to one on every task (no majority); cy's others agree and cy never does.
        XCTAssertEqual(byName["ann"]?.majorityCompared, 0)
        XCTAssertNil(byName["ann"]?.majorityAgreement)
        XCTAssertEqual(byName["cy"]?.majorityCompared, 3)
        XCTAssertEqual(byName["cy"]?.majorityAgreed, 0)
        let pair = try XCTUnwrap(statistics.pairs.first { $0.first == "ann" && $0.second == "bo" })
        XCTAssertEqual(pair.shared, 3)
        XCTAssertEqual(pair.kappa ?? .nan, 1, accuracy: 1e-12, "ann and bo label every task alike")
    }
}
