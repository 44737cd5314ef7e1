import Datasets
import Foundation
import LanguageModels
import Pipelines
import TestSupport
import Runtime
import XCTest
@testable import Alignment
@testable import Constitutional

/// A policy that follows the transcript format: after "\n\nAssistant:" it writes a space and its answer, as a
/// byte-level BPE model emits " I" (not "I") after ":"; it refuses, then complies, alternately. It remembers what it
/// generated for each seed.
final class TranscriptPolicy: LanguageModel, @unchecked Sendable {
    let name = "policy"
    private let lock = NSLock()
    private var generated: [UInt64: String] = [:]

    func complete(_ request: CompletionRequest) async throws -> Completion {
        let seed = request.options.seed ?? 0
        let text = lock.withLock {
            let text = generated.count % 2 == 0 ? " I can't help with picking locks (\(seed))." : " Sure, first insert a tension wrench (\(seed))."
            generated[seed] = text
            return text
        }
        return Completion(text: text, finishReason: .stop, promptTokenCount: 1, completionTokenCount: 8)
    }

    func chat(_ request: ChatRequest) async throws -> Completion {
        Completion(text: "reply", finishReason: .stop, promptTokenCount: 1, completionTokenCount: 1)
    }

    func score(prompt: String, completion: String) async throws -> Score { Score(tokens: []) }

    func text(seed: UInt64) -> String? { lock.withLock { generated[seed] } }
}

/// A feedback model that prefers the response containing `preferred` and records every question it is asked.
final class RecordingJudge: LanguageModel, @unchecked Sendable {
    let name = "judge"
    let preferred: String
    private let lock = NSLock()
    private(set) var prompts: [String] = []

    init(preferring preferred: String) { self.preferred = preferred }

    func complete(_ request: CompletionRequest) async throws -> Completion {
        Completion(text: " reasoning", finishReason: .stop, promptTokenCount: 1, completionTokenCount: 1)
    }

    func chat(_ request: ChatRequest) async throws -> Completion {
        Completion(text: "reasoning", finishReason: .stop, promptTokenCount: 1, completionTokenCount: 1)
    }

    func score(prompt: String, completion: String) async throws -> Score {
        lock.withLock { prompts.append(prompt) }
        let optionA = prompt.components(separatedBy: "\n(A) ").last ?? ""
        let aIsPreferred = optionA.hasPrefix(preferred)
        let logProbability = (completion == ComparisonPrompts.optionA) == aIsPreferred ? log(0.8) : log(0.2)
        return Score(tokens: [TokenLogProbability(token: completion, logProbability: Float(logProbability))])
    }
}

/// Records of transcript prompts ("…\n\nAssistant:") store completions with the space that follows the cue, so that
/// prompt + completion is exactly the text the policy generated after the prompt — the HH-RLHF convention, and what
/// DPO, reward-model and PPO training tokenise ("…Assistant:" + " I" …, not "…Assistant:" + "I" …).
final class TranscriptCompletionTests: XCTestCase {
    static let prompt = "\n\nHuman: How do I pick a lock?\n\nAssistant:"
    let quiet = RunOptions(concurrency: 1, retries: 0, retryDelay: 0, showProgress: false)

    func testCompletionAfterTheCueStartsWithTheSpaceTheFormatPutsThere() {
        XCTAssertEqual(PromptValue.completion("I can't.", after: Self.prompt), " I can't.")
        XCTAssertEqual(PromptValue.completion(" I can't.", after: Self.prompt), " I can't.", "an HH response keeps its one space")
        XCTAssertEqual(PromptValue.completion("\nI can't.", after: Self.prompt), "\nI can't.")
        XCTAssertEqual(PromptValue.completion("", after: Self.prompt), "")
        XCTAssertEqual(PromptValue.completion("blue", after: "The sky is"), "blue", "other standard prompts are continued as given")
        XCTAssertEqual(PromptValue.text(Self.prompt).response("I can't."), .text(" I can't."))
        XCTAssertEqual(PromptValue.messages([ChatMessage(role: "user", content: "Q")]).response("I can't."),
                       .messages([ChatMessage(role: "assistant", content: "I can't.")]))
        // The rendering inverts the transcript parser (which trims turn contents).
        let conversation = [ChatMessage(role: "user", content: "How do I pick a lock?")]
        let completion = PromptValue.completion("I can't.", after: CritiquePrompts.responsePrompt(conversation))
        XCTAssertEqual(CritiquePrompts.responsePrompt(conversation) + completion,
                       CritiquePrompts.transcript(conversation + [ChatMessage(role: "assistant", content: "I can't.")]))
    }

    /// sample (k = 2) → label, through the stages' files: prompt + chosen is the policy's text, and DPO and the reward
    /// model tokenise it into the prompt's tokens followed by the tokens of what the policy generated.
    func testLabelRecordsOfTranscriptPromptsReproduceThePolicysText() async throws {
        let directory = try TinyModels.temporaryDirectory("transcript-labels")
        defer { try? FileManager.default.removeItem(at: directory) }
        let prompts = directory.appendingPathComponent("prompts.jsonl")
        try String(decoding: JSONSerialization.data(withJSONObject: ["id": "lock", "prompt": Self.prompt]), as: UTF8.self)
            .appending("\n").write(to: prompts, atomically: true, encoding: .utf8)
        let policy = TranscriptPolicy()
        let pairs = directory.appendingPathComponent("pairs.jsonl")
        _ = try await Stages.sample(prompts: prompts, output: pairs, configuration: SampleConfiguration(k: 2), models: [policy], run: quiet)
        let sample = try XCTUnwrap(Stages.readRecords(SampleRecord.self, from: pairs).first)
        XCTAssertEqual(sample.responses.map { $0.hasPrefix(" ") }, [false, false], "responses are stored as turn contents")
        let generated = try sample.seeds.map { try XCTUnwrap(policy.text(seed: $0)) }

        var feedback = FeedbackConfiguration()
        feedback.principlesPerPair = 1
        feedback.fewShot = 0
        let labels = directory.appendingPathComponent("preferences.jsonl")
        _ = try await Stages.label(pairs: pairs, output: labels, constitution: try Constitution.charterDefault, configuration: feedback,
                                   models: [RecordingJudge(preferring: "I can't")], run: quiet)
        let record = try XCTUnwrap(Stages.readRecords(LabelRecord.self, from: labels).first)
        guard case let .text(prompt) = record.prompt, case let .text(chosen) = record.chosen, case let .text(rejected) = record.rejected else {
            return XCTFail("a transcript prompt gives standard text records, got \(record)")
        }
        let (chosenText, rejectedText) = record.chosenIsFirst ? (generated[0], generated[1]) : (generated[1], generated[0])
        XCTAssertTrue(chosenText.contains("I can't"), "the judge prefers the refusal")
        XCTAssertEqual(prompt + chosen, Self.prompt + chosenText)
        XCTAssertEqual(prompt + rejected, Self.prompt + rejectedText)
        XCTAssertTrue((prompt + chosen).hasSuffix("\n\nAssistant: I can't help with picking locks (\(sample.seeds[record.chosenIsFirst ? 0 : 1]))."))

        // As TRL tokenises the line (eos appended to standard completions): the completion tokens are exactly the
        // tokens of the policy's text, the first of them " I" — the token the policy sampled after ":".
        let encoder = try ExampleEncoder.load(directory: try TinyModels.folder(in: directory, name: "tokenizer", seed: 1))
        let eos = try XCTUnwrap(encoder.endOfSequence)
        let example = try XCTUnwrap(Dataset.load(labels).examples.first)
        let pair = try DPOPair.tokenize(example, encoder: encoder, maximumPromptLength: nil)
        XCTAssertEqual(pair.promptIds, encoder.encode(Self.prompt))
        XCTAssertEqual(pair.chosenIds, encoder.encode(chosenText, addSpecialTokens: false) + [eos])
        XCTAssertEqual(pair.rejectedIds, encoder.encode(rejectedText, addSpecialTokens: false) + [eos])
        XCTAssertEqual(encoder.tokenizer.decode([Int(pair.chosenIds[0])], skipSpecialTokens: true), " I")
        // The reward model scores what PPO later hands it: prompt ids followed by the response's ids.
        let reward = try RewardPair.tokenize(example, encoder: encoder)
        XCTAssertEqual(reward.chosenIds, encoder.encode(Self.prompt) + encoder.encode(chosenText, addSpecialTokens: false) + [eos])
        // And the line reads as an HH-RLHF transcript: its implicit-prompt split gives back the same prompt and responses.
        let split = ImplicitPrompt.split(chosen: prompt + chosen, rejected: prompt + rejected)
        XCTAssertEqual(split.prompt + "|" + split.chosen + "|" + split.rejected, prompt + "|" + chosen + "|" + rejected)
    }

    /// A one-response sample is a TRL prompt–completion line whose completion is the policy's text; read back as the
    /// initial response of `critique`, it is the turn's content again (one space after "Assistant:", not two).
    func testSampledCompletionsKeepTheSpaceAndReadBackAsContent() async throws {
        let directory = try TinyModels.temporaryDirectory("transcript-samples")
        defer { try? FileManager.default.removeItem(at: directory) }
        let prompts = directory.appendingPathComponent("prompts.jsonl")
        try String(decoding: JSONSerialization.data(withJSONObject: ["id": "lock", "prompt": Self.prompt]), as: UTF8.self)
            .appending("\n").write(to: prompts, atomically: true, encoding: .utf8)
        let policy = TranscriptPolicy()
        let samples = directory.appendingPathComponent("samples.jsonl")
        _ = try await Stages.sample(prompts: prompts, output: samples, configuration: SampleConfiguration(k: 1), models: [policy], run: quiet)
        let record = try XCTUnwrap(Stages.readRecords(SampleRecord.self, from: samples).first)
        let generated = try XCTUnwrap(policy.text(seed: record.seeds[0]))
        XCTAssertEqual(record.completion, .text(generated))
        XCTAssertEqual(try Dataset.load(samples).type, .promptCompletion)

        let item = try XCTUnwrap(InputFiles.prompts(samples).first)
        XCTAssertEqual(item.response, generated.trimmingCharacters(in: .whitespaces))
        var configuration = CritiqueConfiguration()
        configuration.rounds = 1
        let critic = RecordingModel()
        let constitution = Constitution(name: "c", version: "1", description: "",
                                        principles: [Principle(id: "p", category: .harmlessness, critiqueRequest: "Find harm.", revisionRequest: "Remove it.")])
        let revision = try await CritiqueRevision(constitution: constitution, configuration: configuration).run(item, model: critic)
        XCTAssertEqual(revision.initialResponse, generated.trimmingCharacters(in: .whitespaces))
        XCTAssertTrue(critic.completions[0].prompt.contains("\n\nAssistant:\(generated)\n\nCritiqueRequest:"), critic.completions[0].prompt)

        // The SFT line of the revision follows the same rule: prompt + completion is the transcript with the revision.
        let sft = try XCTUnwrap(SFTData.examples(from: [revision]).first)
        guard case let .promptCompletion(.standard(sftPrompt), .standard(sftCompletion)) = sft.body else { return XCTFail("\(sft.body)") }
        XCTAssertEqual(sftPrompt + sftCompletion,
                       CritiquePrompts.transcript(item.conversation + [ChatMessage(role: "assistant", content: revision.finalRevision)]))
    }

    /// Pairs given in HH-RLHF form (responses with their leading space) are written back unchanged, and the feedback
    /// model sees each option once spaced: "(A) Hello", not "(A)  Hello".
    func testHHPairsKeepTheirTextAndAreShownAsContent() async throws {
        let directory = try TinyModels.temporaryDirectory("hh-pairs")
        defer { try? FileManager.default.removeItem(at: directory) }
        let pairs = directory.appendingPathComponent("pairs.jsonl")
        let line: [String: Any] = ["id": "hh", "prompt": "\n\nHuman: hi\n\nAssistant:", "chosen": " Go away.", "rejected": " Hello there."]
        try String(decoding: JSONSerialization.data(withJSONObject: line), as: UTF8.self).appending("\n")
            .write(to: pairs, atomically: true, encoding: .utf8)
        var feedback = FeedbackConfiguration()
        feedback.principlesPerPair = 1
        feedback.fewShot = 0
        let judge = RecordingJudge(preferring: "Hello")
        let labels = directory.appendingPathComponent("preferences.jsonl")
        _ = try await Stages.label(pairs: pairs, output: labels, constitution: try Constitution.charterDefault, configuration: feedback,
                                   models: [judge], run: quiet)
        let record = try XCTUnwrap(Stages.readRecords(LabelRecord.self, from: labels).first)
        XCTAssertEqual(record.chosen, .text(" Hello there."))
        XCTAssertEqual(record.rejected, .text(" Go away."))
        XCTAssertFalse(judge.prompts.isEmpty)
        XCTAssertTrue(judge.prompts.allSatisfy { $0.contains("\n(A) Hello there.") || $0.contains("\n(A) Go away.") }, "\(judge.prompts)")
        XCTAssertFalse(judge.prompts.contains { $0.contains("(A)  ") || $0.contains("(B)  ") })
    }
}
