import Foundation
import GGUF
import JSON
import Tensors
import Tokenizers

/// A GGUF model file read as the Hugging Face checkpoint it was converted from: config.json from the
/// `<architecture>.*` metadata, each transformers tensor from its llama.cpp tensor (dequantised to float32, Llama's
/// q/k rows un-permuted, GPT-2's Conv1D weights transposed back), and the tokenizer from `tokenizer.*`, as
/// transformers' `from_pretrained(dir, gguf_file=…)` reads it.
///
/// Architectures: llama (Llama, SmolLM), mistral (or a llama file whose `general.name` is "mistral", as transformers
/// decides), qwen2, gpt2.
public struct GGUFCheckpoint {
    /// Where a transformers tensor comes from.
    struct Source {
        enum Transform { case none, transposed, reversePermuted(heads: Int) }
        let name: String
        let transform: Transform
    }

    public let file: GGUFFile
    /// transformers' `model_type`.
    public let modelType: String
    /// config.json.
    public let configuration: JSONValue
    /// tokenizer.json and tokenizer_config.json.
    public let tokenizer: GGUFTokenizer
    /// transformers tensor name → GGUF tensor.
    let sources: [String: Source]

    public static let supportedArchitectures = ["llama", "mistral", "qwen2", "gpt2"]

    /// True when `url` names a `.gguf` file (rather than a model folder).
    public static func isGGUF(_ url: URL) -> Bool { url.pathExtension.lowercased() == "gguf" }

    /// Opens and validates `url`, and maps its metadata and tensor names.
    /// - Throws: ``GGUFError`` for a malformed file or missing metadata, `CheckpointError` for an unsupported architecture.
    public init(url: URL) throws {
        let file = try GGUFFile(url: url)
        let path = url.path
        guard let architecture = file["general.architecture"]?.stringValue else {
            throw GGUFError.missingMetadata(file: path, key: "general.architecture", expected: "a string")
        }
        var modelType = architecture
        // transformers' test is `"mistral" in read_field(reader, "general.name")`, a membership test on a one-element
        // list: only a name of exactly "mistral" makes a llama file a Mistral.
        if architecture == "llama", file["general.name"]?.stringValue == "mistral" { modelType = "mistral" }
        guard Self.supportedArchitectures.contains(modelType) else {
            throw CheckpointError("\(path): architecture \"\(architecture)\" is not supported; supported: "
                                  + Self.supportedArchitectures.joined(separator: ", "))
        }
        func integer(_ key: String) throws -> Int {
            guard let value = file["\(architecture).\(key)"]?.intValue, value > 0 else {
                throw GGUFError.missingMetadata(file: path, key: "\(architecture).\(key)", expected: "a positive integer")
            }
            return value
        }
        func number(_ key: String) -> Double? { file["\(architecture).\(key)"]?.doubleValue }
        let tokenizer = try GGUFTokenizer(file)
        let tokenCount = file["tokenizer.ggml.tokens"]?.arrayValue?.count ?? 0
        let vocabularySize = file["\(architecture).vocab_size"]?.intValue ?? tokenCount
        let tied = !file.contains("output.weight")
        let layers = try integer("block_count")
        let heads = try integer("attention.head_count")
        var config: [String: JSONValue] = ["model_type": .string(modelType), "vocab_size": .integer(vocabularySize),
                                           "tie_word_embeddings": .bool(tied), "torch_dtype": "float32"]
        if let bos = file["tokenizer.ggml.bos_token_id"]?.intValue { config["bos_token_id"] = .integer(bos) }
        if let eos = file["tokenizer.ggml.eos_token_id"]?.intValue { config["eos_token_id"] = .integer(eos) }
        var sources: [String: Source] = [:]
        func map(_ hf: String, _ gguf: String, _ transform: Source.Transform = .none) { sources[hf] = Source(name: gguf, transform: transform) }

        if modelType == "gpt2" {
            let width = try integer("embedding_length")
            config["n_embd"] = .integer(width)
            config["n_layer"] = .integer(layers)
            config["n_head"] = .integer(heads)
            let contextLength = try integer("context_length")
            // The learned positions are the position embedding's rows (transformers keeps GPT2Config's 1024).
            config["n_positions"] = .integer(file.tensor("position_embd.weight")?.shape.first ?? contextLength)
            config["n_ctx"] = .integer(contextLength)
            config["layer_norm_epsilon"] = .numeric(number("attention.layer_norm_epsilon") ?? 1e-5)
            config["architectures"] = ["GPT2LMHeadModel"]
            map("transformer.wte.weight", "token_embd.weight")
            map("transformer.wpe.weight", "position_embd.weight")
            map("transformer.ln_f.weight", "output_norm.weight")
            map("transformer.ln_f.bias", "output_norm.bias")
            for layer in 0..<layers {
                let (hf, gguf) = ("transformer.h.\(layer).", "blk.\(layer).")
                for (hfName, ggufName, transposed) in [("ln_1", "attn_norm", false), ("attn.c_attn", "attn_qkv", true),
                                                      ("attn.c_proj", "attn_output", true), ("ln_2", "ffn_norm", false),
                                                      ("mlp.c_fc", "ffn_up", true), ("mlp.c_proj", "ffn_down", true)] {
                    map(hf + hfName + ".weight", gguf + ggufName + ".weight", transposed ? .transposed : .none)
                    map(hf + hfName + ".bias", gguf + ggufName + ".bias")
                }
            }
        } else {
            let keyValueHeads = file["\(architecture).attention.head_count_kv"]?.intValue ?? heads
            config["hidden_size"] = .integer(try integer("embedding_length"))
            config["intermediate_size"] = .integer(try integer("feed_forward_length"))
            config["num_hidden_layers"] = .integer(layers)
            config["num_attention_heads"] = .integer(heads)
            config["num_key_value_heads"] = .integer(keyValueHeads)
            config["max_position_embeddings"] = .integer(try integer("context_length"))
            config["rms_norm_eps"] = .numeric(number("attention.layer_norm_rms_epsilon") ?? 1e-6)
            config["rope_theta"] = .numeric(number("rope.freq_base") ?? 10000)
            if modelType != "qwen2", let headSize = file["\(architecture).rope.dimension_count"]?.intValue { config["head_dim"] = .integer(headSize) }
            if modelType != "qwen2" { config["attention_bias"] = .bool(file.contains("blk.0.attn_q.bias")) }
            // GGUF has no key for Mistral's window; transformers takes MistralConfig's default.
            if modelType == "mistral" { config["sliding_window"] = .integer(4096) }
            config["architectures"] = [.string(["llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM"][modelType] ?? "")]
            // llama.cpp's converter interleaves each head's rotary halves in q and k for llama-style rope
            // (LlamaModel.permute); transformers' LlamaTensorProcessor undoes it for the llama architecture.
            let permuted = architecture == "llama"
            map("model.embed_tokens.weight", "token_embd.weight")
            map("model.norm.weight", "output_norm.weight")
            if !tied { map("lm_head.weight", "output.weight") }
            for layer in 0..<layers {
                let (hf, gguf) = ("model.layers.\(layer).", "blk.\(layer).")
                map(hf + "input_layernorm.weight", gguf + "attn_norm.weight")
                map(hf + "post_attention_layernorm.weight", gguf + "ffn_norm.weight")
                for suffix in ["weight", "bias"] {
                    map(hf + "self_attn.q_proj.\(suffix)", gguf + "attn_q.\(suffix)", permuted ? .reversePermuted(heads: heads) : .none)
                    map(hf + "self_attn.k_proj.\(suffix)", gguf + "attn_k.\(suffix)", permuted ? .reversePermuted(heads: keyValueHeads) : .none)
                    map(hf + "self_attn.v_proj.\(suffix)", gguf + "attn_v.\(suffix)")
                    map(hf + "self_attn.o_proj.\(suffix)", gguf + "attn_output.\(suffix)")
                }
                map(hf + "mlp.gate_proj.weight", gguf + "ffn_gate.weight")
                map(hf + "mlp.up_proj.weight", gguf + "ffn_up.weight")
                map(hf + "mlp.down_proj.weight", gguf + "ffn_down.weight")
            }
        }
        self.file = file
        self.modelType = modelType
        self.configuration = JSONValue(sortingKeys: config)
        self.tokenizer = tokenizer
        self.sources = sources
    }

    /// config.json's bytes.
    public var configurationData: Data { Data(configuration.serialized().utf8) }

    /// The transformers-layout shape of tensor `name`, or nil when the file lacks it.
    func shape(_ name: String) -> [Int]? {
        guard let source = sources[name], let info = file.tensor(source.name) else { return nil }
        if case .transposed = source.transform, info.shape.count == 2 { return [info.shape[1], info.shape[0]] }
        return info.shape
    }

    /// Tensor `name` in transformers' layout, as float32.
    /// - Throws: ``GGUFError`` when absent or of a type without a dequantiser.
    func values(_ name: String) throws -> [Float] {
        guard let source = sources[name] else { throw GGUFError.tensorNotFound(file: file.url.path, tensor: name) }
        let values = try file.floats(source.name)
        let shape = file.tensor(source.name)?.shape ?? []
        switch source.transform {
        case .none:
            return values
        case .transposed:
            guard shape.count == 2 else { return values }
            let (rows, columns) = (shape[0], shape[1])
            var result = [Float](repeating: 0, count: values.count)
            for row in 0..<rows { for column in 0..<columns { result[column * rows + row] = values[row * columns + column] } }
            return result
        case .reversePermuted(let heads):
            return Self.reversePermute(values, rows: shape.first ?? 0, heads: heads)
        }
    }

    /// Undoes llama.cpp's `permute` of q/k rows (transformers' `_reverse_permute_weights`): within each head, row
    /// `2d + j` of the file is row `j·half + d` of the original (`half` = head size / 2); biases are one column.
    static func reversePermute(_ values: [Float], rows: Int, heads: Int) -> [Float] {
        guard heads > 0, rows > 0, rows % (2 * heads) == 0 else { return values }
        let columns = values.count / rows, half = rows / heads / 2
        var result = [Float](repeating: 0, count: values.count)
        for head in 0..<heads {
            for j in 0..<2 {
                for d in 0..<half {
                    let target = (head * 2 * half + j * half + d) * columns, source = (head * 2 * half + d * 2 + j) * columns
                    result[target..<(target + columns)] = values[source..<(source + columns)]
                }
            }
        }
        return result
    }
}
