import Foundation
import Settings

/// The one sampling-settings type: how a continuation is sampled and when it stops, with OpenAI's field meanings
/// and keys (`max_tokens`, `temperature`, `top_p`, `top_k`, `min_p`, `stop`, `seed`, `top_logprobs`). Requests to
/// local and remote models, local generation (`GenerationConfiguration`), recipes and audit records all use it.
public struct SamplingOptions: KeyedSettings, Equatable, Sendable {
    public var maximumTokens: Int = 256
    /// 0 = greedy (argmax); otherwise logits are divided by it.
    public var temperature: Float = 1
    /// Keep the smallest set of most likely tokens whose probability reaches p (1 = off).
    public var topP: Float = 1
    /// Keep only the k most likely tokens (0 = off). Not in OpenAI's API, but accepted by vLLM and llama.cpp.
    public var topK: Int = 0
    /// Drop tokens less likely than minP × the most likely one (0 = off; vLLM and llama.cpp).
    public var minP: Float = 0
    /// Strings that end a sequence; the text is cut before the first one.
    public var stop: [String] = []
    /// nil: the server (or generation's default, 0) chooses.
    public var seed: UInt64?
    /// Return this many most likely alternatives with each generated token (0: only the token's own log-prob;
    /// nil: no log-probs).
    public var topLogProbabilities: Int?

    public init() {}

    public init(maximumTokens: Int = 256, temperature: Float = 1, topP: Float = 1, topK: Int = 0, minP: Float = 0,
                stop: [String] = [], seed: UInt64? = nil, topLogProbabilities: Int? = nil) {
        self.maximumTokens = maximumTokens
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
        self.stop = stop
        self.seed = seed
        self.topLogProbabilities = topLogProbabilities
    }

    /// Greedy decoding (temperature 0).
    public static let greedy = SamplingOptions(temperature: 0)

    public static var fields: [SettingsField<Self>] {
        [.init("max_tokens", \.maximumTokens, where: .atLeast(0)), .init("temperature", \.temperature, where: .atLeast(0)),
         .init("top_p", \.topP, where: .within(0...1)), .init("top_k", \.topK, where: .atLeast(0)),
         .init("min_p", \.minP, where: .within(0...1)),
         // Written only when set, so audit records of the distribution settings stay as they were.
         SettingsField(keys: ["stop"], read: { options, container in
             options.stop = try container.decodeIfPresent([String].self, forKey: SettingsKey("stop")) ?? options.stop
         }, write: { options, container in
             if !options.stop.isEmpty { try container.encode(options.stop, forKey: SettingsKey("stop")) }
         }),
         .init("seed", \.seed, omitsNil: true), .init("top_logprobs", \.topLogProbabilities, omitsNil: true)]
    }

    /// The keys a recipe's `sampling:` may set (seeds and stops are the stage's, per item).
    public static let recipeKeys = ["max_tokens", "temperature", "top_p", "top_k", "min_p"]

    /// These settings with a per-item seed and stop strings.
    public func with(seed: UInt64, stop: [String]) -> SamplingOptions {
        var options = self
        options.seed = seed
        options.stop = stop
        return options
    }
}
