import Foundation
import JSON
import Tensors
import Tokenizers

/// A model running in this process: a `CausalLanguageModel` with its tokenizer, behind the `LanguageModel`
/// interface. Requests are served one at a time (the engine uses both cores for each).
public actor LocalLanguageModel: LanguageModel {
    public nonisolated let name: String
    public nonisolated(unsafe) let model: any CausalLanguageModel
    let tokenizer: Tokenizer
    /// A safety circuit watching every generation (nil: none): a sequence it stops finishes with `content_filter`.
    /// Set it before serving; requests run one batch at a time, so the monitor is never used concurrently.
    public nonisolated(unsafe) var monitor: (any GenerationMonitor)?
    /// Activation steering of every generation from its first token, and of a sequence from the monitor's trigger on
    /// (``Generator/steering``, ``Generator/steeringOnTrigger``; nil: none). Set them before serving, as the monitor.
    public nonisolated(unsafe) var steering: ActivationSteering?
    public nonisolated(unsafe) var steeringOnTrigger: ActivationSteering?
    /// How generation's KV cache stores keys and values (``Generator/kvCachePrecision``). Set it before serving.
    public nonisolated(unsafe) var kvCachePrecision: SequenceBuffer.Precision = .float32
    /// Renders a conversation into a prompt that ends where the assistant's reply begins.
    let formatChat: (@Sendable ([ChatMessage]) throws -> String)?
    /// Tokens that end generation (generation_config.json's eos ids and the tokenizer's eos token).
    public nonisolated let endOfSequenceTokens: [Int32]

    /// Why there is no chat formatter (e.g. an unrecognised template), reported when chat is requested.
    let chatTemplateProblem: String?
    /// Keys and values of earlier prompts, reused by requests that start the same way (nil: every request is
    /// prefilled in full). Results are bit-identical either way.
    public nonisolated let prefixCache: PrefixCache?

    /// Whether `chat` works: the folder's chat template was recognised, or a built-in family was named.
    public nonisolated var hasChatTemplate: Bool { formatChat != nil }

    public init(name: String, model: any CausalLanguageModel, tokenizer: Tokenizer, endOfSequenceTokens: [Int32],
                formatChat: (@Sendable ([ChatMessage]) throws -> String)?, chatTemplateProblem: String? = nil,
                prefixCache: PrefixCache? = nil) {
        self.name = name
        self.prefixCache = prefixCache
        self.chatTemplateProblem = chatTemplateProblem
        self.model = model
        self.tokenizer = tokenizer
        self.endOfSequenceTokens = endOfSequenceTokens
        self.formatChat = formatChat
    }

    public func complete(_ request: CompletionRequest) async throws -> Completion {
        try generate(prompt: request.prompt, addSpecialTokens: true, options: request.options)
    }

    public func chat(_ request: ChatRequest) async throws -> Completion {
        guard let formatChat else {
            throw LanguageModelError.noChatTemplate(model: name, reason: chatTemplateProblem)
        }
        // The template writes any BOS itself, so the tokenizer must not add another.
        return try generate(prompt: try formatChat(request.messages), addSpecialTokens: false, options: request.options)
    }

    public func score(prompt: String, completion: String) async throws -> Score {
        // TRL's convention: the prompt with the tokenizer's special tokens, the completion without.
        let promptIds = tokenizer.encode(prompt).map(Int32.init)
        let completionIds = tokenizer.encode(completion, addSpecialTokens: false).map(Int32.init)
        guard !completionIds.isEmpty else { return Score(tokens: []) }
        guard !promptIds.isEmpty else { throw LanguageModelError.emptyPrompt(model: name) }
        try model.checkContext(tokens: promptIds.count + completionIds.count, item: "\(name): the prompt with its completion")
        let logProbabilities = try prefixCache.map { try model.tokenLogProbabilities(promptIds + completionIds, from: promptIds.count, prefixCache: $0) }
            ?? Array(model.tokenLogProbabilities([promptIds + completionIds])[0].suffix(completionIds.count))
        return Score(tokens: zip(completionIds, logProbabilities).map {
            TokenLogProbability(token: tokenizer.decode([Int($0.0)]), logProbability: $0.1)
        })
    }

    /// Generates for several prompts in one batch (one forward pass per token for all of them), each with its own
    /// settings and seed, so each result is what `complete` gives for that request alone (up to float rounding of
    /// the batched arithmetic).
    public func completeBatch(_ requests: [CompletionRequest]) throws -> [Completion] {
        try generateBatch(requests.map { ($0.prompt, $0.options) }, addSpecialTokens: true)
    }

    /// Answers several conversations in one batch, as ``completeBatch(_:)`` does for completions: each prompt is the
    /// conversation rendered by the chat template (which writes any BOS itself).
    public func chatBatch(_ requests: [ChatRequest]) throws -> [Completion] {
        guard let formatChat else { throw LanguageModelError.noChatTemplate(model: name, reason: chatTemplateProblem) }
        return try generateBatch(try requests.map { (try formatChat($0.messages), $0.options) }, addSpecialTokens: false)
    }

    private func generateBatch(_ requests: [(prompt: String, options: SamplingOptions)], addSpecialTokens: Bool) throws -> [Completion] {
        guard requests.count > 1 else { return try requests.map { try generate(prompt: $0.prompt, addSpecialTokens: addSpecialTokens, options: $0.options) } }
        let prepared = try requests.map { try prepare(prompt: $0.prompt, addSpecialTokens: addSpecialTokens, options: $0.options) }
        let results = generator(detokenize: detokenizer)
            .generate(prompts: prepared.map(\.ids), configurations: prepared.map(\.configuration))
        return zip(zip(prepared, results), requests).map { item, request in
            completion(from: item.1, promptCount: item.0.ids.count, options: request.options)
        }
    }

    /// Generates a completion (`chat: false`) or a chat answer, calling `onText` as text becomes final: the pieces
    /// concatenate to the completion's text. Text that could begin a stop string is held back until it cannot.
    /// - Parameter onText: (new text, the summed log-probability of the tokens generated since the previous piece).
    public func stream(prompt: String, chat messages: [ChatMessage]?, options: SamplingOptions,
                       onText: (String, Float) -> Void) throws -> Completion {
        let text: String, addSpecialTokens: Bool
        if let messages {
            guard let formatChat else { throw LanguageModelError.noChatTemplate(model: name, reason: chatTemplateProblem) }
            (text, addSpecialTokens) = (try formatChat(messages), false)
        } else {
            (text, addSpecialTokens) = (prompt, true)
        }
        let (ids, configuration) = try prepare(prompt: text, addSpecialTokens: addSpecialTokens, options: options)
        let decode = detokenizer
        var tokens: [Int32] = [], sent = "", pendingLogProbability: Float = 0
        // Compared as Unicode scalars: a joiner or combining mark in a later token merges with an earlier character,
        // so Character-level prefixes would not line up.
        func extends(_ text: String, _ prefix: String) -> Bool { text.unicodeScalars.starts(with: prefix.unicodeScalars) }
        func remainder(_ text: String, after prefix: String) -> String {
            String(String.UnicodeScalarView(text.unicodeScalars.dropFirst(prefix.unicodeScalars.count)))
        }
        let generator = generator(detokenize: decode)
        let result = withoutActuallyEscaping(onText) { onText in generator.generate(prompts: [ids], configuration: configuration) { _, token, logProbability in
            tokens.append(token)
            pendingLogProbability += logProbability
            let decoded = decode(tokens)
            guard !decoded.hasSuffix("\u{FFFD}"), extends(decoded, sent) else { return }  // an incomplete character
            var stable = Generator.cut(decoded, at: options.stop)
            if stable.unicodeScalars.count == decoded.unicodeScalars.count {
                // Hold back a tail that is the beginning of some stop string.
                let hold = options.stop.map { stop in (1..<max(1, stop.count)).reversed().first { decoded.hasSuffix(String(stop.prefix($0))) } ?? 0 }.max() ?? 0
                stable = String(String.UnicodeScalarView(decoded.unicodeScalars.dropLast(hold == 0 ? 0 : String(decoded.suffix(hold)).unicodeScalars.count)))
            }
            guard stable.unicodeScalars.count > sent.unicodeScalars.count, extends(stable, sent) else { return }
            onText(remainder(stable, after: sent), pendingLogProbability)
            sent = stable
            pendingLogProbability = 0
        }[0] }
        let completion = completion(from: result, promptCount: ids.count, options: options)
        if completion.text.unicodeScalars.count > sent.unicodeScalars.count, extends(completion.text, sent) {
            onText(remainder(completion.text, after: sent), pendingLogProbability)
        }
        return completion
    }

    private func generate(prompt: String, addSpecialTokens: Bool, options: SamplingOptions) throws -> Completion {
        let (ids, configuration) = try prepare(prompt: prompt, addSpecialTokens: addSpecialTokens, options: options)
        let result = generator(detokenize: detokenizer).generate(prompts: [ids], configuration: configuration)[0]
        return completion(from: result, promptCount: ids.count, options: options)
    }

    /// A generator of this model with the monitor, the steering and the prefix cache.
    private func generator(detokenize: @escaping ([Int32]) -> String) -> Generator {
        var generator = Generator(model: model, detokenize: detokenize, monitor: monitor)
        generator.prefixCache = prefixCache
        generator.kvCachePrecision = kvCachePrecision
        (generator.steering, generator.steeringOnTrigger) = (steering, steeringOnTrigger)
        return generator
    }

    private var detokenizer: ([Int32]) -> String {
        let tokenizer = self.tokenizer
        return { tokenizer.decode($0.map(Int.init), skipSpecialTokens: true) }
    }

    /// Token ids and generation settings for one request.
    private func prepare(prompt: String, addSpecialTokens: Bool, options: SamplingOptions) throws -> (ids: [Int32], configuration: GenerationConfiguration) {
        let ids = tokenizer.encode(prompt, addSpecialTokens: addSpecialTokens).map(Int32.init)
        guard !ids.isEmpty else { throw LanguageModelError.emptyPrompt(model: name) }
        if let limit = model.maximumSequenceLength, ids.count >= limit {
            throw LanguageModelError.promptTooLong(model: name, tokens: ids.count, limit: limit)
        }
        let configuration = GenerationConfiguration(sampling: options, endOfSequenceTokens: endOfSequenceTokens)
        return (ids, configuration)
    }

    private func completion(from result: GeneratedSequence, promptCount: Int, options: SamplingOptions) -> Completion {
        var tokens: [TokenLogProbability]?
        if options.topLogProbabilities != nil {
            tokens = result.tokens.indices.map { index in
                TokenLogProbability(
                    token: tokenizer.decode([Int(result.tokens[index])]), logProbability: result.logProbabilities[index],
                    top: (index < result.alternatives.count ? result.alternatives[index] : []).map {
                        .init(token: tokenizer.decode([Int($0.token)]), logProbability: $0.logProbability)
                    })
            }
        }
        return Completion(text: result.text ?? "", finishReason: result.finishReason, tokens: tokens,
                          promptTokenCount: promptCount, completionTokenCount: result.tokens.count)
    }
}

/// Errors of a language model that a caller can act on.
public enum LanguageModelError: Error, CustomStringConvertible, LocalizedError {
    case noChatTemplate(model: String, reason: String?)
    case emptyPrompt(model: String)
    case promptTooLong(model: String, tokens: Int, limit: Int)

    public var description: String {
        switch self {
        case .noChatTemplate(let model, let reason):
            return "\(model) has no usable chat template" + (reason.map { ": \($0)" } ?? "") + "; choose one with --chat-template NAME"
        case .emptyPrompt(let model):
            return "\(model): the prompt encodes to no tokens"
        case .promptTooLong(let model, let tokens, let limit):
            return "\(model): the prompt has \(tokens) tokens, the model's context is \(limit)"
        }
    }

    public var errorDescription: String? { description }
}

extension LocalLanguageModel {
    /// Loads a Hugging Face folder: weights, tokenizer, generation_config.json's eos ids and the chat template
    /// (recognised from tokenizer_config.json, or the built-in family `chatTemplate` names).
    /// - Parameters:
    ///   - directory: a model folder, or a PEFT adapter folder whose base_model_name_or_path is one
    ///     (``AdaptedModelFolder``).
    ///   - lora: an optional PEFT adapter folder applied on top of the weights.
    ///   - prefixCacheBytes: the budget of the ``PrefixCache`` shared by this model's requests (0: none).
    ///   - precision: how the weights are held; by default as stored (a GGUF file's quantized matrices stay quantized).
    public static func load(directory: URL, chatTemplate: String? = nil, lora: URL? = nil,
                            prefixCacheBytes: Int = PrefixCache.defaultByteBudget, precision: WeightPrecision = .stored) throws -> LocalLanguageModel {
        let folders = try AdaptedModelFolder(model: directory, lora: lora)
        let (model, tokenizer) = try folders.load(precision: precision)
        var template: ChatTemplate?
        var templateProblem: String?
        if let chatTemplate {
            template = try ChatTemplate(named: chatTemplate, bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken)
        } else {
            // A folder without a usable chat template can still serve completions; chat then reports why.
            // A .gguf file's template is in its metadata (ChatTemplate(directory:) reads it).
            do { template = try ChatTemplate(directory: folders.files) } catch { templateProblem = "\(error)" }
        }
        return LocalLanguageModel(name: directory.lastPathComponent, model: model, tokenizer: tokenizer,
                                  endOfSequenceTokens: GenerationDefaults.endOfSequenceTokens(directory: folders.files, tokenizer: tokenizer),
                                  formatChat: template.map { template in { @Sendable messages in try template.render(messages, addGenerationPrompt: true).text } },
                                  chatTemplateProblem: templateProblem,
                                  prefixCache: prefixCacheBytes > 0 ? PrefixCache(byteBudget: prefixCacheBytes) : nil)
    }
}

/// Defaults a model folder declares in generation_config.json.
public enum GenerationDefaults {
    /// `eos_token_id` (a number or a list) from generation_config.json, or none.
    public static func endOfSequenceTokens(directory: URL) -> [Int32] {
        let url = directory.appendingPathComponent("generation_config.json")
        guard let data = try? Data(contentsOf: url), let object = try? JSONParser.parse(data) else { return [] }
        switch object["eos_token_id"] {
        case .number(let number)?: return number.integerValue.flatMap(Int32.init(exactly:)).map { [$0] } ?? []
        case .array(let values)?: return values.compactMap { $0.integerValue.flatMap(Int32.init(exactly:)) }
        default: return []
        }
    }

    /// Every token that ends generation: generation_config.json's eos ids and the tokenizer's eos token.
    public static func endOfSequenceTokens(directory: URL, tokenizer: Tokenizer) -> [Int32] {
        let ids = (tokenizer.eosTokenId.map { [Int32($0)] } ?? []) + endOfSequenceTokens(directory: directory)
        return Array(Set(ids)).sorted()
    }
}
