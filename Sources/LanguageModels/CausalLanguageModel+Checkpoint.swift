import Foundation
import JSON
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

    func configurationJSON() throws -> JSONValue {
        let architecture = ["llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM"]
        return try PretrainedModel.jsonObject(configuration)
            .setting("architectures", .array([.string(architecture[configuration.modelType] ?? "LlamaForCausalLM")]))
            .setting("torch_dtype", .string("float32"))
    }
}

extension LlamaConfiguration: CheckpointConfiguration {
    /// The tensors of `LlamaModel.checkpointEntries()`, from the configuration alone (a test keeps the two equal).
    func checkpointLayout() -> CheckpointLayout {
        let (hidden, inner, size) = (hiddenSize, intermediateSize, resolvedHeadSize)
        let (queries, keys) = (headCount * size, resolvedKeyValueHeadCount * size)
        let (qkvBias, outputBias, mlpBias) = (queryKeyValueBias, self.outputBias, self.mlpBias)
        func linear(_ name: String, _ output: Int, _ input: Int, _ bias: Bool) -> [CheckpointLayout.Entry] {
            [.init(name + ".weight", [output, input])] + (bias ? [.init(name + ".bias", [output])] : [])
        }
        return CheckpointLayout(
            leading: [.init("model.embed_tokens.weight", [vocabularySize, hidden])], blockCount: layerCount,
            block: { index in
                let prefix = "model.layers.\(index)"
                return [.init(prefix + ".input_layernorm.weight", [hidden])]
                    + linear(prefix + ".self_attn.q_proj", queries, hidden, qkvBias)
                    + linear(prefix + ".self_attn.k_proj", keys, hidden, qkvBias)
                    + linear(prefix + ".self_attn.v_proj", keys, hidden, qkvBias)
                    + linear(prefix + ".self_attn.o_proj", hidden, queries, outputBias)
                    + [.init(prefix + ".post_attention_layernorm.weight", [hidden])]
                    + linear(prefix + ".mlp.gate_proj", inner, hidden, mlpBias) + linear(prefix + ".mlp.up_proj", inner, hidden, mlpBias)
                    + linear(prefix + ".mlp.down_proj", hidden, inner, mlpBias)
            },
            trailing: [.init("model.norm.weight", [hidden])] + (tieWordEmbeddings ? [] : [.init("lm_head.weight", [vocabularySize, hidden])]))
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

    func configurationJSON() throws -> JSONValue {
        try PretrainedModel.jsonObject(configuration)
            .setting("model_type", .string("gpt2"))
            .setting("architectures", .array([.string("GPT2LMHeadModel")]))
            .setting("n_ctx", .number(JSONNumber(configuration.contextLength)))
            .setting("tie_word_embeddings", .bool(true))
            .setting("torch_dtype", .string("float32"))
    }
}

extension GPTConfiguration: CheckpointConfiguration {
    /// The tensors of `GPTModel.checkpointEntries()` (Conv1D weights stored (in, out), q/k/v fused in `c_attn`),
    /// from the configuration alone (a test keeps the two equal).
    func checkpointLayout() -> CheckpointLayout {
        let (width, bias) = (self.width, self.bias)
        func norm(_ name: String) -> [CheckpointLayout.Entry] {
            [.init(name + ".weight", [width])] + (bias ? [.init(name + ".bias", [width])] : [])
        }
        func conv(_ name: String, _ input: Int, _ output: Int) -> [CheckpointLayout.Entry] {
            [.init(name + ".weight", [input, output])] + (bias ? [.init(name + ".bias", [output])] : [])
        }
        return CheckpointLayout(
            leading: [.init("transformer.wte.weight", [vocabularySize, width]), .init("transformer.wpe.weight", [contextLength, width])],
            blockCount: layerCount,
            block: { index in
                let prefix = "transformer.h.\(index)"
                return norm(prefix + ".ln_1") + conv(prefix + ".attn.c_attn", width, 3 * width) + conv(prefix + ".attn.c_proj", width, width)
                    + norm(prefix + ".ln_2") + conv(prefix + ".mlp.c_fc", width, 4 * width) + conv(prefix + ".mlp.c_proj", 4 * width, width)
            },
            trailing: norm("transformer.ln_f"))
    }
}
