import Foundation
import LanguageModels
import Tensors

/// Tiny random models saved as Hugging Face folders (the gpt2 byte-level tokenizer fixture + a two-layer Llama):
/// they write gibberish, which is all the pipeline mechanics need.
public enum TinyModels {
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func temporaryDirectory(_ label: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// - Parameter beginningOfSequence: prepend `<|endoftext|>` to every encoding (as Llama tokenizers prepend BOS),
    ///   so that even an empty prompt has a token to condition on.
    public static func folder(in parent: URL, name: String, seed: UInt64, beginningOfSequence: Bool = false) throws -> URL {
        let directory = parent.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let source = repository.appendingPathComponent("Tests/TokenizersTests/Fixtures/gpt2/tokenizer.json")
        if beginningOfSequence {
            guard var tokenizer = try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as? [String: Any] else {
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: source.path])
            }
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
public final class CallBudget: @unchecked Sendable {
    private let lock = NSLock()
    private var completions: Int
    private var scores: Int
    public init(completions: Int = .max, scores: Int = .max) {
        self.completions = completions
        self.scores = scores
    }
    public func spendCompletion() throws { try lock.withLock { if completions <= 0 { throw CancellationError() }; completions -= 1 } }
    public func spendScore() throws { try lock.withLock { if scores <= 0 { throw CancellationError() }; scores -= 1 } }
}

/// A model that cancels the run when its budget is spent.
public struct InterruptingModel: LanguageModel {
    let base: any LanguageModel
    let budget: CallBudget
    public var name: String { base.name }
    public init(base: any LanguageModel, budget: CallBudget) {
        self.base = base
        self.budget = budget
    }
    public func complete(_ request: CompletionRequest) async throws -> Completion {
        try budget.spendCompletion()
        return try await base.complete(request)
    }
    public func chat(_ request: ChatRequest) async throws -> Completion {
        try budget.spendCompletion()
        return try await base.chat(request)
    }
    public func score(prompt: String, completion: String) async throws -> Score {
        try budget.spendScore()
        return try await base.score(prompt: prompt, completion: completion)
    }
}

/// A model that fails (not cancels) every call for the listed prompts' items, to test the failures file.
public struct FailingModel: LanguageModel {
    let base: any LanguageModel
    let failWhenPromptContains: String
    public var name: String { base.name }
    public init(base: any LanguageModel, failWhenPromptContains: String) {
        self.base = base
        self.failWhenPromptContains = failWhenPromptContains
    }
    struct Failure: Error, CustomStringConvertible { var description: String { "simulated endpoint failure (HTTP 503)" } }
    public func complete(_ request: CompletionRequest) async throws -> Completion {
        if request.prompt.contains(failWhenPromptContains) { throw Failure() }
        return try await base.complete(request)
    }
    public func chat(_ request: ChatRequest) async throws -> Completion { try await base.chat(request) }
    public func score(prompt: String, completion: String) async throws -> Score { try await base.score(prompt: prompt, completion: completion) }
}
