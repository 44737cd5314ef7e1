import Foundation
import NeuralNetworks
import Tensors

extension LlamaModel: CheckpointMapped {
    static var ignoredCheckpointNames: [String] { ["rotary_emb.inv_freq"] }

    func checkpointEntries() -> [CheckpointEntry] {
        var entries: [CheckpointEntry] = [.direct("model.embed_tokens.weight", embedding.weight)]
        func linear(_ prefix: String, _ layer: Linear) {
            entries.append(.direct(prefix + ".weight", layer.weight))
            if let bias = layer.bias { entries.append(.direct(prefix + ".bias", bias)) }
        }
        for (index, block) in blocks.enumerated() {
            let prefix = "model.layers.\(index)"
            entries.append(.direct(prefix + ".input_layernorm.weight", block.attentionNorm.weight))
            linear(prefix + ".self_attn.q_proj", block.attention.query)
            linear(prefix + ".self_attn.k_proj", block.attention.key)
            linear(prefix + ".self_attn.v_proj", block.attention.value)
            linear(prefix + ".self_attn.o_proj", block.attention.output)
            entries.append(.direct(prefix + ".post_attention_layernorm.weight", block.mlpNorm.weight))
            linear(prefix + ".mlp.gate_proj", block.mlp.gate)
            linear(prefix + ".mlp.up_proj", block.mlp.up)
            linear(prefix + ".mlp.down_proj", block.mlp.down)
        }
        entries.append(.direct("model.norm.weight", finalNorm.weight))
        if let head { entries.append(.direct("lm_head.weight", head.weight)) }
        return entries
    }

    func configurationJSON() throws -> Data {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(configuration)) as? [String: Any] ?? [:]
        let architecture = ["llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM"]
        object["architectures"] = [architecture[configuration.modelType] ?? "LlamaForCausalLM"]
        object["torch_dtype"] = "float32"
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }
}

extension GPTModel: CheckpointMapped {
    static var ignoredCheckpointNames: [String] { [".attn.bias", ".attn.masked_bias", "lm_head.weight"] }

    func checkpointEntries() -> [CheckpointEntry] {
        var entries: [CheckpointEntry] = [
            .direct("transformer.wte.weight", tokenEmbedding.weight),
            .direct("transformer.wpe.weight", positionEmbedding.weight),
        ]
        func norm(_ name: String, _ layer: LayerNorm) {
            if let weight = layer.weight { entries.append(.direct(name + ".weight", weight)) }
            if let bias = layer.bias { entries.append(.direct(name + ".bias", bias)) }
        }
        // GPT-2 stores linear layers as Conv1D, weight (in, out), and fuses q/k/v into c_attn.
        func conv(_ name: String, _ layer: Linear) {
            entries.append(.transposed(name + ".weight", layer.weight))
            if let bias = layer.bias { entries.append(.direct(name + ".bias", bias)) }
        }
        for (index, block) in blocks.enumerated() {
            let prefix = "transformer.h.\(index)"
            norm(prefix + ".ln_1", block.attentionNorm)
            let attention = block.attention
            entries.append(.concatenated(prefix + ".attn.c_attn.weight", [attention.query.weight, attention.key.weight, attention.value.weight], transposed: true))
            if let q = attention.query.bias, let k = attention.key.bias, let v = attention.value.bias {
                entries.append(.concatenated(prefix + ".attn.c_attn.bias", [q, k, v], transposed: false))
            }
            conv(prefix + ".attn.c_proj", attention.output)
            norm(prefix + ".ln_2", block.mlpNorm)
            conv(prefix + ".mlp.c_fc", block.up)
            conv(prefix + ".mlp.c_proj", block.down)
        }
        norm("transformer.ln_f", finalNorm)
        return entries
    }

    func configurationJSON() throws -> Data {
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(configuration)) as? [String: Any] ?? [:]
        object["model_type"] = "gpt2"
        object["architectures"] = ["GPT2LMHeadModel"]
        object["n_ctx"] = configuration.contextLength
        object["tie_word_embeddings"] = true
        object["torch_dtype"] = "float32"
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }
}
