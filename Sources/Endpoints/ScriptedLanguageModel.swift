import Foundation
import LanguageModels
import Runtime

/// A deterministic character-level stand-in for a language model, for tests, demos and load tests of the HTTP
/// layer (it knows no language). Each character is a token; log p(c | context) is a fixed hash of (context, c),
/// so scores, greedy generations and seeded samples are reproducible across processes and machines.
public struct ScriptedLanguageModel: LanguageModel, BatchedGeneration {
    public let name: String
    /// Characters it can emit.
    public static let alphabet: [Character] = Array("abcdefgh .")
    /// Time each call takes (to exercise timeouts, batching and concurrency).
    public var latencySeconds: Double

    public init(name: String = "scripted", latencySeconds: Double = 0) {
        self.name = name
        self.latencySeconds = latencySeconds
    }

    /// log p(character | context): a value in [-4.1, -0.1] from a hash; not normalised.
    public static func logProbability(of character: Character, after context: String) -> Float {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in (context + "\u{1}" + String(character)).utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return -(0.1 + Float(hash % 1000) / 250)
    }

    public func complete(_ request: CompletionRequest) async throws -> Completion {
        try await pause()
        return generate(prompt: request.prompt, options: request.options)
    }

    public func completeBatch(_ requests: [CompletionRequest]) async throws -> [Completion] {
        try await pause()
        return requests.map { generate(prompt: $0.prompt, options: $0.options) }
    }

    public func chat(_ request: ChatRequest) async throws -> Completion {
        try await pause()
        return generate(prompt: Self.render(request.messages), options: request.options)
    }

    public func score(prompt: String, completion: String) async throws -> Score {
        try await pause()
        var context = prompt
        var tokens: [TokenLogProbability] = []
        for character in completion {
            tokens.append(TokenLogProbability(token: String(character), logProbability: Self.logProbability(of: character, after: context)))
            context.append(character)
        }
        return Score(tokens: tokens)
    }

    /// The chat "template": one `role: content` line per message, then `assistant: `.
    public static func render(_ messages: [ChatMessage]) -> String {
        messages.map { "\($0.role): \($0.content)\n" }.joined() + "assistant: "
    }

    private func pause() async throws {
        if latencySeconds > 0 { try await Task.sleep(nanoseconds: UInt64(latencySeconds * 1e9)) }
    }

    /// Greedy at temperature 0; otherwise samples exp(logp / temperature) with a generator seeded by (seed, prompt).
    func generate(prompt: String, options: SamplingOptions) -> Completion {
        var random = SplitMix64(seed: (options.seed ?? 0) ^ UInt64(truncatingIfNeeded: prompt.unicodeScalars.count) &* 0x9e37_79b9)
        var context = prompt, text = "", finish = FinishReason.length
        var tokens: [TokenLogProbability] = []
        for _ in 0..<max(0, options.maximumTokens) {
            let scored = Self.alphabet.map { ($0, Self.logProbability(of: $0, after: context)) }
            var chosen = scored[0].0
            if options.temperature <= 0 {
                for (character, logProbability) in scored where logProbability > Self.logProbability(of: chosen, after: context) {
                    chosen = character
                }
            } else {
                let weights = scored.map { exp(Double($0.1) / Double(options.temperature)) }
                chosen = scored[random.weightedIndex(weights)].0
            }
            let top = scored.map { TokenLogProbability.Alternative(token: String($0.0), logProbability: $0.1) }
                .sortedByLikelihood().prefix(options.topLogProbabilities ?? 0)
            tokens.append(TokenLogProbability(token: String(chosen), logProbability: Self.logProbability(of: chosen, after: context), top: Array(top)))
            context.append(chosen)
            text.append(chosen)
            if let cut = options.stop.compactMap({ text.range(of: $0)?.lowerBound }).min() {
                text = String(text[..<cut])
                finish = .stop
                break
            }
        }
        return Completion(
            text: text, finishReason: finish, tokens: options.topLogProbabilities == nil ? nil : tokens,
            promptTokenCount: prompt.count, completionTokenCount: tokens.count)
    }
}

/// The scripted stand-in counts characters (each is one of its tokens) and has no context bound.
extension ScriptedLanguageModel: PromptMeasuring {
    public var contextLength: Int? { nil }
    public func tokenCount(prompt: String) throws -> Int { prompt.count }
    public func tokenCount(messages: [ChatMessage]) throws -> Int { Self.render(messages).count }
}
