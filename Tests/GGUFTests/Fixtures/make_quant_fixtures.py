"""Fixtures for quantized inference (Charter's ck_q_* kernels and models that keep GGUF blocks in memory).

Run from the repository root (CPU; the `gguf` PyPI package 0.19, transformers 5.x, torch):

    python3 Tests/GGUFTests/Fixtures/make_quant_fixtures.py

Writes, next to this script:
  quantize.gguf             "input" (4 × 256 float32 with zero, tiny, constant and huge blocks) and its quantization
                            by `gguf.quants.quantize` to F16, Q8_0, Q4_0 and Q4_1, which Charter's quantizer must
                            reproduce byte for byte
  llama-quantized.gguf      the tiny Llama of make_fixtures.py with every matrix quantized: q/k (rows permuted for
                            llama.cpp's rope) Q4_1, v and o Q4_0, the MLP Q8_0, the embedding Q8_0, the output F16
  expected-quantized.json   transformers' `from_pretrained(dir, gguf_file=...)` logits of SEQUENCE for that file (every
                            position, the first 128 vocabulary entries): the weights dequantised, activations float32
"""
import json
import os
import shutil
import sys
import tempfile

import gguf
import numpy as np
import torch
from gguf import GGMLQuantizationType as T
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_fixtures as base  # noqa: E402


def quantize_file(path):
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1, size=(4, 256)).astype(np.float32)
    x[0, :32] = 0           # an all-zero block: scale 0
    x[1, :32] = 1e-3        # a constant block
    x[1, 32:64] = -5        # a constant negative block
    x[2, 5] = 70000.0       # past the f16 range: the Q4/Q8 scale saturates to inf as in ggml
    x[3, 64:96] *= 1e-6     # subnormal f16 scales
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_tensor("input", x)
    for qtype in (T.F16, T.Q8_0, T.Q4_0, T.Q4_1):
        data = gguf.quants.quantize(x, qtype)
        writer.add_tensor(qtype.name, data, raw_shape=data.shape if qtype == T.F16 else None, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def llama_quantized_file(path):
    """make_fixtures.llama_file with every matrix in a block format."""
    torch.manual_seed(1)
    tokens, scores, types = base.llama_vocabulary()
    config = LlamaConfig(vocab_size=len(tokens), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-5,
                         rope_theta=10000.0, tie_word_embeddings=False)
    state = base.numpy_state(LlamaForCausalLM(config))
    tensors = {"token_embd.weight": (state["model.embed_tokens.weight"], T.Q8_0),
               "output_norm.weight": (state["model.norm.weight"] + 0.1, T.F32),
               "output.weight": (state["lm_head.weight"], T.F16)}
    for layer in range(config.num_hidden_layers):
        p = f"model.layers.{layer}."
        tensors.update({
            f"blk.{layer}.attn_norm.weight": (state[p + "input_layernorm.weight"] + 0.1, T.F32),
            f"blk.{layer}.attn_q.weight": (base.permute(state[p + "self_attn.q_proj.weight"], 4), T.Q4_1),
            f"blk.{layer}.attn_k.weight": (base.permute(state[p + "self_attn.k_proj.weight"], 2), T.Q4_1),
            f"blk.{layer}.attn_v.weight": (state[p + "self_attn.v_proj.weight"], T.Q4_0),
            f"blk.{layer}.attn_output.weight": (state[p + "self_attn.o_proj.weight"], T.Q4_0),
            f"blk.{layer}.ffn_norm.weight": (state[p + "post_attention_layernorm.weight"] - 0.1, T.F32),
            f"blk.{layer}.ffn_gate.weight": (state[p + "mlp.gate_proj.weight"], T.Q8_0),
            f"blk.{layer}.ffn_up.weight": (state[p + "mlp.up_proj.weight"], T.Q8_0),
            f"blk.{layer}.ffn_down.weight": (state[p + "mlp.down_proj.weight"], T.Q8_0),
        })
    keys = {"llama.context_length": ("uint32", 64), "llama.embedding_length": ("uint32", 32),
            "llama.block_count": ("uint32", 2), "llama.feed_forward_length": ("uint32", 64),
            "llama.attention.head_count": ("uint32", 4), "llama.attention.head_count_kv": ("uint32", 2),
            "llama.rope.freq_base": ("float32", 10000.0), "llama.attention.layer_norm_rms_epsilon": ("float32", 1e-5),
            "llama.rope.dimension_count": ("uint32", 8)}
    tokenizer = {"tokenizer.ggml.model": ("string", "llama"), "tokenizer.ggml.tokens": ("array", tokens),
                 "tokenizer.ggml.scores": ("array", scores), "tokenizer.ggml.token_type": ("array", types),
                 "tokenizer.ggml.bos_token_id": ("uint32", 1), "tokenizer.ggml.eos_token_id": ("uint32", 2),
                 "tokenizer.ggml.unknown_token_id": ("uint32", 0), "tokenizer.ggml.add_bos_token": ("bool", True),
                 "tokenizer.ggml.add_eos_token": ("bool", False)}
    base.write_model(path, "llama", tensors, keys, tokenizer)


def main():
    quantize_file(os.path.join(HERE, "quantize.gguf"))
    path = os.path.join(HERE, "llama-quantized.gguf")
    llama_quantized_file(path)
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copy(path, os.path.join(scratch, "llama-quantized.gguf"))
        model = AutoModelForCausalLM.from_pretrained(scratch, gguf_file="llama-quantized.gguf", dtype=torch.float32).eval()
        with torch.no_grad():
            logits = model(torch.tensor([base.SEQUENCE])).logits[0]
    expected = {"sequence": base.SEQUENCE,
                "logits": [[float(v) for v in logits[row, :128]] for row in range(len(base.SEQUENCE))]}
    with open(os.path.join(HERE, "expected-quantized.json"), "w") as file:
        json.dump(expected, file, indent=1)
        file.write("\n")


if __name__ == "__main__":
    main()
