import Foundation
import XCTest
@testable import Datasets

/// The real Anthropic HH-RLHF harmless-base test split, against a summary computed independently in Python
/// (Fixtures/make_fixtures.py → hh.expected.json), plus HH transcript parsing on small inputs.
final class HHDatasetTests: XCTestCase {
    static let hhFile = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/data/hh-rlhf/harmless-base-test.jsonl.gz").standardizedFileURL

    struct Expected: Decodable {
        let count: Int
        let quirks: [String: [Int]]
        let promptLengths: [Int]
        let promptMarkers: [Int]
    }

    func hhDataset(_ options: DatasetOptions = DatasetOptions()) throws -> Dataset {
        guard FileManager.default.fileExists(atPath: Self.hhFile.path) else {
            throw XCTSkip("HH-RLHF file not found at \(Self.hhFile.path); it lives in the shared data folder next to the package")
        }
        return try Dataset.load(Self.hhFile, options: options)
    }

    func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: DatasetFormatTests.fixtures.appendingPathComponent("hh.expected.json")))
    }

    func testAll2312PairsSplitIntoPromptAndFinalTurns() throws {
        let dataset = try hhDataset()
        let reference = try expected()
        XCTAssertEqual(dataset.examples.count, 2312)
        XCTAssertEqual(dataset.examples.count, reference.count)
        XCTAssertEqual(dataset.type, .implicitPromptPreference)
        XCTAssertEqual(dataset.format, .standard)
        XCTAssertEqual(dataset.skipped.count, 0)
        for (example, length) in zip(dataset.examples, reference.promptLengths) {
            guard let (prompt, chosen, rejected) = example.preference, let promptText = prompt.text,
                let chosenText = chosen.text, let rejectedText = rejected.text
            else { return XCTFail("line \(example.line) is not a standard pair") }
            XCTAssertEqual(promptText.unicodeScalars.count, length, "line \(example.line): prompt length (Python)")
            XCTAssertTrue(promptText.hasPrefix("\n\nHuman:") && promptText.hasSuffix("\n\nAssistant:"), "line \(example.line)")
            XCTAssertTrue(chosenText.hasPrefix(" ") && rejectedText.hasPrefix(" "), "line \(example.line): responses keep their leading space")
        }
        // Writing with the implicit prompt re-attached reproduces the original lines exactly.
        let reattached = dataset.examples.prefix(50).map { $0.jsonValue(keepImplicitPrompt: true) }
        XCTAssertEqual(reattached.first?.keys, ["chosen", "rejected"])
    }

    func testQuirksAreReportedNotDropped() throws {
        let dataset = try hhDataset()
        let reference = try expected()
        let counts = dataset.quirkCounts
        XCTAssertEqual(dataset.quirks.filter { $0.kind == .divergesBeforeFinalTurn }.map(\.line), reference.quirks["divergesBeforeFinalTurn"])
        XCTAssertEqual(dataset.quirks.filter { $0.kind == .emptyChosen }.map(\.line), reference.quirks["emptyChosen"])
        XCTAssertEqual(counts[.divergesBeforeFinalTurn], 5)
        XCTAssertEqual(counts[.emptyChosen], 4)
        XCTAssertNil(counts[.emptyRejected])
        XCTAssertNil(counts[.identicalResponses])
        XCTAssertEqual(dataset.quirks.filter { $0.kind == .nonAlternatingTurns }.map(\.line), reference.quirks["nonAlternatingTurns"])
        XCTAssertEqual(counts[.nonAlternatingTurns], 4)
        XCTAssertTrue(dataset.summary.contains("5× chosen and rejected diverge before the final assistant turn (lines 1255, 1689, 1951, 1953, 2037)"), dataset.summary)
        XCTAssertTrue(dataset.summary.contains("4× empty chosen response (lines 87, 517, 926, 1104)"), dataset.summary)
        print(dataset.summary)
    }

    func testConversionToMessages() throws {
        let dataset = try hhDataset(DatasetOptions(convertHHTranscripts: true))
        let reference = try expected()
        XCTAssertEqual(dataset.examples.count, 2312)
        var multiTurnResponses: [Int] = []
        var nonAlternating: [Int] = []
        for (example, markers) in zip(dataset.examples, reference.promptMarkers) {
            guard let (prompt, chosen, rejected) = example.preference, let promptMessages = prompt.messages,
                let chosenMessages = chosen.messages, let rejectedMessages = rejected.messages
            else { return XCTFail("line \(example.line) not converted") }
            XCTAssertEqual(promptMessages.count, markers - 1, "line \(example.line): all turns but the trailing Assistant cue")
            XCTAssertEqual(promptMessages.first?.role, .user)
            XCTAssertEqual(promptMessages.last?.role, .user, "line \(example.line): the prompt ends with the user's turn")
            if zip(promptMessages, promptMessages.dropFirst()).contains(where: { $0.role == $1.role }) {
                nonAlternating.append(example.line)
            }
            XCTAssertEqual(chosenMessages.first?.role, .assistant)
            XCTAssertEqual(rejectedMessages.first?.role, .assistant)
            if chosenMessages.count > 1 || rejectedMessages.count > 1 { multiTurnResponses.append(example.line) }
        }
        XCTAssertEqual(multiTurnResponses, reference.quirks["divergesBeforeFinalTurn"])
        XCTAssertEqual(nonAlternating, reference.quirks["nonAlternatingTurns"], "kept as parsed, and reported as quirks")
        XCTAssertEqual(dataset.quirks.filter { $0.kind == .nonAlternatingTurns }.map(\.line), nonAlternating)
        XCTAssertEqual(dataset.examples[86].preference?.chosen, .conversational([Message(role: .assistant, content: "")]),
                       "line 87's empty chosen response is kept as an empty assistant message")
    }

    func testTranscriptParsing() throws {
        let transcript = "\n\nHuman: Hi there\n\nAssistant: Hello.  Human: not a turn\n\nHuman: Bye\n\nAssistant:"
        XCTAssertEqual(try HHTranscript.messages(from: transcript, dropTrailingEmptyAssistant: true), [
            Message(role: .user, content: "Hi there"),
            Message(role: .assistant, content: "Hello.  Human: not a turn"),
            Message(role: .user, content: "Bye"),
        ])
        XCTAssertEqual(try HHTranscript.messages(from: transcript).last, Message(role: .assistant, content: ""))
        XCTAssertEqual(try HHTranscript.messages(from: " Sure.\n\nAssistant: Also this.", leadingRole: .assistant), [
            Message(role: .assistant, content: "Sure."), Message(role: .assistant, content: "Also this."),
        ])
        XCTAssertThrowsError(try HHTranscript.messages(from: "Preamble\n\nHuman: x")) { error in
            XCTAssertEqual("\(error)", "text before the first \"Human:\"/\"Assistant:\" turn: \"Preamble\"")
        }
        XCTAssertThrowsError(try HHTranscript.conversationalPair(prompt: "no markers", chosen: "a", rejected: "b"))
    }

    func testImplicitPromptRules() {
        let hh = ImplicitPrompt.split(chosen: "\n\nHuman: Q\n\nAssistant: I think so", rejected: "\n\nHuman: Q\n\nAssistant: I can't")
        XCTAssertEqual(hh.prompt, "\n\nHuman: Q\n\nAssistant:", "HH: cut after the last Assistant marker, not inside the response")
        XCTAssertEqual(hh.chosen, " I think so")
        XCTAssertEqual(hh.rejected, " I can't")
        let plain = ImplicitPrompt.split(chosen: "The sky is blue.", rejected: "The sky is green.")
        XCTAssertEqual(plain.prompt, "The sky is", "TRL rule: keep the space with the completion")
        let accents = ImplicitPrompt.split(chosen: "café au lait", rejected: "café noir")
        XCTAssertEqual(accents.prompt, "café")
        XCTAssertEqual(accents.chosen, " au lait")
    }
}
