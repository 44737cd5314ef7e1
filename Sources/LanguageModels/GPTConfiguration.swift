import Foundation
import Settings

/// Configuration of a GPT-2-style decoder; `fields` are the Hugging Face `config.json` names, with the values
/// each accepts.
public struct GPTConfiguration: KeyedSettings, Equatable, Sendable {
    public var vocabularySize = 50257       // tokens in the vocabulary
    public var contextLength = 1024         // learned positions (longest sequence)
    public var layerCount = 12              // transformer blocks
    public var headCount = 12               // attention heads (head size = width / heads)
    public var width = 768                  // residual stream size
    public var layerNormEpsilon: Float = 1e-5
    /// "gelu_new" (tanh approximation, GPT-2) or "gelu" (exact erf, nanoGPT).
    public var activation = "gelu_new"
    /// Biases in linear layers and LayerNorms (GPT-2 has them; nanoGPT's benchmark shape does not).
    public var bias = true

    public init() {}

    /// The activations Charter implements (`gelu_pytorch_tanh` is the same tanh approximation as `gelu_new`).
    public static let activations = ["gelu_new", "gelu", "gelu_pytorch_tanh"]

    /// The Hugging Face `config.json` keys (defaults are the property values above).
    public static var fields: [SettingsField<Self>] {
        [.init("vocab_size", \.vocabularySize, where: .dimension), .init("n_positions", \.contextLength, where: .dimension),
         .init("n_layer", \.layerCount, where: .dimension), .init("n_head", \.headCount, where: .dimension),
         .init("n_embd", \.width, where: .dimension), .init("layer_norm_epsilon", \.layerNormEpsilon, where: .epsilon),
         .init("activation_function", \.activation, where: .oneOf(activations)), .init("bias", \.bias)]
    }

    static let sizeKeys = ["vocab_size", "n_positions", "n_layer", "n_head", "n_embd"]

    /// Checks every value and that the heads divide the width, naming the key.
    /// - Throws: `SettingsError`.
    public func validate() throws {
        try checkRanges()
        try Self.require(width % headCount == 0, "n_embd",
                         "must be divisible by n_head: each head gets n_embd / n_head channels (got n_embd \(width), n_head \(headCount))")
    }

    /// nanoGPT's "shakespeare-char" model: the shape of `charter bench train`.
    public static let shakespeareCharacters: GPTConfiguration = {
        var configuration = GPTConfiguration()
        configuration.vocabularySize = 65
        configuration.contextLength = 256
        configuration.layerCount = 6
        configuration.headCount = 6
        configuration.width = 384
        configuration.activation = "gelu"
        configuration.bias = false
        return configuration
    }()
}
