import Datasets
import Foundation
import JSON
import XCTest
@testable import Annotation

/// Writes preference pairs as JSONL in a fresh folder; shared by the Annotation tests.
final class Scratch {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("annotate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// `count` standard pairs "prompt i" / "good i" / "bad i", or the given lines.
    @discardableResult
    func pairs(_ name: String, count: Int = 0, lines: [String]? = nil) throws -> URL {
        let url = folder.appendingPathComponent(name)
        let text = lines ?? (0..<count).map { "{\"prompt\": \"prompt \($0)\", \"chosen\": \"good \($0)\", \"rejected\": \"bad \($0)\"}" }
        try (text.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func store() throws -> AnnotationStore { try AnnotationStore(path: path("labels.sqlite")) }
}

final class AnnotationStoreTests: XCTestCase {
    func testImportIsIdempotentAndReadsEveryPreferenceFormat() throws {
        let scratch = try Scratch()
        let store = try scratch.store()
        XCTAssertEqual(try store.journalMode(), "wal")
        let url = try scratch.pairs("pairs.jsonl", count: 5)
        XCTAssertEqual(try store.importTasks(from: url), .init(read: 5, added: 5))
        XCTAssertEqual(try store.importTasks(from: url), .init(read: 5, added: 0))
        // The same pair with chosen and rejected swapped is the same task; an implicit-prompt conversational pair is new.
        let swapped = try scratch.pairs("swapped.jsonl", lines: ["{\"prompt\": \"prompt 0\", \"chosen\": \"bad 0\", \"rejected\": \"good 0\"}"])
        XCTAssertEqual(try store.importTasks(from: swapped), .init(read: 1, added: 0))
        let implicit = try scratch.pairs("implicit.jsonl", lines: [
            "{\"chosen\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello!\"}], "
                + "\"rejected\": [{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Go away.\"}]}",
        ])
        XCTAssertEqual(try store.importTasks(from: implicit), .init(read: 1, added: 1))
        XCTAssertEqual(try store.taskCount(), 6)
        // Reopening the file sees the same tasks.
        XCTAssertEqual(try scratch.store().taskCount(), 6)
    }

    func testImportErrorsNameTheLine() throws {
        let scratch = try Scratch()
        let store = try scratch.store()
        let bad = try scratch.pairs("bad.jsonl", lines: ["{\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": \"c\"}", "{\"prompt\": \"a\", \"chosen\": 3, \"rejected\": \"c\"}"])
        XCTAssertThrowsError(try store.importTasks(from: bad)) { error in
            XCTAssertTrue("\(error)".contains("bad.jsonl:2"), "\(error)")
        }
        let sft = try scratch.pairs("sft.jsonl", lines: ["{\"prompt\": \"a\", \"completion\": \"b\"}"])
        XCTAssertThrowsError(try store.importTasks(from: sft)) { error in
            XCTAssertTrue("\(error)".contains("sft.jsonl:1") && "\(error)".contains("preference pairs"), "\(error)")
        }
        XCTAssertEqual(try store.taskCount(), 0, "a file with a bad line imports nothing")
    }

    /// k-way overlap: with K = 2 and three annotators, every task gets exactly two distinct annotators, and queues
    /// end when every task is full.
    func testOverlapGivesEachTaskKDistinctAnnotators() throws {
        let scratch = try Scratch()
        let store = try scratch.store()
        try store.importTasks(from: scratch.pairs("pairs.jsonl", count: 9))
        let annotators = try ["ann", "bo", "cy"].map { try store.invite($0).annotator.id }
        var byTask: [String: [Int64]] = [:]
        var progress = true
        while progress {
            progress = false
            for annotator in annotators {
                guard let assignment = try store.next(for: annotator, overlap: 2, goldEvery: 0).assignment else { continue }
                // A reload shows the same task.
                XCTAssertEqual(try store.next(for: annotator, overlap: 2, goldEvery: 0).assignment, assignment)
                XCTAssertTrue(try store.record(Judgement(taskID: assignment.task.id, verdict: .prefer, strength: 1), annotator: annotator))
                XCTAssertFalse(try store.record(Judgement(taskID: assignment.task.id, verdict: .prefer, strength: 1), annotator: annotator),
                               "an assignment takes one judgement")
                byTask[assignment.task.id, default: []].append(annotator)
                progress = true
            }
        }
        XCTAssertEqual(byTask.count, 9)
        for (_, judges) in byTask { XCTAssertEqual(Set(judges).count, 2) }
        for annotator in annotators {
            let state = try store.next(for: annotator, overlap: 2, goldEvery: 0)
            XCTAssertNil(state.assignment)
            XCTAssertEqual(state.remaining, 0)
        }
        XCTAssertEqual(try store.judgements().count, 18)
    }

    func testGoldQuestionsAreMixedInAndSidesAreRandomised() throws {
        let scratch = try Scratch()
        let store = try scratch.store()
        try store.importTasks(from: scratch.pairs("pairs.jsonl", count: 40))
        try store.importTasks(from: scratch.pairs("gold.jsonl", lines: (0..<5).map { "{\"prompt\": \"gold \($0)\", \"chosen\": \"right\", \"rejected\": \"wrong\"}" }), gold: true)
        XCTAssertEqual(try store.taskCount(gold: true), 5)
        let annotator = try store.invite("ann").annotator.id
        var gold: [Int] = [], swapped = 0, position = 0
        var first = try store.next(for: annotator, overlap: 1, goldEvery: 4)
        XCTAssertEqual(first.judged + first.remaining, 40)
        while let assignment = first.assignment {
            position += 1
            if assignment.task.isGold { gold.append(position) }
            if assignment.swapped { swapped += 1 }
            XCTAssertEqual(assignment.swapped, AnnotationStore.swapped(annotator: annotator, task: assignment.task.id))
            // The first two gold questions answered right (first, the known better response, preferred), the rest wrong.
            let judgement = assignment.task.isGold
                ? Judgement(taskID: assignment.task.id, verdict: .prefer, strength: gold.count <= 2 ? 1 : -2)
                : Judgement(taskID: assignment.task.id, verdict: .tie, strength: 0)
            try store.record(judgement, annotator: annotator)
            first = try store.next(for: annotator, overlap: 1, goldEvery: 4)
        }
        XCTAssertEqual(gold, [4, 8, 12, 16, 20], "every fourth task is gold until the gold questions run out")
        XCTAssertEqual(position, 45)
        XCTAssertTrue((10...35).contains(swapped), "left/right is a coin flip per task (\(swapped) of 45 swapped)")
        let stored = try store.judgements()
        XCTAssertEqual(stored.filter(\.isGoldTask).count, 5)
        XCTAssertEqual(stored.map(\.swapped).filter { $0 }.count, swapped, "the shown order is recorded with each judgement")
        let summary = try XCTUnwrap(LabelStatistics(stored).annotators.first)
        XCTAssertEqual(summary.goldAnswered, 5)
        XCTAssertEqual(summary.goldCorrect, 2)
        XCTAssertEqual(summary.judgements, 45)
    }

    func testInvitesAreOnePerPerson() throws {
        let scratch = try Scratch()
        let store = try scratch.store()
        let (token, annotator) = try store.invite("Ada")
        XCTAssertEqual(try store.annotator(token: token), annotator)
        XCTAssertThrowsError(try store.invite("Ada")) { XCTAssertEqual($0 as? AnnotationError, .duplicateAnnotator("Ada")) }
        let (reissued, again) = try store.invite("Ada", reissue: true)
        XCTAssertEqual(again.id, annotator.id)
        XCTAssertNil(try store.annotator(token: token), "the old link stops working")
        XCTAssertEqual(try store.annotator(token: reissued)?.name, "Ada")
        XCTAssertNil(try store.annotator(token: "not a token"))
        XCTAssertThrowsError(try store.invite("   "))
    }
}
