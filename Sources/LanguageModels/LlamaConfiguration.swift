import Foundation

/// Configuration of the Llama family (Llama 2/3, SmolLM, TinyLlama, Mistral, Qwen2), read from a Hugging Face
/// `config.json`. Field names in `CodingKeys` are the HF keys.
public struct LlamaConfiguration: Codable, Equatable, Sendable {
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
    public struct RopeScaling: Codable, Equatable, Sendable {
        public var type: String
        public var factor: Double?
        public var lowFrequencyFactor: Double?
        public var highFrequencyFactor: Double?
        public var originalMaximumPositionEmbeddings: Int?
        public var ropeTheta: Double?

        enum CodingKeys: String, CodingKey {
            case type, ropeType = "rope_type", factor, lowFrequencyFactor = "low_freq_factor"
            case highFrequencyFactor = "high_freq_factor", originalMaximumPositionEmbeddings = "original_max_position_embeddings"
            case ropeTheta = "rope_theta"
        }

        public init(type: String, factor: Double? = nil) { self.type = type; self.factor = factor }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            type = try c.decodeIfPresent(String.self, forKey: .ropeType) ?? c.decodeIfPresent(String.self, forKey: .type) ?? "default"
            factor = try c.decodeIfPresent(Double.self, forKey: .factor)
            lowFrequencyFactor = try c.decodeIfPresent(Double.self, forKey: .lowFrequencyFactor)
            highFrequencyFactor = try c.decodeIfPresent(Double.self, forKey: .highFrequencyFactor)
            originalMaximumPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .originalMaximumPositionEmbeddings)
            ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta)
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(type, forKey: .ropeType)
            try c.encodeIfPresent(factor, forKey: .factor)
            try c.encodeIfPresent(lowFrequencyFactor, forKey: .lowFrequencyFactor)
            try c.encodeIfPresent(highFrequencyFactor, forKey: .highFrequencyFactor)
            try c.encodeIfPresent(originalMaximumPositionEmbeddings, forKey: .originalMaximumPositionEmbeddings)
        }
    }

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", vocabularySize = "vocab_size", hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size", layerCount = "num_hidden_layers", headCount = "num_attention_heads"
        case keyValueHeadCount = "num_key_value_heads", headSize = "head_dim", rmsNormEpsilon = "rms_norm_eps"
        case ropeTheta = "rope_theta", ropeScaling = "rope_scaling", ropeParameters = "rope_parameters"
        case attentionBias = "attention_bias", mlpBias = "mlp_bias", tieWordEmbeddings = "tie_word_embeddings"
        case maximumPositionEmbeddings = "max_position_embeddings", slidingWindow = "sliding_window"
        case useSlidingWindow = "use_sliding_window", hiddenActivation = "hidden_act"
        case bosTokenId = "bos_token_id", eosTokenId = "eos_token_id"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = LlamaConfiguration()
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? d.modelType
        vocabularySize = try c.decodeIfPresent(Int.self, forKey: .vocabularySize) ?? d.vocabularySize
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? d.hiddenSize
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? d.intermediateSize
        layerCount = try c.decodeIfPresent(Int.self, forKey: .layerCount) ?? d.layerCount
        headCount = try c.decodeIfPresent(Int.self, forKey: .headCount) ?? d.headCount
        keyValueHeadCount = try c.decodeIfPresent(Int.self, forKey: .keyValueHeadCount)
        headSize = try c.decodeIfPresent(Int.self, forKey: .headSize)
        rmsNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .rmsNormEpsilon) ?? d.rmsNormEpsilon
        // transformers 5 moved rope_theta and rope_scaling into rope_parameters.
        let parameters = try c.decodeIfPresent(RopeScaling.self, forKey: .ropeParameters)
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? parameters?.ropeTheta ?? d.ropeTheta
        ropeScaling = try c.decodeIfPresent(RopeScaling.self, forKey: .ropeScaling) ?? parameters
        if ropeScaling?.type == "default" { ropeScaling = nil }
        attentionBias = try c.decodeIfPresent(Bool.self, forKey: .attentionBias) ?? (modelType == "qwen2")
        mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias) ?? d.mlpBias
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? d.tieWordEmbeddings
        maximumPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maximumPositionEmbeddings) ?? d.maximumPositionEmbeddings
        slidingWindow = try c.decodeIfPresent(Int.self, forKey: .slidingWindow)
        useSlidingWindow = try c.decodeIfPresent(Bool.self, forKey: .useSlidingWindow)
        hiddenActivation = try c.decodeIfPresent(String.self, forKey: .hiddenActivation) ?? d.hiddenActivation
        bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId)
        if let single = try? c.decodeIfPresent(Int.self, forKey: .eosTokenId) {
            eosTokenId = [single]
        } else {
            eosTokenId = try c.decodeIfPresent([Int].self, forKey: .eosTokenId)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(modelType, forKey: .modelType)
        try c.encode(vocabularySize, forKey: .vocabularySize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(layerCount, forKey: .layerCount)
        try c.encode(headCount, forKey: .headCount)
        try c.encode(resolvedKeyValueHeadCount, forKey: .keyValueHeadCount)
        try c.encode(resolvedHeadSize, forKey: .headSize)
        try c.encode(rmsNormEpsilon, forKey: .rmsNormEpsilon)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encodeIfPresent(ropeScaling, forKey: .ropeScaling)
        if modelType != "qwen2" { try c.encode(attentionBias, forKey: .attentionBias) }
        if modelType == "llama" { try c.encode(mlpBias, forKey: .mlpBias) }
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encode(maximumPositionEmbeddings, forKey: .maximumPositionEmbeddings)
        try c.encodeIfPresent(slidingWindow, forKey: .slidingWindow)
        try c.encodeIfPresent(useSlidingWindow, forKey: .useSlidingWindow)
        try c.encode(hiddenActivation, forKey: .hiddenActivation)
        try c.encodeIfPresent(bosTokenId, forKey: .bosTokenId)
        if let eosTokenId { eosTokenId.count == 1 ? try c.encode(eosTokenId[0], forKey: .eosTokenId) : try c.encode(eosTokenId, forKey: .eosTokenId) }
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
            break  // validated when the model is built
        }
        return frequencies
    }
}
