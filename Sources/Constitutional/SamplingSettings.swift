import Foundation
import LanguageModels
import Settings

/// Sampling settings as written in audit records and recipes (OpenAI/TRL names).
public struct SamplingSettings: KeyedSettings, Equatable, Sendable {
    public var maxTokens = 256
    public var temperature: Float = 1
    public var topP: Float = 1
    public var topK = 0
    public var minP: Float = 0

    public init() {}

    public init(maxTokens: Int = 256, temperature: Float = 1, topP: Float = 1, topK: Int = 0, minP: Float = 0) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
    }

    public static var fields: [SettingsField<Self>] {
        [.init("max_tokens", \.maxTokens), .init("temperature", \.temperature), .init("top_p", \.topP),
         .init("top_k", \.topK), .init("min_p", \.minP)]
    }

    /// The protocol's options with a seed and stop strings.
    func options(seed: UInt64, stop: [String]) -> SamplingOptions {
        SamplingOptions(maximumTokens: maxTokens, temperature: temperature, topP: topP, topK: topK, minP: minP, stop: stop, seed: seed)
    }
}
