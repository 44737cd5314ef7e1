import Foundation
import JSON
import XCTest
@testable import Datasets

/// Every TRL dataset type, standard and conversational, from fixtures written by Fixtures/make_fixtures.py,
/// checked against TRL's own `is_conversational` and `extract_prompt` (Fixtures/expected.json).
final class DatasetFormatTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    struct Expected: Decodable {
        struct Extracted: Decodable {
            let prompt: Field
            let chosen: Field
            let rejected: Field
        }
        /// A string or a list of messages, as TRL returns it.
        enum Field: Decodable, Equatable {
            case text(String)
            case messages([[String: String]])
            init(from decoder: Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self) { self = .text(text) } else {
                    self = .messages(try container.decode([[String: String]].self))
                }
            }
        }
        let conversational: [Bool]
        let extracted: [Extracted]?
    }

    static func expected() throws -> [String: Expected] {
        try JSONDecoder().decode([String: Expected].self, from: Data(contentsOf: fixtures.appendingPathComponent("expected.json")))
    }

    func load(_ name: String, options: DatasetOptions = DatasetOptions()) throws -> Dataset {
        try Dataset.load(Self.fixtures.appendingPathComponent(name), options: options)
    }

    func field(_ text: ExampleText) -> Expected.Field {
        switch text {
        case let .standard(string): return .text(string)
        case let .conversational(messages): return .messages(messages.map { ["role": $0.role.rawValue, "content": $0.content] })
        }
    }

    func testEveryTypeAndFormatIsDetected() throws {
        let cases: [(String, DatasetType, DatasetFormat, Int)] = [
            ("language-modeling-standard.jsonl", .languageModeling, .standard, 3),
            ("language-modeling-conversational.jsonl", .languageModeling, .conversational, 2),
            ("prompt-only-standard.jsonl", .promptOnly, .standard, 2),
            ("prompt-only-conversational.jsonl", .promptOnly, .conversational, 1),
            ("prompt-completion-standard.jsonl", .promptCompletion, .standard, 2),
            ("prompt-completion-conversational.jsonl", .promptCompletion, .conversational, 1),
            ("preference-standard.jsonl", .preference, .standard, 3),
            ("preference-conversational.jsonl", .preference, .conversational, 2),
            ("implicit-preference-standard.jsonl", .implicitPromptPreference, .standard, 3),
            ("implicit-preference-conversational.jsonl", .implicitPromptPreference, .conversational, 3),
            ("unpaired-preference-standard.jsonl", .unpairedPreference, .standard, 2),
            ("unpaired-preference-conversational.jsonl.gz", .unpairedPreference, .conversational, 2),
        ]
        let expected = try Self.expected()
        for (name, type, format, count) in cases {
            let dataset = try load(name)
            XCTAssertEqual(dataset.type, type, name)
            XCTAssertEqual(dataset.format, format, name)
            XCTAssertEqual(dataset.examples.count, count, name)
            XCTAssertEqual(dataset.examples.map(\.line), Array(1...count), name)
            XCTAssertEqual(dataset.examples.map { $0.type }, Array(repeating: type, count: count), name)
            XCTAssertEqual(Array(repeating: format == .conversational, count: count), expected[name]?.conversational,
                           "\(name): TRL's is_conversational agrees")
        }
    }

    func testImplicitPromptMatchesTRLExtractPrompt() throws {
        let expected = try Self.expected()
        for name in ["implicit-preference-standard.jsonl", "implicit-preference-conversational.jsonl"] {
            let dataset = try load(name)
            let reference = try XCTUnwrap(expected[name]?.extracted)
            XCTAssertEqual(dataset.examples.count, reference.count)
            for (example, trl) in zip(dataset.examples, reference) {
                let pair = try XCTUnwrap(example.preference)
                XCTAssertTrue(example.promptWasImplicit)
                XCTAssertEqual(field(pair.prompt), trl.prompt, "\(name):\(example.line) prompt")
                XCTAssertEqual(field(pair.chosen), trl.chosen, "\(name):\(example.line) chosen")
                XCTAssertEqual(field(pair.rejected), trl.rejected, "\(name):\(example.line) rejected")
            }
        }
        let conversational = try load("implicit-preference-conversational.jsonl")
        XCTAssertEqual(conversational.quirks, [DatasetQuirk(line: 3, kind: .divergesBeforeFinalTurn)],
                       "responses spanning several turns are reported")
        let standard = try load("implicit-preference-standard.jsonl")
        XCTAssertEqual(standard.quirks, [DatasetQuirk(line: 3, kind: .emptyPrompt)])
    }

    func testFieldValuesExtrasAndSoftLabels() throws {
        let preference = try load("preference-standard.jsonl")
        let second = preference.examples[1]
        XCTAssertEqual(second.preference?.prompt, .standard("Is it safe to mix bleach and ammonia?"))
        XCTAssertEqual(second.chosenProbability, 0.92)
        XCTAssertEqual(second.extras, [JSONValue.Member("judge", .string("constitution-v1"))])
        XCTAssertNil(preference.examples[0].chosenProbability)
        XCTAssertEqual(preference.quirks, [DatasetQuirk(line: 3, kind: .identicalResponses)])

        let conversational = try load("preference-conversational.jsonl")
        XCTAssertEqual(conversational.examples[1].preference?.prompt,
                       .conversational([Message(role: .system, content: "You are terse."), Message(role: .user, content: "Capital of France?")]))
        XCTAssertEqual(conversational.examples[1].chosenProbability, 0.5)

        let language = try load("language-modeling-conversational.jsonl")
        XCTAssertEqual(language.examples[1][extra: "id"], .number("7"))
        guard case let .languageModeling(text) = language.examples[1].body else { return XCTFail("body") }
        XCTAssertEqual(text.messages?.map(\.role), [.system, .user, .assistant])

        let unpaired = try load("unpaired-preference-conversational.jsonl.gz")
        guard case let .unpairedPreference(_, completion, label) = unpaired.examples[1].body else { return XCTFail("body") }
        XCTAssertEqual(completion, .conversational([Message(role: .assistant, content: "It is green.")]))
        XCTAssertFalse(label)

        let completions = try load("prompt-completion-standard.jsonl")
        guard case let .promptCompletion(_, completion2) = completions.examples[1].body else { return XCTFail("body") }
        XCTAssertEqual(completion2, .standard(" 100 °C at sea level."))
        XCTAssertEqual(completions.examples[1][extra: "id"], .string("pc-2"))
    }

    func testSoftLabelFieldIsConfigurable() throws {
        var options = DatasetOptions()
        options.softLabelField = nil
        let dataset = try load("preference-standard.jsonl", options: options)
        XCTAssertNil(dataset.examples[1].chosenProbability)
        XCTAssertEqual(dataset.examples[1][extra: "chosen_probability"], .number("0.92"), "kept as an extra instead")
    }

    func testExplicitTypeOverride() throws {
        // Read an unpaired file as prompt-completion: the label becomes an ordinary extra field.
        let dataset = try load("unpaired-preference-standard.jsonl", options: DatasetOptions(type: .promptCompletion))
        XCTAssertEqual(dataset.type, .promptCompletion)
        XCTAssertEqual(dataset.examples[0][extra: "label"], .bool(true))
        // Forcing a type the lines cannot satisfy names the missing field.
        XCTAssertThrowsError(try load("prompt-only-standard.jsonl", options: DatasetOptions(type: .preference))) { error in
            XCTAssertEqual("\(error)", "prompt-only-standard.jsonl:1: missing field \"chosen\" (preference examples need \"prompt\", \"chosen\", \"rejected\")")
        }
    }
}
