import Foundation
import LanguageModels
import Tensors
import XCTest
@testable import Constitutional

/// Tiny random models saved as Hugging Face folders (the gpt2 byte-level tokenizer fixture + a two-layer Llama):
/// they write gibberish, which is all the pipeline mechanics need.
enum TinyModels {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func temporaryDirectory(_ label: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// - Parameter beginningOfSequence: prepend `<|endoftext|>` to every encoding (as Llama tokenizers prepend BOS),
    ///   so that even an empty prompt has a token to condition on.
    static func folder(in parent: URL, name: String, seed: UInt64, beginningOfSequence: Bool = false) throws -> URL {
        let directory = parent.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let source = repository.appendingPathComponent("Tests/TokenizersTests/Fixtures/gpt2/tokenizer.json")
        if beginningOfSequence {
            var tokenizer = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: source)) as? [String: Any])
            tokenizer["post_processor"] = [
                "type": "TemplateProcessing",
                "single": [["SpecialToken": ["id": "<|endoftext|>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]],
                "pair": [["Sequence": ["id": "A", "type_id": 0]], ["Sequence": ["id": "B", "type_id": 1]]],
                "special_tokens": ["<|endoftext|>": ["id": "<|endoftext|>", "ids": [0], "tokens": ["<|endoftext|>"]]],
            ]
            try JSONSerialization.data(withJSONObject: tokenizer).write(to: directory.appendingPathComponent("tokenizer.json"))
        } else {
            try FileManager.default.copyItem(at: source, to: directory.appendingPathComponent("tokenizer.json"))
        }
        let bos = beginningOfSequence ? #""<|endoftext|>""# : "null"
        try #"{"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "bos_token": \#(bos)}"#
            .write(to: directory.appendingPathComponent("tokenizer_config.json"), atomically: true, encoding: .utf8)
        var configuration = LlamaConfiguration()
        configuration.vocabularySize = 1008
        configuration.hiddenSize = 16
        configuration.intermediateSize = 32
        configuration.layerCount = 1
        configuration.headCount = 2
        configuration.keyValueHeadCount = 1
        configuration.tieWordEmbeddings = true
        var generator = SeededGenerator(seed: seed)
        try PretrainedModel.save(LlamaModel(configuration, generator: &generator), to: directory)
        return directory
    }
}

/// Shared call budgets: the wrapped models stop the run (as a kill would) once a budget is spent.
final class CallBudget: @unchecked Sendable {
    private let lock = NSLock()
    private var completions: Int
    private var scores: Int
    init(completions: Int = .max, scores: Int = .max) {
        self.completions = completions
        self.scores = scores
    }
    func spendCompletion() throws { try lock.withLock { if completions <= 0 { throw CancellationError() }; completions -= 1 } }
    func spendScore() throws { try lock.withLock { if scores <= 0 { throw CancellationError() }; scores -= 1 } }
}

/// A model that cancels the run when its budget is spent.
struct InterruptingModel: LanguageModel {
    let base: any LanguageModel
    let budget: CallBudget
    var name: String { base.name }
    func complete(_ request: CompletionRequest) async throws -> Completion {
        try budget.spendCompletion()
        return try await base.complete(request)
    }
    func chat(_ request: ChatRequest) async throws -> Completion {
        try budget.spendCompletion()
        return try await base.chat(request)
    }
    func score(prompt: String, completion: String) async throws -> Score {
        try budget.spendScore()
        return try await base.score(prompt: prompt, completion: completion)
    }
}

/// A model that fails (not cancels) every call for the listed prompts' items, to test the failures file.
struct FailingModel: LanguageModel {
    let base: any LanguageModel
    let failWhenPromptContains: String
    var name: String { base.name }
    struct Failure: Error, CustomStringConvertible { var description: String { "simulated endpoint failure (HTTP 503)" } }
    func complete(_ request: CompletionRequest) async throws -> Completion {
        if request.prompt.contains(failWhenPromptContains) { throw Failure() }
        return try await base.complete(request)
    }
    func chat(_ request: ChatRequest) async throws -> Completion { try await base.chat(request) }
    func score(prompt: String, completion: String) async throws -> Score { try await base.score(prompt: prompt, completion: completion) }
}
