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
from transformers import AutoModelForCausalLM

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
    """make_fixtures.llama_file with every matrix in a block format (q/k Q4_1 with llama.cpp's row permutation)."""
    tensors, keys, tokenizer = base.llama_parts({
        "token_embd": T.Q8_0, "output": T.F16, "attn_q": T.Q4_1, "attn_k": T.Q4_1, "attn_v": T.Q4_0, "attn_output": T.Q4_0,
        "ffn_gate": T.Q8_0, "ffn_up": T.Q8_0, "ffn_down": T.Q8_0})
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
