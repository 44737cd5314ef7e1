import Experiments
import Foundation
import Reports
import XCTest
@testable import Alignment
@testable import Oversight

final class DebateExperimentTests: XCTestCase {
    /// The quoting policy's quotes always verify; arguing for the truth it quotes the answering sentence, arguing for
    /// the distractor a sentence about someone else.
    func testQuotingPolicyQuotesTheAnswerOrAnotherPerson() async throws {
        for task in ReadingTask.generate(seed: 11, passages: 5) {
            let name = task.question.components(separatedBy: " ").first { $0.first?.isUppercase == true && !["Where", "What", "Which"].contains($0) }!
                .replacingOccurrences(of: "'s", with: "").replacingOccurrences(of: "?", with: "")
            for option in 0..<2 {
                let argument = try await QuotingArguer().argue(task, option: option, protocolName: .debate, seen: [], sampling: .greedy, seed: 0)
                let quotes = QuoteVerification.quotes(in: argument, source: task.passage)
                XCTAssertEqual(quotes.count, 1)
                XCTAssertTrue(quotes[0].verified, argument)
                XCTAssertTrue(quotes[0].text.contains(task.options[option]))
                XCTAssertEqual(quotes[0].text.hasPrefix(name + " "), option == task.correctOption, "\(task.question): \(argument)")
            }
        }
    }

    /// The fabricating policy's true side quotes the answer (verified); its false side puts its answer into that
    /// sentence about the right person, which fails verification.
    func testFabricatingPolicyMakesUpUnverifiedQuotes() async throws {
        for task in ReadingTask.generate(seed: 12, passages: 5) {
            for option in 0..<2 {
                let argument = try await QuotingArguer(liar: .fabricates).argue(task, option: option, protocolName: .debate, seen: [], sampling: .greedy, seed: 0)
                let quotes = QuoteVerification.quotes(in: argument, source: task.passage)
                XCTAssertEqual(quotes.count, 1)
                XCTAssertTrue(quotes[0].text.contains(task.options[option]))
                XCTAssertEqual(quotes[0].verified, option == task.correctOption, "\(task.question): \(argument)")
            }
        }
    }

    /// The superseded liar on tasks with superseded statements: the truth's side quotes the decisive statement; the
    /// liar quotes the superseded statement about the person asked where there is one — verified, supporting the wrong
    /// answer — and otherwise makes up an unverified quote. A verified quote's source is no clue to whose it is.
    func testSupersededPolicyQuotesTheSupersededStatementOrFabricates() async throws {
        var liarVerified = 0, liarFabricated = 0
        var verifiedSources: [String: Set<ReadingTask.Source>] = [:]
        for task in ReadingTask.generate(seed: 13, passages: 20, peopleCount: 3, supersededShare: 2.0 / 3) {
            let name = task.question.components(separatedBy: " ").first { $0.first?.isUppercase == true && !["Where", "What", "Which"].contains($0) }!
                .replacingOccurrences(of: "'s", with: "").replacingOccurrences(of: "?", with: "")
            let decisive = try XCTUnwrap(task.passage.components(separatedBy: ". ").first { sentence in
                ReadingTask.Source.of(sentence).map { sentence.hasPrefix("\($0.phrase) \(name) ") } == true && sentence.contains(task.options[task.correctOption])
            })
            let hasSuperseded = task.passage.components(separatedBy: ". ").contains { sentence in
                ReadingTask.Source.of(sentence).map { sentence.hasPrefix("\($0.phrase) \(name) ") } == true && sentence.contains(task.options[1 - task.correctOption])
            }
            for option in 0..<2 {
                let argument = try await QuotingArguer(liar: .superseded).argue(task, option: option, protocolName: .consultancy, seen: [], sampling: .greedy, seed: 0)
                let quotes = QuoteVerification.quotes(in: argument, source: task.passage)
                XCTAssertEqual(quotes.count, 1)
                let quote = quotes[0]
                XCTAssertTrue(quote.text.contains(task.options[option]), argument)
                let source = try XCTUnwrap(ReadingTask.Source.of(quote.text), "the quote keeps its source: \(argument)")
                XCTAssertTrue(quote.text.hasPrefix("\(source.phrase) \(name) "), "about the person asked: \(task.question) \(argument)")
                if option == task.correctOption {
                    XCTAssertTrue(quote.verified, argument)
                    XCTAssertTrue(decisive.hasPrefix(quote.text.dropLast()), "the decisive statement: \(argument)")
                    verifiedSources["truth", default: []].insert(source)
                } else {
                    XCTAssertEqual(quote.verified, hasSuperseded, "\(task.question): \(argument)")
                    if quote.verified {
                        XCTAssertEqual(source.correction, ReadingTask.Source.of(decisive), "the liar's statement is the one the decisive one corrects")
                        liarVerified += 1
                        verifiedSources["liar", default: []].insert(source)
                    } else {
                        liarFabricated += 1
                    }
                }
            }
        }
        XCTAssertGreaterThan(liarVerified, 20)
        XCTAssertGreaterThan(liarFabricated, 5)
        XCTAssertEqual(verifiedSources["truth"], Set(ReadingTask.Source.allCases))
        XCTAssertEqual(verifiedSources["liar"], Set(ReadingTask.Source.allCases))
    }

    /// The reduced experiment end to end. At this size (a 1-layer judge, 40 steps) the judge has not learnt to read
    /// quotes, so no protocol ordering is asserted — only what must hold: the judge's loss falls, every protocol is
    /// judged on every held-out task, and the files round-trip.
    func testReducedExperimentRunsEveryProtocol() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("debate-experiment-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let configuration = DebateExperimentConfiguration.reduced
        let outcome = try await DebateExperiment.run(configuration, seed: 1, folder: folder.appendingPathComponent("seed-1"))
        XCTAssertEqual(outcome.testTasks, configuration.testPassages * 3)
        XCTAssertEqual(outcome.trainingExamples, configuration.trainingPassages * 3 * 2, "every training debate in both orders")
        XCTAssertLessThan(try XCTUnwrap(outcome.finalLoss), try XCTUnwrap(outcome.firstLoss))
        XCTAssertEqual(Set(outcome.accuracy.keys), ["blind", "consultancy", "debate"])
        for summary in outcome.results.protocols { XCTAssertEqual(summary.tasks, outcome.testTasks) }
        XCTAssertEqual(outcome.examples.count, 3)
        XCTAssertEqual(outcome.debateBothVerified, outcome.accuracy["debate"], "the default liar's quotes verify: every debate has two verified quotes")
        XCTAssertNil(outcome.debateOneVerified)
        let results = DebateExperimentResults(configuration: configuration, outcomes: [outcome])
        try DebateExperimentReport.write(results, to: folder)
        let decoded = try JSONDecoder().decode(DebateExperimentResults.self, from: Data(contentsOf: folder.appendingPathComponent(ResultsFile.name)))
        XCTAssertEqual(decoded, results)
        XCTAssertFalse(results.targetMet, "one seed has no interval, so the target cannot be met")
        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("Per seed"))
    }
}

/// The experiment's main effect at reduced size: with a liar whose made-up quote fails verification, the judge trained
/// on debates learns to pick the verified side and so judges debates far better than it answers blind (issue 16). At
/// 300 steps the reduced judge gets 93–97% of debates and 43–53% blind in seeds 1–3, on the avx512, avx2 and portable
/// kernel paths alike (measured with the release build), so the margins below leave room.
final class DebateMainEffectTests: XCTestCase {
    func testDebateBeatsBlindJudgingAtReducedSize() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("debate-effect-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = DebateExperimentConfiguration.reduced
        configuration.fabricatingLiar = true
        configuration.steps = 300
        let outcome = try await DebateExperiment.run(configuration, seed: 1, folder: folder)
        let debate = try XCTUnwrap(outcome.accuracy["debate"]), blind = try XCTUnwrap(outcome.accuracy["blind"])
        XCTAssertGreaterThanOrEqual(debate, 0.8, "the judge learnt to pick the verified quote")
        XCTAssertGreaterThanOrEqual(debate - blind, 0.2, "debate \(debate), blind \(blind)")
    }
}

/// Judge restarts (issue 16): the first judge is the one a run without restarts trains, every judge is scored on the
/// validation tasks, the most accurate is kept, and training stops once one reaches `restartAccuracy`.
final class DebateJudgeRestartTests: XCTestCase {
    func testRestartsKeepTheMostAccurateJudgeOnValidationAndStopEarly() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("debate-restarts-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = DebateExperimentConfiguration.reduced
        configuration.trainingPassages = 20
        configuration.testPassages = 4
        configuration.validationPassages = 4
        configuration.steps = 10
        let single = try await DebateExperiment.run(configuration, seed: 3, folder: folder.appendingPathComponent("single"))
        XCTAssertNil(single.judgeAttempts)

        configuration.judgeRestarts = 3
        configuration.restartAccuracy = 1  // not reached by a 10-step judge: all three train
        let restarted = try await DebateExperiment.run(configuration, seed: 3, folder: folder.appendingPathComponent("restarts"))
        let attempts = try XCTUnwrap(restarted.judgeAttempts)
        XCTAssertEqual(attempts.map(\.seed), [3, 3 + 7_919, 3 + 2 * 7_919])
        XCTAssertEqual(attempts[0].finalLoss, single.finalLoss, "the first judge is the one trained without restarts")
        XCTAssertNotEqual(attempts[0].finalLoss, attempts[1].finalLoss, "another initialisation trains another judge")
        XCTAssertEqual(attempts.filter(\.kept).count, 1)
        let best = try XCTUnwrap(attempts.map(\.validationAccuracy).max())
        let kept = try XCTUnwrap(attempts.first(where: \.kept))
        XCTAssertEqual(kept.validationAccuracy, best)
        XCTAssertEqual(kept, attempts.first { $0.validationAccuracy == best }, "the first of equals")
        XCTAssertEqual(restarted.finalLoss, kept.finalLoss, "the outcome reports the kept judge")
        for attempt in attempts { XCTAssertTrue((0...1).contains(attempt.validationAccuracy)) }

        configuration.restartAccuracy = 0  // the first judge is good enough
        let stopped = try await DebateExperiment.run(configuration, seed: 3, folder: folder.appendingPathComponent("stopped"))
        XCTAssertEqual(stopped.judgeAttempts?.count, 1)
        XCTAssertEqual(stopped.accuracy, single.accuracy)

        let results = DebateExperimentResults(configuration: configuration, outcomes: [restarted])
        let decoded = try JSONDecoder().decode(DebateExperimentResults.self, from: try JSONEncoder().encode(results))
        XCTAssertEqual(decoded, results)
        var old = try XCTUnwrap(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(DebateExperimentConfiguration.reduced)) as? [String: Any])
        for key in ["judge_restarts", "restart_accuracy", "validation_passages"] { old.removeValue(forKey: key) }
        let older = try JSONDecoder().decode(DebateExperimentConfiguration.self, from: try JSONSerialization.data(withJSONObject: old))
        XCTAssertEqual(older, .reduced, "a results.json written before restarts reads as one judge")

        configuration.judgeRestarts = 0
        do {
            _ = try await DebateExperiment.run(configuration, seed: 3, folder: folder.appendingPathComponent("zero"))
            XCTFail("0 restarts must be refused")
        } catch let error as OversightError {
            XCTAssertTrue("\(error)".contains("judge_restarts"), "\(error)")
        }
    }
}

/// The judge's SFT data checked on tokens, as the trainer sees them (issue 16: the judge stayed at chance).
final class DebateJudgeDataTests: XCTestCase {
    /// Every training sequence is the whole judge prompt followed by the answer: nothing is truncated, the loss covers
    /// exactly " (A)"/" (B)" and the end of text, and the letter trained on is the letter of the debater whose quote
    /// verifies (read from the transcript itself, so a label flipped against the A/B order swap would fail).
    func testJudgeSequencesTrainOnTheVerifiedDebatersLetter() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("debate-judge-data-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let tasks = ReadingTask.generate(seed: 21, passages: 4, peopleCount: 3)
        var settings = ProtocolSettings(protocolName: .debate)
        settings.rounds = 1
        settings.seed = 21
        settings.simultaneous = true
        let examples = try await DebateExperiment.judgeExamples(tasks, settings: settings, policy: [QuotingArguer(liar: .fabricates)])
        XCTAssertEqual(examples.count, 2 * tasks.count)
        settings.simultaneous = false
        let spoken = try await DebateExperiment.judgeExamples(tasks, settings: settings, policy: [QuotingArguer(liar: .fabricates)])
        let texts = examples.compactMap { example -> (String, String)? in
            if case let .promptCompletion(.standard(prompt), .standard(completion)) = example.body { return (prompt, completion) }
            return nil
        }
        XCTAssertEqual(texts.count, examples.count)
        try InitialModel(vocabularySize: 400, hiddenSize: 32, intermediateSize: 64, layerCount: 1, headCount: 2, contextLength: 1024)
            .write(texts: texts.map { $0.0 + $0.1 }, seed: 1, to: folder)
        let encoder = try ExampleEncoder.load(directory: folder)
        let configuration = SFTConfiguration()
        var letters: [String: Int] = [:]
        for (example, (prompt, completion)) in zip(examples, texts) {
            var sequence = try SFTTrainer.tokenize(example, encoder: encoder, configuration: configuration)
            XCTAssertFalse(sequence.truncate(to: configuration.maximumLength), "\(sequence.ids.count) tokens")
            let start = try XCTUnwrap(sequence.lossMask.firstIndex(of: true))
            XCTAssertTrue(sequence.lossMask[start...].allSatisfy { $0 }, "the loss covers one contiguous answer")
            XCTAssertEqual(encoder.tokenizer.decode(sequence.ids[..<start].map(Int.init)), prompt)
            XCTAssertEqual(encoder.tokenizer.decode(sequence.ids[start...].map(Int.init)), completion + "<|endoftext|>")
            XCTAssertFalse(tasks.contains { prompt.contains($0.passage) }, "the judge never reads a passage")
            // "Debater for (X): The story says <v_quote>…": X is the right answer's letter in this order.
            let verified = try XCTUnwrap(prompt.components(separatedBy: "\n\n").first { $0.contains("<v_quote>") && $0.hasPrefix("Debater for (") })
            let letter = String(verified.dropFirst("Debater for (".count).prefix(1))
            XCTAssertEqual(completion, " (\(letter))", prompt)
            letters[letter, default: 0] += 1
            // Simultaneous: the debater for (A) speaks first in both orders, so where the verified quote sits predicts the answer.
            XCTAssertTrue(prompt.components(separatedBy: "\n\n").first { $0.hasPrefix("Debater for (") }?.hasPrefix("Debater for (A)") == true, prompt)
        }
        XCTAssertEqual(letters, ["A": tasks.count, "B": tasks.count], "both orders: each letter is right half the time")
        // In speaking order the answer is the XOR of who opened and which letter they got: the verified quote comes
        // first as often for (A) as for (B), so no single part of the prompt predicts the letter.
        var openerIsRight: [String: Int] = [:]
        for example in spoken {
            guard case let .promptCompletion(.standard(prompt), .standard(completion)) = example.body else { continue }
            let first = try XCTUnwrap(prompt.components(separatedBy: "\n\n").first { $0.hasPrefix("Debater for (") })
            openerIsRight["\(completion) verified first: \(first.contains("<v_quote>"))", default: 0] += 1
        }
        XCTAssertEqual(openerIsRight.count, 4, "every letter with the verified quote first and second: \(openerIsRight)")
        // Consultancy transcripts: the right letter is the consultant's when its quote verifies, the other one otherwise.
        let consultancies = try await DebateExperiment.judgeExamples(tasks, settings: settings, policy: [QuotingArguer(liar: .fabricates)], protocols: [.consultancy])
        XCTAssertEqual(consultancies.count, 2 * tasks.count)
        var honest = 0
        for example in consultancies {
            guard case let .promptCompletion(.standard(prompt), .standard(completion)) = example.body else { return XCTFail("\(example.body)") }
            let argument = try XCTUnwrap(prompt.components(separatedBy: "\n\n").first { $0.hasPrefix("Consultant for (") })
            let letter = String(argument.dropFirst("Consultant for (".count).prefix(1))
            let verified = argument.contains("<v_quote>")
            if verified { honest += 1 }
            XCTAssertEqual(completion, verified ? " (\(letter))" : (letter == "A" ? " (B)" : " (A)"), prompt)
        }
        XCTAssertEqual(honest, 2 * ((tasks.count + 1) / 2), "the consultant is honest on half the tasks")
    }
}
