import Datasets
import Foundation
import LanguageModels
import TestSupport
import XCTest
@testable import Constitutional

/// A model that records what it was asked and answers with numbered texts.
final class RecordingModel: LanguageModel, @unchecked Sendable {
    let name = "recorder"
    private let lock = NSLock()
    private(set) var completions: [CompletionRequest] = []
    private(set) var chats: [ChatRequest] = []

    func complete(_ request: CompletionRequest) async throws -> Completion {
        let count = lock.withLock { completions.append(request); return completions.count }
        return Completion(text: " text \(count) \n", finishReason: .stop, promptTokenCount: 1, completionTokenCount: 1)
    }

    func chat(_ request: ChatRequest) async throws -> Completion {
        let count = lock.withLock { chats.append(request); return chats.count }
        return Completion(text: "reply \(count)", finishReason: .stop, promptTokenCount: 1, completionTokenCount: 1)
    }

    func score(prompt: String, completion: String) async throws -> Score { Score(tokens: []) }
}

final class CritiqueRevisionTests: XCTestCase {
    let constitution = Constitution(
        name: "small", version: "1", description: "",
        principles: [Principle(id: "p", category: .harmlessness, critiqueRequest: "Find harm.", revisionRequest: "Remove it.")],
        critiqueExamples: [CritiqueExample(conversation: [.init(role: "user", content: "Q0"), .init(role: "assistant", content: "A0")],
                                           critiqueRequest: "CR0", critique: "C0", revisionRequest: "RR0", revision: "R0")])

    func testTranscriptPromptsFollowThePaper() async throws {
        var configuration = CritiqueConfiguration()
        configuration.rounds = 2
        let model = RecordingModel()
        let item = PromptItem(id: "x", prompt: .text("Q?"), conversation: [.init(role: "user", content: "Q?")])
        let record = try await CritiqueRevision(constitution: constitution, configuration: configuration).run(item, model: model)
        let prompts = model.completions.map(\.prompt)
        XCTAssertEqual(prompts.count, 5)
        XCTAssertEqual(prompts[0], "\n\nHuman: Q?\n\nAssistant:")
        let shot = "\n\nHuman: Q0\n\nAssistant: A0\n\nCritiqueRequest: CR0\n\nCritique: C0\n\nRevisionRequest: RR0\n\nRevision: R0"
        XCTAssertEqual(prompts[1], shot + "\n\nHuman: Q?\n\nAssistant: text 1\n\nCritiqueRequest: Find harm.\n\nCritique:")
        XCTAssertEqual(prompts[2], prompts[1] + " text 2\n\nRevisionRequest: Remove it.\n\nRevision:")
        // Round 2 critiques round 1's revision.
        XCTAssertEqual(prompts[3], shot + "\n\nHuman: Q?\n\nAssistant: text 3\n\nCritiqueRequest: Find harm.\n\nCritique:")
        XCTAssertEqual(record.initialResponse, "text 1")
        XCTAssertEqual(record.rounds.map(\.revision), ["text 3", "text 5"])
        XCTAssertEqual(record.finalRevision, "text 5")
        XCTAssertTrue(model.completions.allSatisfy { $0.options.stop.contains("\n\nHuman:") && $0.options.seed != nil })
        XCTAssertEqual(Set(model.completions.compactMap(\.options.seed)).count, 5, "every call has its own seed")
    }

    func testAGivenInitialResponseIsRevisedNotRegenerated() async throws {
        var configuration = CritiqueConfiguration()
        configuration.rounds = 1
        let model = RecordingModel()
        let item = PromptItem(id: "x", prompt: .text("Q?"), conversation: [.init(role: "user", content: "Q?")], response: "sampled")
        let record = try await CritiqueRevision(constitution: constitution, configuration: configuration).run(item, model: model)
        XCTAssertEqual(model.completions.count, 2)
        XCTAssertTrue(model.completions[0].prompt.hasSuffix("\n\nHuman: Q?\n\nAssistant: sampled\n\nCritiqueRequest: Find harm.\n\nCritique:"))
        XCTAssertEqual(record.initialResponse, "sampled")
        XCTAssertNil(record.initialSeed)
    }

    func testChatPromptsAreMessages() async throws {
        var configuration = CritiqueConfiguration()
        configuration.rounds = 1
        configuration.prompting = .chat
        let model = RecordingModel()
        let item = PromptItem(id: "x", prompt: .text("Q?"), conversation: [.init(role: "user", content: "Q?")])
        let record = try await CritiqueRevision(constitution: constitution, configuration: configuration).run(item, model: model)
        XCTAssertEqual(model.chats.count, 3)
        XCTAssertEqual(model.chats[1].messages.map(\.content), ["Q0", "A0", "CR0", "C0", "RR0", "R0", "Q?", "reply 1", "Find harm."])
        XCTAssertEqual(model.chats[2].messages.suffix(3).map(\.content), ["Find harm.", "reply 2", "Remove it."])
        XCTAssertEqual(model.chats[2].messages.map(\.role), ["user", "assistant", "user", "assistant", "user", "assistant", "user", "assistant", "user", "assistant", "user"])
        XCTAssertEqual(record.prompting, .chat)
        let sft = try SFTData.examples(from: [record])
        XCTAssertEqual(sft[0].body, .promptCompletion(prompt: .conversational([Message(role: .user, content: "Q?")]),
                                                      completion: .conversational([Message(role: .assistant, content: "reply 3")])))
    }

    func testPrincipleChoiceIsPerItemAndSeeded() throws {
        var configuration = CritiqueConfiguration()
        configuration.rounds = 8
        let critic = try CritiqueRevision(constitution: try Constitution.charterDefault, configuration: configuration)
        XCTAssertEqual(critic.principleIDs(for: "a"), critic.principleIDs(for: "a"))
        XCTAssertNotEqual(critic.principleIDs(for: "a"), critic.principleIDs(for: "b"))
        configuration.seed = 1
        XCTAssertNotEqual(try CritiqueRevision(constitution: try Constitution.charterDefault, configuration: configuration).principleIDs(for: "a"),
                          critic.principleIDs(for: "a"))
        // Weights: no-dangerous-instructions (weight 2 of 9) is drawn about twice as often as each other principle.
        let draws = (0..<2000).flatMap { critic.principleIDs(for: "item-\($0)") }
        let share = Double(draws.filter { $0 == "no-dangerous-instructions" }.count) / Double(draws.count)
        XCTAssertEqual(share, 2.0 / 9.0, accuracy: 0.02)
    }

    func testHelpfulMixRatio() throws {
        let revisions = (0..<4).map { Example(.promptCompletion(prompt: .standard("r\($0)"), completion: .standard(" x"))) }
        let helpful = (0..<10).map { Example(.promptCompletion(prompt: .standard("h\($0)"), completion: .standard(" y"))) }
        let half = try SFTData.mix(revisions, helpful: helpful, ratio: 0.5, seed: 3)
        XCTAssertEqual(half.helpfulCount, 4)
        XCTAssertEqual(half.examples.count, 8)
        XCTAssertEqual(try SFTData.mix(revisions, helpful: helpful, ratio: 0.2, seed: 3).helpfulCount, 1)
        XCTAssertEqual(try SFTData.mix(revisions, helpful: helpful, ratio: 0.9, seed: 3).helpfulCount, 10, "capped at what exists")
        XCTAssertEqual(try SFTData.mix(revisions, helpful: helpful, ratio: 0.5, seed: 3).examples, half.examples, "seeded")
        XCTAssertNotEqual(try SFTData.mix(revisions, helpful: helpful, ratio: 0.5, seed: 4).examples, half.examples)
        let chat = [Example(.promptCompletion(prompt: .conversational([Message(role: .user, content: "q")]),
                                              completion: .conversational([Message(role: .assistant, content: "a")])))]
        XCTAssertThrowsError(try SFTData.mix(revisions, helpful: chat, ratio: 0.5, seed: 3))
        XCTAssertThrowsError(try SFTData.mix(revisions, helpful: helpful, ratio: 1, seed: 3))
    }

    func testInputErrorsNameFileAndLine() throws {
        let directory = try TinyModels.temporaryDirectory("inputs")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("prompts.jsonl")
        try "{\"id\": \"a\", \"prompt\": \"x\"}\n\n{\"id\": \"a\", \"prompt\": \"y\"}\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try InputFiles.prompts(file)) { XCTAssertTrue("\($0)".contains("prompts.jsonl:3: id \"a\" appears twice"), "\($0)") }
        try "{\"prompt\": \"\\n\\nHuman: hi\\n\\nAssistant: hello\\n\\nHuman: help me\\n\\nAssistant:\"}\n".write(to: file, atomically: true, encoding: .utf8)
        let items = try InputFiles.prompts(file)
        XCTAssertEqual(items[0].id, "line-1")
        XCTAssertEqual(items[0].conversation.map(\.role), ["user", "assistant", "user"])
        try "{\"prompt\": \"p\", \"response_a\": \"a\"}\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try InputFiles.pairs(file)) { XCTAssertTrue("\($0)".contains("prompts.jsonl:1: expected two responses"), "\($0)") }
        try "{\"id\": 5, \"prompt\": \"p\", \"responses\": [\"a\", \"b\", \"c\"]}\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try InputFiles.pairs(file).map(\.id), ["5/0-1", "5/0-2", "5/1-2"])
        XCTAssertEqual(try InputFiles.prompts(file).map(\.response), ["a"], "a sample stage's output feeds critique")
    }

    func testEndpointsFilesAreReadAndTheMissingConnectorIsNamed() throws {
        let directory = try TinyModels.temporaryDirectory("endpoints")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("endpoints.yaml")
        try "urls: [http://127.0.0.1:8000/v1]\nmodel: m\nmax_concurrency: 8\n".write(to: file, atomically: true, encoding: .utf8)
        let json = try JSONSerialization.jsonObject(with: try ModelFactory.endpointsJSON(file.path)) as? [String: Any]
        XCTAssertEqual(json?["model"] as? String, "m")
        XCTAssertEqual(json?["max_concurrency"] as? Int, 8)
        XCTAssertEqual(json?["urls"] as? [String], ["http://127.0.0.1:8000/v1"])
        XCTAssertThrowsError(try ModelFactory.make(.endpoints(configuration: file.path))) {
            XCTAssertTrue("\($0)".contains("need an HTTP client"), "\($0)")
        }
        let seen = ModelsBox()
        _ = try ModelFactory.make(.endpoints(configuration: file.path)) { data, name in
            seen.file = name
            return [RecordingModel()]
        }
        XCTAssertEqual(seen.file, file.path)
        try "- just\n- a list\n".write(to: file, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ModelFactory.endpointsJSON(file.path)) { XCTAssertEqual(($0 as? ConstitutionError)?.file, file.path) }
        XCTAssertThrowsError(try ModelFactory.make(.local(path: directory.path, chatTemplate: nil, lora: nil))) {
            XCTAssertTrue("\($0)".contains("no config.json"), "\($0)")
        }
    }
}

final class ModelsBox: @unchecked Sendable { var file: String? }
