import Foundation
import XCTest
@testable import Oversight

/// The reading tasks of the oversight protocols: the seeded generator, the QuALITY importer and quote verification.
final class ReadingTaskTests: XCTestCase {
    func testGeneratedQuestionsNeedThePassageAndHavePlausibleDistractors() {
        let tasks = ReadingTask.generate(seed: 5, passages: 4)
        XCTAssertEqual(tasks.count, 12)
        XCTAssertEqual(ReadingTask.generate(seed: 5, passages: 4), tasks, "same seed, same tasks")
        XCTAssertNotEqual(ReadingTask.generate(seed: 6, passages: 4), tasks)
        XCTAssertEqual(Set(tasks.map(\.id)).count, tasks.count)
        for task in tasks {
            let name = task.question.components(separatedBy: " ").first { $0.first?.isUppercase == true && !["Where", "What", "Which"].contains($0) }!
                .replacingOccurrences(of: "'s", with: "").replacingOccurrences(of: "?", with: "")
            let correct = task.options[task.correctOption], distractor = task.options[1 - task.correctOption]
            XCTAssertNotEqual(correct, distractor)
            // The passage states the correct value of the person asked about, and the distractor of someone else.
            let sentences = task.passage.components(separatedBy: ". ")
            XCTAssertTrue(sentences.contains { $0.hasPrefix(name + " ") && $0.contains(correct) }, "\(task.question) \(correct)")
            XCTAssertFalse(sentences.contains { $0.hasPrefix(name + " ") && $0.hasSuffix(distractor) || $0.hasPrefix(name + " ") && $0.hasSuffix(distractor + ".") })
            XCTAssertTrue(task.passage.contains(distractor), "the distractor occurs in the passage too")
        }
        let firsts = tasks.filter { $0.correctOption == 0 }.count
        XCTAssertTrue((2...10).contains(firsts), "the correct option's position varies: \(firsts) of 12 first")
    }

    /// With a superseded share every statement names its source; a fact stated twice is asked with the superseded
    /// value as distractor and its true value from the source that corrects it; the other facts are asked as before.
    /// Every source occurs as the superseded, the correcting and the lone statement, so no source gives the answer away.
    func testSupersededStatementsAreCorrectedByTheNextSource() {
        let tasks = ReadingTask.generate(seed: 9, passages: 40, peopleCount: 3, supersededShare: 2.0 / 3)
        XCTAssertEqual(tasks.count, 120)
        XCTAssertEqual(ReadingTask.generate(seed: 9, passages: 40, peopleCount: 3, supersededShare: 2.0 / 3), tasks, "same seed, same tasks")
        XCTAssertFalse(ReadingTask.generate(seed: 9, passages: 4, peopleCount: 3).contains { ReadingTask.Source.of($0.passage) != nil },
                       "no sources without a superseded share")
        let (superseded, correcting, lone) = sourceRoles(tasks, precedence: .cyclic)
        let pairs = superseded.values.reduce(0, +)
        XCTAssertTrue((60...100).contains(pairs), "about two thirds of 120 questions ask a fact stated twice: \(pairs)")
        for counts in [superseded, correcting, lone] {
            XCTAssertEqual(Set(counts.keys), Set(ReadingTask.Source.allCases), "every source in every role: \(counts)")
        }
    }

    /// A linear precedence: a later record corrects an earlier one, so a neighbour is never superseded and a letter
    /// never corrects; the cyclic tasks are those of earlier versions (the default), bit for bit.
    func testLinearPrecedenceNeverSupersedesTheLastSource() {
        let tasks = ReadingTask.generate(seed: 9, passages: 40, peopleCount: 3, supersededShare: 2.0 / 3, precedence: .linear)
        XCTAssertEqual(tasks.count, 120)
        XCTAssertEqual(ReadingTask.generate(seed: 9, passages: 40, peopleCount: 3, supersededShare: 2.0 / 3, precedence: .cyclic),
                       ReadingTask.generate(seed: 9, passages: 40, peopleCount: 3, supersededShare: 2.0 / 3))
        let (superseded, correcting, lone) = sourceRoles(tasks, precedence: .linear)
        XCTAssertEqual(Set(superseded.keys), [.letter, .ledger], "\(superseded)")
        XCTAssertEqual(Set(correcting.keys), [.ledger, .neighbour], "\(correcting)")
        XCTAssertEqual(Set(lone.keys), Set(ReadingTask.Source.allCases), "a fact stated once comes from any source: \(lone)")
        XCTAssertTrue((60...100).contains(superseded.values.reduce(0, +)), "\(superseded)")
        XCTAssertNil(ReadingTask.Source.neighbour.correction(.linear))
        XCTAssertEqual(ReadingTask.Source.neighbour.correction(.cyclic), .letter)
    }

    func testQuALITYImportKeepsGoldAndBestDistractor() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("quality-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let line1 = #"{"article_id":"a1","set_unique_id":"a1_s","article":"The ship left at dawn.","questions":[{"question":"When did the ship leave?","question_unique_id":"q1","options":["dusk","dawn","noon","never"],"gold_label":2,"validation":[{"untimed_best_distractor":3},{"untimed_best_distractor":3},{"untimed_best_distractor":1}]},{"question":"What left?","options":["a ship","a train"],"gold_label":1}]}"#
        try (line1 + "\n\n").write(to: url, atomically: true, encoding: .utf8)
        let tasks = try ReadingTask.quality(contentsOf: url)
        XCTAssertEqual(tasks.count, 2)
        XCTAssertEqual(tasks[0].id, "q1")
        XCTAssertEqual(tasks[0].options, ["dawn", "noon"], "gold first, then the validators' most named distractor")
        XCTAssertEqual(tasks[0].correctOption, 0)
        XCTAssertEqual(tasks[1].options, ["a train", "a ship"], "the next question puts the gold option second")
        XCTAssertEqual(tasks[1].correctOption, 1)
        XCTAssertEqual(tasks[1].id, "a1_s-1")
        XCTAssertEqual(tasks[0].passage, "The ship left at dawn.")

        let bad = #"{"article":"x","questions":[{"question":"q","options":["a","b"]}]}"#
        try ("\n" + bad + "\n").write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ReadingTask.quality(contentsOf: url)) { error in
            XCTAssertTrue("\(error)".contains("\(url.path):2: questions[0]: no \"gold_label\""), "\(error)")
        }
        try #"{"article":"x","questions":[{"question":"q","options":["a","b"],"gold_label":0}]}"#.write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ReadingTask.quality(contentsOf: url)) { XCTAssertTrue("\($0)".contains("1-based"), "\($0)") }
        try "not json".write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ReadingTask.quality(contentsOf: url)) { XCTAssertTrue("\($0)".contains(":1: not a JSON object"), "\($0)") }
    }

    func testQuotesAreVerifiedVerbatimUpToWhitespace() {
        let source = "Kamira lives in Ashford.\nKamira works   as a baker."
        let argument = "She is a baker: <quote>works as a baker</quote>, not <quote>works as a tailor</quote> <quote>unclosed"
        XCTAssertEqual(QuoteVerification.quotes(in: argument, source: source),
                       [.init(text: "works as a baker", verified: true), .init(text: "works as a tailor", verified: false)])
        XCTAssertEqual(QuoteVerification.marked(argument, source: source),
                       "She is a baker: <v_quote>works as a baker</v_quote>, not <u_quote>works as a tailor</u_quote> <quote>unclosed")
        XCTAssertEqual(QuoteVerification.quotes(in: "<quote> </quote>", source: source), [.init(text: " ", verified: false)], "an empty quote verifies nothing")
    }

    /// How often each source is the superseded statement, the correcting one and a lone one among `tasks`' facts,
    /// checking each doubly stated fact against `precedence`.
    private func sourceRoles(_ tasks: [ReadingTask], precedence: ReadingTask.Precedence)
        -> (superseded: [ReadingTask.Source: Int], correcting: [ReadingTask.Source: Int], lone: [ReadingTask.Source: Int])
    {
        var superseded: [ReadingTask.Source: Int] = [:], correcting: [ReadingTask.Source: Int] = [:], lone: [ReadingTask.Source: Int] = [:]
        for task in tasks {
            let name = task.question.components(separatedBy: " ").first { $0.first?.isUppercase == true && !["Where", "What", "Which"].contains($0) }!
                .replacingOccurrences(of: "'s", with: "").replacingOccurrences(of: "?", with: "")
            let sentences = task.passage.components(separatedBy: ". ").map { $0.hasSuffix(".") ? $0 : $0 + "." }
            XCTAssertTrue(sentences.allSatisfy { ReadingTask.Source.of($0) != nil }, "every statement names its source")
            func statements(_ value: String) -> [(source: ReadingTask.Source, sentence: String)] {
                sentences.compactMap { sentence in
                    guard let source = ReadingTask.Source.of(sentence), sentence.hasPrefix("\(source.phrase) \(name) "),
                          sentence.hasSuffix(" \(value).") else { return nil }
                    return (source, sentence)
                }
            }
            let correct = statements(task.options[task.correctOption]), distractor = statements(task.options[1 - task.correctOption])
            XCTAssertEqual(correct.count, 1, "the true value is stated once about the person asked: \(task.question) \(task.passage)")
            XCTAssertLessThanOrEqual(distractor.count, 1)
            guard let truth = correct.first else { continue }
            if let earlier = distractor.first {
                XCTAssertEqual(earlier.source.correction(precedence), truth.source, "the decisive statement's source corrects the superseded one's: \(earlier.sentence) / \(truth.sentence)")
                XCTAssertNotEqual(truth.source.correction(precedence), earlier.source, "the rule picks one of the two")
                superseded[earlier.source, default: 0] += 1
                correcting[truth.source, default: 0] += 1
            } else {
                lone[truth.source, default: 0] += 1
                XCTAssertTrue(task.passage.contains(" \(task.options[1 - task.correctOption])."), "the distractor is someone else's value")
            }
        }
        return (superseded, correcting, lone)
    }
}
