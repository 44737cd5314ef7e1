import NeuralNetworks
import Tensors

/// How a model's weights are held for inference: float32, or the matrices of a Llama-family model in a ggml block
/// format multiplied by the quantized kernels (`--dtype f32|f16|bf16|q8_0|q4_0|q4_1|q5_0|q5_1`).
///
/// Quantized models are for inference only (generation, log-probabilities, serving, sampling in pipelines): training
/// loads float32 (a GGUF file is dequantised for it), and ``TrainableModel`` refuses a quantized model.
public enum WeightPrecision: Equatable, Sendable, CustomStringConvertible {
    /// As the checkpoint stores them: a GGUF file's F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K
    /// matrices stay in their blocks (Llama family); every other tensor, and every safetensors weight, loads as float32.
    case stored
    case float32
    /// Every linear layer of the blocks, and the embedding (and output head), in `format` (one with a quantizer);
    /// norms stay float32.
    case quantized(QuantizedMatrix.Format)

    /// The names `--dtype` accepts.
    public static let names = ["stored", "f32"] + QuantizedMatrix.Format.allCases.filter(\.hasQuantizer).map(\.rawValue)

    /// Parses a `--dtype` value ("stored", "f32" or "float32", "f16" or "float16", "bf16" or "bfloat16", "q8_0",
    /// "q4_0", "q4_1", "q5_0", "q5_1"; case-insensitive).
    /// - Throws: ``CheckpointError`` naming the accepted values (and for "q4_k", "q5_k" and "q6_k", that those
    ///   formats are kept, not made).
    public init(name: String) throws {
        let lowered = name.lowercased()
        let aliases = ["float16": "f16", "bfloat16": "bf16"]
        if lowered == "stored" {
            self = .stored
        } else if lowered == "f32" || lowered == "float32" {
            self = .float32
        } else if let format = QuantizedMatrix.Format(rawValue: aliases[lowered] ?? lowered) {
            guard format.hasQuantizer else {
                throw CheckpointError("--dtype \(name): Charter has no \(format.ggmlName) quantizer; a GGUF file's \(format.ggmlName) matrices "
                                      + "stay quantized with --dtype stored, and a model is quantized at load with one of "
                                      + Self.names.dropFirst(2).joined(separator: ", "))
            }
            self = .quantized(format)
        } else {
            throw CheckpointError("--dtype \(name): expected one of \(Self.names.joined(separator: ", "))")
        }
    }

    public var description: String {
        switch self {
        case .stored: "stored"
        case .float32: "f32"
        case .quantized(let format): format.rawValue
        }
    }
}

/// A layer whose weight can be kept quantized: a linear layer (out, in) or an embedding table (count, size).
enum QuantizableLayer {
    case linear(Linear)
    case embedding(Embedding)

    func quantize(_ matrix: QuantizedMatrix) {
        switch self {
        case .linear(let layer): layer.quantize(matrix)
        case .embedding(let layer): layer.quantize(matrix)
        }
    }

    var weight: Tensor {
        switch self {
        case .linear(let layer): layer.weight
        case .embedding(let layer): layer.weight
        }
    }

    var isQuantized: Bool {
        switch self {
        case .linear(let layer): layer.quantizedWeight != nil
        case .embedding(let layer): layer.quantizedWeight != nil
        }
    }
}

extension LlamaModel {
    /// The matrices quantized inference keeps in a block format, by transformers name: the embedding, every
    /// projection of every block, and the output head when it is not tied.
    var quantizableLayers: [(name: String, layer: QuantizableLayer)] {
        var layers: [(String, QuantizableLayer)] = [("model.embed_tokens.weight", .embedding(embedding))]
        for (index, block) in blocks.enumerated() {
            let prefix = "model.layers.\(index)."
            for (name, layer) in [("self_attn.q_proj", block.attention.query), ("self_attn.k_proj", block.attention.key),
                                  ("self_attn.v_proj", block.attention.value), ("self_attn.o_proj", block.attention.output),
                                  ("mlp.gate_proj", block.mlp.gate), ("mlp.up_proj", block.mlp.up), ("mlp.down_proj", block.mlp.down)] {
                layers.append((prefix + name + ".weight", .linear(layer)))
            }
        }
        if let head { layers.append(("lm_head.weight", .linear(head))) }
        return layers
    }

    /// Quantizes every float32 matrix of ``quantizableLayers`` to `format` with ggml's reference quantizer, freeing
    /// the float32 copies.
    /// - Throws: ``QuantizationError`` naming the first matrix whose rows are not whole blocks (hidden sizes that are
    ///   not multiples of 32), before anything is changed.
    public func quantize(_ format: QuantizedMatrix.Format) throws {
        let layers = quantizableLayers.filter { !$0.layer.isQuantized }
        for (name, layer) in layers where layer.weight.shape[1] % format.blockSize != 0 {
            throw QuantizationError("\(name): \(layer.weight.shape[1]) columns are not whole \(format.ggmlName) blocks of "
                                    + "\(format.blockSize); use --dtype f16 or f32 for this model")
        }
        for (name, layer) in layers { layer.quantize(try QuantizedMatrix(quantizing: layer.weight, format: format, source: name)) }
    }

    /// True when any matrix is held quantized (the model is then for inference only).
    public var isQuantized: Bool { quantizableLayers.contains { $0.layer.isQuantized } }
}

extension CausalLanguageModel {
    /// True for a Llama-family model holding quantized matrices (inference only).
    public var isQuantized: Bool { (self as? LlamaModel)?.isQuantized ?? false }

    /// Applies `precision` to a freshly loaded model.
    /// - Throws: ``CheckpointError`` for a quantized precision on an architecture without quantized kernels (GPT-2),
    ///   ``QuantizationError`` for sizes that are not whole blocks.
    func apply(_ precision: WeightPrecision, source: String) throws {
        guard case .quantized(let format) = precision else { return }
        guard let llama = self as? LlamaModel else {
            throw CheckpointError("\(source): --dtype \(precision) quantizes Llama-family models (llama, mistral, qwen2) only; "
                                  + "use --dtype f32 for \(type(of: self))")
        }
        try llama.quantize(format)
    }
}
