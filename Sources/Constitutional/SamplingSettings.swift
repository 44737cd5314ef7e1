import Foundation
import LanguageModels

/// Sampling settings as written in audit records and recipes (OpenAI/TRL names).
public struct SamplingSettings: Codable, Equatable, Sendable {
    public var maxTokens = 256
    public var temperature: Float = 1
    public var topP: Float = 1
    public var topK = 0
    public var minP: Float = 0

    public enum CodingKeys: String, CodingKey, CaseIterable { case maxTokens = "max_tokens", temperature, topP = "top_p", topK = "top_k", minP = "min_p" }

    public init(maxTokens: Int = 256, temperature: Float = 1, topP: Float = 1, topK: Int = 0, minP: Float = 0) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SamplingSettings()
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens) ?? d.maxTokens
        temperature = try c.decodeIfPresent(Float.self, forKey: .temperature) ?? d.temperature
        topP = try c.decodeIfPresent(Float.self, forKey: .topP) ?? d.topP
        topK = try c.decodeIfPresent(Int.self, forKey: .topK) ?? d.topK
        minP = try c.decodeIfPresent(Float.self, forKey: .minP) ?? d.minP
    }

    /// The protocol's options with a seed and stop strings.
    func options(seed: UInt64, stop: [String]) -> SamplingOptions {
        SamplingOptions(maximumTokens: maxTokens, temperature: temperature, topP: topP, topK: topK, minP: minP, stop: stop, seed: seed)
    }
}
