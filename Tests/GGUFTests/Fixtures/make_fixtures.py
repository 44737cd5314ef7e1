"""GGUF fixtures for Charter's GGUF reader, dequantisers, model mapping and tokenizers.

Run from the repository root (CPU; the `gguf` PyPI package 0.19, transformers 5.x, torch):

    python3 Tests/GGUFTests/Fixtures/make_fixtures.py

Writes, next to this script:
  types.gguf       one small tensor of every supported ggml type (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K,
                   Q5_K, Q6_K), each followed by "<TYPE>.expected": `gguf.quants.dequantize` of it, stored as F32;
                   plus metadata of every GGUF value type (arrays, nested arrays, strings)
  llama.gguf       a tiny random Llama in llama.cpp's layout (q/k rows permuted for its rope) with a SentencePiece-style
                   ("llama") vocabulary: byte tokens, scores, control tokens, a chat template
  qwen2.gguf       a tiny random Qwen2 (q/k/v biases, F16 weights) with the byte-level BPE ("gpt2") vocabulary of
                   Tests/TokenizersTests/Fixtures/gpt2 and its merges
  gpt2.gguf        a tiny random GPT-2 (fused qkv, learned positions) with the same BPE vocabulary
  expected.json    for each model file: transformers' `from_pretrained(dir, gguf_file=...)` config, its tokenizer's ids
                   for fixed texts, and its float32 logits at a few positions of a fixed sequence

The quantized types are filled so each exercises its whole format: the legacy quants (Q4_0 … Q8_0) by
`gguf.quants.quantize` of random floats; the k-quants, which the package cannot quantize, by random block bytes with
finite random f16 scales.
"""
import json
import os
import shutil
import tempfile

import gguf
import numpy as np
import torch
from gguf import GGMLQuantizationType as T
from transformers import AutoModelForCausalLM, AutoTokenizer, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, \
    Qwen2Config, Qwen2ForCausalLM

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../../.."))
GPT2_TOKENIZER = os.path.join(ROOT, "Tests/TokenizersTests/Fixtures/gpt2/tokenizer.json")
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
TEXTS = ["Hello world", "The quick brown fox jumps over the lazy dog.", "  two  spaces\nand a newline",
         "café naïve 😀 <|im_start|>user\nhi<|im_end|>", "tiny"]
SEQUENCE = [5, 17, 3, 42, 99, 7, 250, 11]


def types_file(path):
    rng = np.random.default_rng(0)
    writer = gguf.GGUFWriter(path, "llama")
    # Every metadata value type, arrays and nested arrays included.
    writer.add_uint8("test.uint8", 200)
    writer.add_int8("test.int8", -100)
    writer.add_uint16("test.uint16", 60000)
    writer.add_int16("test.int16", -30000)
    writer.add_uint32("test.uint32", 4_000_000_000)
    writer.add_int32("test.int32", -2_000_000_000)
    writer.add_float32("test.float32", 0.1)
    writer.add_uint64("test.uint64", 2**63 + 5)
    writer.add_int64("test.int64", -(2**62))
    writer.add_float64("test.float64", 0.1)
    writer.add_bool("test.bool", True)
    writer.add_string("test.string", "héllo ✓")
    writer.add_array("test.array", [1, 2, 3])
    writer.add_array("test.strings", ["a", "bc", ""])
    writer.add_array("test.nested", [[1, 2], [3]])
    for qtype, rows, columns in [(T.F32, 3, 8), (T.F16, 3, 8), (T.BF16, 3, 8), (T.Q8_0, 3, 64), (T.Q4_0, 3, 64),
                                 (T.Q4_1, 3, 64), (T.Q5_0, 3, 64), (T.Q5_1, 3, 64), (T.Q4_K, 2, 512), (T.Q5_K, 2, 512),
                                 (T.Q6_K, 2, 512)]:
        block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
        if qtype in (T.Q4_K, T.Q5_K, T.Q6_K):
            blocks = rng.integers(0, 256, size=(rows * columns // block_size, type_size), dtype=np.uint8)
            scales = rng.uniform(-2, 2, size=(blocks.shape[0], 2)).astype(np.float16).view(np.uint8)
            if qtype == T.Q6_K:
                blocks[:, 208:210] = scales[:, 0:2]  # d is last
            else:
                blocks[:, 0:4] = scales  # d, dmin first
            data = blocks.reshape(rows, columns // block_size * type_size)
        else:
            values = rng.normal(0, 1, size=(rows, columns)).astype(np.float32)
            if qtype == T.F32:
                values[0, :4] = [0.0, -0.0, 1e-40, -3.5e38]  # zero signs, a subnormal, a large value
            data = gguf.quants.quantize(values, qtype)
        expected = gguf.quants.dequantize(data, qtype).astype(np.float32)
        assert expected.shape == (rows, columns), (qtype, expected.shape)
        writer.add_tensor(qtype.name, data, raw_shape=data.shape if qtype in (T.F32, T.F16) else None, raw_dtype=qtype)
        writer.add_tensor(qtype.name + ".expected", expected)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def permute(weights, heads):
    """llama.cpp's convert_hf_to_gguf.py LlamaModel.permute: HF's rotate-half rows to rope's interleaved pairs."""
    return weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


def llama_vocabulary():
    """A SentencePiece-style vocabulary: <unk>, <s>, </s>, 256 byte tokens, then pieces with descending scores."""
    tokens, scores, types = ["<unk>", "<s>", "</s>"], [0.0, 0.0, 0.0], [2, 3, 3]
    for byte in range(256):
        tokens.append(f"<0x{byte:02X}>"), scores.append(0.0), types.append(6)
    pieces = ["▁", "e", "t", "o", "a", "n", "h", "r", "s", "l", "d", "w", "i", "u", "c", "k", "q", "b", "f", "x",
              "j", "m", "p", "v", "y", "z", "g", "T", "H", ".", "é",
              "▁t", "he", "▁the", "▁T", "▁The", "ll", "▁w", "or", "▁wor", "ld", "▁world", "el", "▁H", "▁Hel", "lo",
              "▁Hello", "ow", "▁b", "▁br", "own", "▁brown", "▁q", "ui", "ck", "▁qu", "▁quick", "▁f", "ox", "▁fox"]
    for rank, piece in enumerate(pieces):
        tokens.append(piece), scores.append(-float(rank)), types.append(1)
    return tokens, scores, types


def gpt2_vocabulary():
    data = json.load(open(GPT2_TOKENIZER))
    vocab = data["model"]["vocab"]
    tokens = [None] * len(vocab)
    for token, index in vocab.items():
        tokens[index] = token
    types = [3 if token == "<|endoftext|>" else 1 for token in tokens]
    tokens += ["<|im_start|>", "<|im_end|>"]
    types += [3, 3]
    merges = [" ".join(merge) if isinstance(merge, list) else merge for merge in data["model"]["merges"]]
    return tokens, types, merges


def write_model(path, arch, tensors, config_keys, tokenizer_keys):
    writer = gguf.GGUFWriter(path, arch)
    writer.add_name(f"tiny-{arch}")
    for key, (kind, value) in {**config_keys, **tokenizer_keys}.items():
        getattr(writer, "add_" + kind)(key, value) if kind in ("uint32", "float32", "string", "bool", "array") else None
    for name, (values, qtype) in tensors.items():
        values = values.astype(np.float32)
        data = values if qtype == T.F32 else gguf.quants.quantize(values, qtype)
        writer.add_tensor(name, data, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def numpy_state(model):
    return {name: parameter.detach().numpy() for name, parameter in model.state_dict().items()}


def llama_parts(formats):
    """The tiny Llama's GGUF tensors, hyper-parameters and tokenizer keys (no chat template), each matrix stored in
    `formats[name]` (token_embd, output, attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down)."""
    torch.manual_seed(1)
    tokens, scores, types = llama_vocabulary()
    config = LlamaConfig(vocab_size=len(tokens), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-5,
                         rope_theta=10000.0, tie_word_embeddings=False)
    state = numpy_state(LlamaForCausalLM(config))
    tensors = {"token_embd.weight": (state["model.embed_tokens.weight"], formats["token_embd"]),
               "output_norm.weight": (state["model.norm.weight"] + 0.1, T.F32),
               "output.weight": (state["lm_head.weight"], formats["output"])}
    for layer in range(config.num_hidden_layers):
        p = f"model.layers.{layer}."
        tensors.update({
            f"blk.{layer}.attn_norm.weight": (state[p + "input_layernorm.weight"] + 0.1, T.F32),
            f"blk.{layer}.attn_q.weight": (permute(state[p + "self_attn.q_proj.weight"], 4), formats["attn_q"]),
            f"blk.{layer}.attn_k.weight": (permute(state[p + "self_attn.k_proj.weight"], 2), formats["attn_k"]),
            f"blk.{layer}.attn_v.weight": (state[p + "self_attn.v_proj.weight"], formats["attn_v"]),
            f"blk.{layer}.attn_output.weight": (state[p + "self_attn.o_proj.weight"], formats["attn_output"]),
            f"blk.{layer}.ffn_norm.weight": (state[p + "post_attention_layernorm.weight"] - 0.1, T.F32),
            f"blk.{layer}.ffn_gate.weight": (state[p + "mlp.gate_proj.weight"], formats["ffn_gate"]),
            f"blk.{layer}.ffn_up.weight": (state[p + "mlp.up_proj.weight"], formats["ffn_up"]),
            f"blk.{layer}.ffn_down.weight": (state[p + "mlp.down_proj.weight"], formats["ffn_down"]),
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
    return tensors, keys, tokenizer


def llama_file(path):
    tensors, keys, tokenizer = llama_parts({
        "token_embd": T.F16, "output": T.BF16, "attn_q": T.F32, "attn_k": T.F32, "attn_v": T.F32, "attn_output": T.F32,
        "ffn_gate": T.F32, "ffn_up": T.Q8_0, "ffn_down": T.F32})
    tokenizer["tokenizer.chat_template"] = ("string", "{{ bos_token }}" + CHATML)
    write_model(path, "llama", tensors, keys, tokenizer)


def qwen2_file(path):
    torch.manual_seed(2)
    tokens, types, merges = gpt2_vocabulary()
    config = Qwen2Config(vocab_size=len(tokens), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-6,
                         rope_theta=1000000.0, tie_word_embeddings=True)
    state = numpy_state(Qwen2ForCausalLM(config))
    tensors = {"token_embd.weight": (state["model.embed_tokens.weight"], T.F16),
               "output_norm.weight": (state["model.norm.weight"] + 0.1, T.F32)}
    for layer in range(config.num_hidden_layers):
        p = f"model.layers.{layer}."
        tensors.update({
            f"blk.{layer}.attn_norm.weight": (state[p + "input_layernorm.weight"], T.F32),
            f"blk.{layer}.attn_q.weight": (state[p + "self_attn.q_proj.weight"], T.F16),
            f"blk.{layer}.attn_q.bias": (state[p + "self_attn.q_proj.bias"] + 0.05, T.F32),
            f"blk.{layer}.attn_k.weight": (state[p + "self_attn.k_proj.weight"], T.F16),
            f"blk.{layer}.attn_k.bias": (state[p + "self_attn.k_proj.bias"] - 0.05, T.F32),
            f"blk.{layer}.attn_v.weight": (state[p + "self_attn.v_proj.weight"], T.F16),
            f"blk.{layer}.attn_v.bias": (state[p + "self_attn.v_proj.bias"] + 0.02, T.F32),
            f"blk.{layer}.attn_output.weight": (state[p + "self_attn.o_proj.weight"], T.F16),
            f"blk.{layer}.ffn_norm.weight": (state[p + "post_attention_layernorm.weight"], T.F32),
            f"blk.{layer}.ffn_gate.weight": (state[p + "mlp.gate_proj.weight"], T.Q4_0),
            f"blk.{layer}.ffn_up.weight": (state[p + "mlp.up_proj.weight"], T.F16),
            f"blk.{layer}.ffn_down.weight": (state[p + "mlp.down_proj.weight"], T.F16),
        })
    keys = {"qwen2.context_length": ("uint32", 64), "qwen2.embedding_length": ("uint32", 32),
            "qwen2.block_count": ("uint32", 2), "qwen2.feed_forward_length": ("uint32", 64),
            "qwen2.attention.head_count": ("uint32", 4), "qwen2.attention.head_count_kv": ("uint32", 2),
            "qwen2.rope.freq_base": ("float32", 1000000.0), "qwen2.attention.layer_norm_rms_epsilon": ("float32", 1e-6)}
    tokenizer = {"tokenizer.ggml.model": ("string", "gpt2"), "tokenizer.ggml.pre": ("string", "qwen2"),
                 "tokenizer.ggml.tokens": ("array", tokens), "tokenizer.ggml.token_type": ("array", types),
                 "tokenizer.ggml.merges": ("array", merges), "tokenizer.ggml.eos_token_id": ("uint32", len(tokens) - 1),
                 "tokenizer.ggml.padding_token_id": ("uint32", 0), "tokenizer.ggml.bos_token_id": ("uint32", 0),
                 "tokenizer.ggml.add_bos_token": ("bool", False), "tokenizer.chat_template": ("string", CHATML)}
    write_model(path, "qwen2", tensors, keys, tokenizer)


def gpt2_file(path):
    torch.manual_seed(3)
    tokens, types, merges = gpt2_vocabulary()
    config = GPT2Config(vocab_size=len(tokens), n_embd=16, n_layer=2, n_head=4, n_positions=1024, layer_norm_epsilon=1e-5)
    state = numpy_state(GPT2LMHeadModel(config))
    # Tied output (no output.weight); transformers reads n_positions 1024 whatever the file says (the wpe rows).
    tensors = {"token_embd.weight": (state["transformer.wte.weight"], T.F16),
               "position_embd.weight": (state["transformer.wpe.weight"], T.F16),
               "output_norm.weight": (state["transformer.ln_f.weight"] + 0.1, T.F32),
               "output_norm.bias": (state["transformer.ln_f.bias"] + 0.1, T.F32)}
    for layer in range(config.n_layer):
        p = f"transformer.h.{layer}."
        # llama.cpp stores GPT-2's Conv1D weights (in, out) transposed, as (out, in).
        tensors.update({
            f"blk.{layer}.attn_norm.weight": (state[p + "ln_1.weight"] + 0.1, T.F32),
            f"blk.{layer}.attn_norm.bias": (state[p + "ln_1.bias"] + 0.05, T.F32),
            f"blk.{layer}.attn_qkv.weight": (state[p + "attn.c_attn.weight"].T, T.F32),
            f"blk.{layer}.attn_qkv.bias": (state[p + "attn.c_attn.bias"] + 0.02, T.F32),
            f"blk.{layer}.attn_output.weight": (state[p + "attn.c_proj.weight"].T, T.BF16),
            f"blk.{layer}.attn_output.bias": (state[p + "attn.c_proj.bias"], T.F32),
            f"blk.{layer}.ffn_norm.weight": (state[p + "ln_2.weight"], T.F32),
            f"blk.{layer}.ffn_norm.bias": (state[p + "ln_2.bias"], T.F32),
            f"blk.{layer}.ffn_up.weight": (state[p + "mlp.c_fc.weight"].T, T.F32),
            f"blk.{layer}.ffn_up.bias": (state[p + "mlp.c_fc.bias"], T.F32),
            f"blk.{layer}.ffn_down.weight": (state[p + "mlp.c_proj.weight"].T, T.F32),
            f"blk.{layer}.ffn_down.bias": (state[p + "mlp.c_proj.bias"], T.F32),
        })
    keys = {"gpt2.context_length": ("uint32", 1024), "gpt2.embedding_length": ("uint32", 16),
            "gpt2.block_count": ("uint32", 2), "gpt2.feed_forward_length": ("uint32", 64),
            "gpt2.attention.head_count": ("uint32", 4), "gpt2.attention.layer_norm_epsilon": ("float32", 1e-5)}
    tokenizer = {"tokenizer.ggml.model": ("string", "gpt2"), "tokenizer.ggml.pre": ("string", "gpt-2"),
                 "tokenizer.ggml.tokens": ("array", tokens), "tokenizer.ggml.token_type": ("array", types),
                 "tokenizer.ggml.merges": ("array", merges), "tokenizer.ggml.eos_token_id": ("uint32", 0),
                 "tokenizer.ggml.bos_token_id": ("uint32", 0)}
    write_model(path, "gpt2", tensors, keys, tokenizer)


def reference(path):
    """What transformers makes of the file: config, token ids of TEXTS, logits of SEQUENCE."""
    directory, name = os.path.split(path)
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32).eval()
    with torch.no_grad():
        logits = model(torch.tensor([SEQUENCE])).logits[0]
    config = {key: value for key, value in model.config.to_dict().items()
              if key in ("model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                         "num_attention_heads", "num_key_value_heads", "max_position_embeddings", "rms_norm_eps",
                         "rope_theta", "tie_word_embeddings", "n_embd", "n_layer", "n_head", "n_positions", "n_inner",
                         "layer_norm_epsilon", "bos_token_id", "eos_token_id")}
    return {
        "config": config,
        "tokens": [{"text": text, "ids": tokenizer(text)["input_ids"]} for text in TEXTS],
        "sequence": SEQUENCE,
        # Rows 0, 3 and the last of the (T, V) logits, the first 128 vocabulary entries, float32 as decimal.
        "logits": {str(row): [float(v) for v in logits[row, :128]] for row in (0, 3, len(SEQUENCE) - 1)},
        "bos_token": tokenizer.bos_token, "eos_token": tokenizer.eos_token,
        "chat_template": tokenizer.chat_template,
    }


def main():
    types_file(os.path.join(HERE, "types.gguf"))
    expected = {}
    for name, make in [("llama", llama_file), ("qwen2", qwen2_file), ("gpt2", gpt2_file)]:
        path = os.path.join(HERE, name + ".gguf")
        make(path)
        # transformers wants the file alone in a folder it may write caches into.
        with tempfile.TemporaryDirectory() as scratch:
            shutil.copy(path, os.path.join(scratch, name + ".gguf"))
            expected[name] = reference(os.path.join(scratch, name + ".gguf"))
    with open(os.path.join(HERE, "expected.json"), "w") as file:
        json.dump(expected, file, indent=1)
        file.write("\n")


if __name__ == "__main__":
    main()
