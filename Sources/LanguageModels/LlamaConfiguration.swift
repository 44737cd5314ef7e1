import Foundation
import Settings

/// Configuration of the Llama family (Llama 2/3, SmolLM, TinyLlama, Mistral, Qwen2), read from a Hugging Face
/// `config.json`. `fields` lists the HF keys.
public struct LlamaConfiguration: KeyedSettings, Equatable, Sendable {
    public var modelType = "llama"
    public var vocabularySize = 32000
    public var hiddenSize = 4096
    public var intermediateSize = 11008
    public var layerCount = 32
    public var headCount = 32
    /// Key/value heads (grouped-query attention when fewer than `headCount`).
    public var keyValueHeadCount: Int?
    public var headSize: Int?
    public var rmsNormEpsilon: Float = 1e-6
    public var ropeTheta: Double = 10000
    public var ropeScaling: RopeScaling?
    /// Bias on q/k/v/o projections (Llama `attention_bias`); Qwen2 always has q/k/v biases.
    public var attentionBias = false
    public var mlpBias = false
    public var tieWordEmbeddings = false
    public var maximumPositionEmbeddings = 2048
    /// Mistral: each query attends only the last `slidingWindow` keys.
    public var slidingWindow: Int?
    public var useSlidingWindow: Bool?
    public var hiddenActivation = "silu"
    public var bosTokenId: Int?
    public var eosTokenId: [Int]?

    /// `rope_scaling` (or transformers 5's `rope_parameters`).
    public struct RopeScaling: KeyedSettings, Equatable, Sendable {
        public var type: String
        public var factor: Double?
        public var lowFrequencyFactor: Double?
        public var highFrequencyFactor: Double?
        public var originalMaximumPositionEmbeddings: Int?
        public var ropeTheta: Double?

        public init() { type = "default" }
        public init(type: String, factor: Double? = nil) { self.type = type; self.factor = factor }

        public static var fields: [SettingsField<Self>] {
            [SettingsField(keys: ["rope_type", "type"], read: { scaling, container in
                 // transformers writes `rope_type`; older configs `type`.
                 scaling.type = try container.decodeIfPresent(String.self, forKey: SettingsKey("rope_type"))
                     ?? container.decodeIfPresent(String.self, forKey: SettingsKey("type")) ?? scaling.type
             }, write: { scaling, container in try container.encode(scaling.type, forKey: SettingsKey("rope_type")) }),
             .init("factor", \.factor, omitsNil: true), .init("low_freq_factor", \.lowFrequencyFactor, omitsNil: true),
             .init("high_freq_factor", \.highFrequencyFactor, omitsNil: true),
             .init("original_max_position_embeddings", \.originalMaximumPositionEmbeddings, omitsNil: true),
             // Read (transformers 5 keeps the base frequency here) but written at the configuration's top level.
             SettingsField(keys: ["rope_theta"], read: { scaling, container in
                 scaling.ropeTheta = try container.decodeIfPresent(Double.self, forKey: SettingsKey("rope_theta"))
             }, write: { _, _ in })]
        }
    }

    public init() {}

    /// Every `config.json` key read (the defaults are the property values above; `encode(to:)` writes what
    /// transformers expects, with resolved head counts).
    public static var fields: [SettingsField<Self>] {
        [.init("model_type", \.modelType), .init("vocab_size", \.vocabularySize, where: .dimension),
         .init("hidden_size", \.hiddenSize, where: .dimension), .init("intermediate_size", \.intermediateSize, where: .dimension),
         .init("num_hidden_layers", \.layerCount, where: .dimension), .init("num_attention_heads", \.headCount, where: .dimension),
         .init("num_key_value_heads", \.keyValueHeadCount, where: .dimension), .init("head_dim", \.headSize, where: .dimension),
         .init("rms_norm_eps", \.rmsNormEpsilon, where: .epsilon), rope,
         .init("attention_bias", \.attentionBias), .init("mlp_bias", \.mlpBias),
         .init("tie_word_embeddings", \.tieWordEmbeddings),
         .init("max_position_embeddings", \.maximumPositionEmbeddings, where: .dimension),
         .init("sliding_window", \.slidingWindow, where: .dimension), .init("use_sliding_window", \.useSlidingWindow),
         .init("hidden_act", \.hiddenActivation, where: .oneOf(["silu"])), .init("bos_token_id", \.bosTokenId),
         .init("eos_token_id", oneOrMany: \.eosTokenId)]
    }

    static let sizeKeys = ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                           "max_position_embeddings"]
    /// The `rope_scaling` types Charter implements.
    public static let ropeScalingTypes = ["linear", "llama3"]

    /// Checks every value and the relations transformers relies on (heads divide the width, key/value heads divide
    /// the heads, rotary pairs), naming the key.
    /// - Throws: `SettingsError`.
    public func validate() throws {
        try checkRanges()
        try Self.require(ropeTheta.isFinite && ropeTheta > 0, "rope_theta", "must be a positive number (got \(ropeTheta))")
        if headSize == nil {
            try Self.require(hiddenSize % headCount == 0, "hidden_size",
                             "must be divisible by num_attention_heads, or head_dim must be set (got hidden_size \(hiddenSize), num_attention_heads \(headCount))")
        }
        try Self.require(resolvedHeadSize % 2 == 0, headSize == nil ? "num_attention_heads" : "head_dim",
                         "gives an odd head size \(resolvedHeadSize); rotary positions rotate pairs of channels, so it must be even")
        try Self.require(headCount % resolvedKeyValueHeadCount == 0, "num_key_value_heads",
                         "must divide num_attention_heads (got num_key_value_heads \(resolvedKeyValueHeadCount), num_attention_heads \(headCount))")
        guard let scaling = ropeScaling else { return }
        try Self.require(Self.ropeScalingTypes.contains(scaling.type), "rope_scaling.rope_type",
                         "\"\(scaling.type)\" is not supported (supported: \(Self.ropeScalingTypes.joined(separator: ", ")))")
        for (key, value) in [("factor", scaling.factor), ("low_freq_factor", scaling.lowFrequencyFactor),
                             ("high_freq_factor", scaling.highFrequencyFactor)] {
            guard let value else { continue }
            try Self.require(value.isFinite && value > 0, "rope_scaling.\(key)", "must be a positive number (got \(value))")
        }
        try Self.require((scaling.originalMaximumPositionEmbeddings ?? 1) >= 1, "rope_scaling.original_max_position_embeddings",
                         "must be at least 1 (got \(scaling.originalMaximumPositionEmbeddings ?? 0))")
    }

    /// `rope_theta` and `rope_scaling`, or transformers 5's `rope_parameters` holding both.
    private static var rope: SettingsField<Self> {
        SettingsField(keys: ["rope_theta", "rope_scaling", "rope_parameters"], read: { configuration, container in
            let parameters = try container.decodeIfPresent(RopeScaling.self, forKey: SettingsKey("rope_parameters"))
            configuration.ropeTheta = try container.decodeIfPresent(Double.self, forKey: SettingsKey("rope_theta"))
                ?? parameters?.ropeTheta ?? configuration.ropeTheta
            configuration.ropeScaling = try container.decodeIfPresent(RopeScaling.self, forKey: SettingsKey("rope_scaling"))
                ?? parameters
            if configuration.ropeScaling?.type == "default" { configuration.ropeScaling = nil }
        }, write: { _, _ in })
    }

    public init(from decoder: Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: SettingsKey.self)
        try read(from: container)
        // Qwen2 has q/k/v biases without saying so.
        if !container.contains(SettingsKey("attention_bias")) { attentionBias = modelType == "qwen2" }
    }

    /// Writes what transformers writes: resolved head counts, keys of other architectures left out.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: SettingsKey.self)
        try c.encode(modelType, forKey: SettingsKey("model_type"))
        try c.encode(vocabularySize, forKey: SettingsKey("vocab_size"))
        try c.encode(hiddenSize, forKey: SettingsKey("hidden_size"))
        try c.encode(intermediateSize, forKey: SettingsKey("intermediate_size"))
        try c.encode(layerCount, forKey: SettingsKey("num_hidden_layers"))
        try c.encode(headCount, forKey: SettingsKey("num_attention_heads"))
        try c.encode(resolvedKeyValueHeadCount, forKey: SettingsKey("num_key_value_heads"))
        try c.encode(resolvedHeadSize, forKey: SettingsKey("head_dim"))
        try c.encode(rmsNormEpsilon, forKey: SettingsKey("rms_norm_eps"))
        try c.encode(ropeTheta, forKey: SettingsKey("rope_theta"))
        try c.encodeIfPresent(ropeScaling, forKey: SettingsKey("rope_scaling"))
        if modelType != "qwen2" { try c.encode(attentionBias, forKey: SettingsKey("attention_bias")) }
        if modelType == "llama" { try c.encode(mlpBias, forKey: SettingsKey("mlp_bias")) }
        try c.encode(tieWordEmbeddings, forKey: SettingsKey("tie_word_embeddings"))
        try c.encode(maximumPositionEmbeddings, forKey: SettingsKey("max_position_embeddings"))
        try c.encodeIfPresent(slidingWindow, forKey: SettingsKey("sliding_window"))
        try c.encodeIfPresent(useSlidingWindow, forKey: SettingsKey("use_sliding_window"))
        try c.encode(hiddenActivation, forKey: SettingsKey("hidden_act"))
        try c.encodeIfPresent(bosTokenId, forKey: SettingsKey("bos_token_id"))
        if let eosTokenId { eosTokenId.count == 1 ? try c.encode(eosTokenId[0], forKey: SettingsKey("eos_token_id")) : try c.encode(eosTokenId, forKey: SettingsKey("eos_token_id")) }
    }

    public var resolvedKeyValueHeadCount: Int { keyValueHeadCount ?? headCount }
    public var resolvedHeadSize: Int { headSize ?? hiddenSize / headCount }
    /// The window actually applied (Qwen2 declares one but disables it unless `use_sliding_window`).
    public var effectiveSlidingWindow: Int? {
        if modelType == "qwen2" && useSlidingWindow != true { return nil }
        return slidingWindow
    }
    /// q/k/v biases; the output projection has one only with Llama's `attention_bias`.
    var queryKeyValueBias: Bool { attentionBias }
    var outputBias: Bool { attentionBias && modelType != "qwen2" }

    /// Rotary inverse frequencies, with `rope_scaling` applied (transformers' `_compute_*_parameters`).
    func inverseFrequencies() -> [Double] {
        let size = resolvedHeadSize
        var frequencies = (0..<(size / 2)).map { 1 / Foundation.pow(ropeTheta, Double(2 * $0) / Double(size)) }
        guard let scaling = ropeScaling else { return frequencies }
        switch scaling.type {
        case "linear":
            let factor = scaling.factor ?? 1
            frequencies = frequencies.map { $0 / factor }
        case "llama3":
            // Long wavelengths are slowed by `factor`, short ones kept, and the band between interpolated.
            let factor = scaling.factor ?? 8, low = scaling.lowFrequencyFactor ?? 1, high = scaling.highFrequencyFactor ?? 4
            let original = Double(scaling.originalMaximumPositionEmbeddings ?? 8192)
            let lowWavelength = original / low, highWavelength = original / high
            frequencies = frequencies.map { frequency in
                let wavelength = 2 * Double.pi / frequency
                if wavelength < highWavelength { return frequency }
                if wavelength > lowWavelength { return frequency / factor }
                let smooth = (original / wavelength - low) / (high - low)
                return (1 - smooth) * frequency / factor + smooth * frequency
            }
        default:
            break  // `validate()` refuses other types
        }
        return frequencies
    }
}
