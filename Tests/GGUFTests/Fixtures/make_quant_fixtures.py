"""Fixtures for quantized inference (Charter's ck_q_* kernels and models that keep GGUF blocks in memory).

Run from the repository root (CPU; the `gguf` PyPI package 0.19, transformers 5.x, torch):

    python3 Tests/GGUFTests/Fixtures/make_quant_fixtures.py [--gguf-only]

(`--gguf-only` writes the four files that need only `gguf` and numpy: quantize.gguf, llama-q4k-bf16.gguf,
llama-q6k-q5k.gguf and llama-q5.gguf.)

Writes, next to this script:
  quantize.gguf             "input" (4 × 256 float32 with zero, tiny, constant and huge blocks) and its quantization
                            by `gguf.quants.quantize` to F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0 and Q5_1, which Charter's
                            quantizer must reproduce byte for byte
  llama-q4k-bf16.gguf       llama.gguf (make_fixtures.py) with every matrix BF16 but the MLP's down projection, Q4_K,
                            and a wider MLP (feed_forward_length 256, new seeded random gate/up/down weights) so that
                            the down projection's rows are whole Q4_K superblocks. The Q4_K blocks come from
                            q4_k_blocks below (a plain min/max quantizer, not llama.cpp's iterative one: the `gguf`
                            package cannot quantize k-quants, and the test only needs valid blocks); the file is checked
                            to decode through `gguf.quants.dequantize` close to the values it encodes
  llama-q5.gguf             llama.gguf with the attention and gate/up matrices Q5_0 and the down projections Q5_1
                            (`gguf.quants.quantize`), as llama.cpp's Q4_K_M/Q5_K_M files of small models store them
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
from gguf import GGMLQuantizationType as T

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


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
    for qtype in (T.F16, T.Q8_0, T.Q4_0, T.Q4_1, T.BF16, T.Q5_0, T.Q5_1):
        data = gguf.quants.quantize(x, qtype)
        writer.add_tensor(qtype.name, data, raw_shape=data.shape if qtype == T.F16 else None, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def k_quant_blocks(x, qtype):
    """Rows of x (a multiple of 256 wide) as Q4_K or Q5_K superblocks: per 32-element sub-block the range
    [min(x, 0), max(x)] on 16 (Q4_K) or 32 (Q5_K) levels; the sub-blocks' steps and −mins quantized to 6 bits against
    d = max step / 63 and dmin = max −min / 63 (f16), then each element to the nearest of its levels. Returns (rows,
    bytes per superblock · width / 256) uint8 in ggml's block_q4_K layout (d, dmin, 12 packed scale/min bytes, 128
    nibble bytes) or block_q5_K's (the same with 32 bytes of fifth bits before the nibbles: bit j of byte l is element
    32j + l's)."""
    top = 15 if qtype == T.Q4_K else 31
    rows, width = x.shape
    sub = x.astype(np.float32).reshape(-1, 8, 32)
    low = np.minimum(sub.min(axis=2), 0)
    step = (sub.max(axis=2) - low) / top
    d = (step.max(axis=1) / 63).astype(np.float16)
    dmin = ((-low).max(axis=1) / 63).astype(np.float16)
    safe = lambda v: np.where(v == 0, 1, v).astype(np.float32)  # noqa: E731
    scales = np.clip(np.rint(step / safe(d)[:, None]), 0, 63).astype(np.uint8)
    mins = np.clip(np.rint(-low / safe(dmin)[:, None]), 0, 63).astype(np.uint8)
    levels = d.astype(np.float32)[:, None] * scales
    offsets = dmin.astype(np.float32)[:, None] * mins
    q = np.clip(np.rint((sub + offsets[:, :, None]) / safe(levels)[:, :, None]), 0, top).astype(np.uint8)
    packed = np.zeros((sub.shape[0], 12), np.uint8)
    packed[:, 0:4] = scales[:, 0:4] | (scales[:, 4:8] >> 4) << 6
    packed[:, 4:8] = mins[:, 0:4] | (mins[:, 4:8] >> 4) << 6
    packed[:, 8:12] = (scales[:, 4:8] & 0x0F) | (mins[:, 4:8] & 0x0F) << 4
    nibbles = ((q[:, 0::2, :] & 0x0F) | (q[:, 1::2, :] & 0x0F) << 4).reshape(-1, 128)  # byte 32p + l: 2p low, 2p + 1 high
    parts = [d.reshape(-1, 1).view(np.uint8), dmin.reshape(-1, 1).view(np.uint8), packed]
    if qtype == T.Q5_K:
        parts.append(sum((q[:, j, :] >> 4) << j for j in range(8)).astype(np.uint8))
    blocks = np.concatenate(parts + [nibbles], axis=1)
    return blocks.reshape(rows, -1)


def q4_k_blocks(x):
    """k_quant_blocks for Q4_K."""
    return k_quant_blocks(x, T.Q4_K)


def q6_k_blocks(x):
    """Rows of x (a multiple of 256 wide) as Q6_K superblocks: per 16-element sub-block the step max|x| / 31, the
    steps quantized to signed 8 bits against d = max step / 127 (f16), then each element to the nearest of its 63
    levels d·scale·(q − 32), q in 1…63. Returns (rows, 210 · width / 256) uint8 in ggml's block_q6_K layout: ql (128
    bytes: element 128h + 32k + l's low four bits in the low (k < 2) or high nibble of byte 64h + 32·(k mod 2) + l),
    qh (64: its top two bits at bits 2k of byte 32h + l), 16 int8 scales, d."""
    rows, width = x.shape
    sub = x.astype(np.float32).reshape(-1, 16, 16)
    step = np.abs(sub).max(axis=2) / 31
    d = (step.max(axis=1) / 127).astype(np.float16)
    safe = lambda v: np.where(v == 0, 1, v).astype(np.float32)  # noqa: E731
    scales = np.clip(np.rint(step / safe(d)[:, None]), -128, 127).astype(np.int8)
    levels = d.astype(np.float32)[:, None] * scales
    q = (np.clip(np.rint(sub / safe(levels)[:, :, None]), -32, 31) + 32).astype(np.uint8).reshape(-1, 2, 4, 32)
    ql = ((q[:, :, 0:2, :] & 0x0F) | (q[:, :, 2:4, :] & 0x0F) << 4).reshape(-1, 128)
    qh = sum((q[:, :, k, :] >> 4) << (2 * k) for k in range(4)).astype(np.uint8).reshape(-1, 64)
    blocks = np.concatenate([ql, qh, scales.view(np.uint8), d.reshape(-1, 1).view(np.uint8)], axis=1)
    return blocks.reshape(rows, width // 256 * 210)


def llama_wide_mlp_file(path, down_type, other_type):
    """llama.gguf with a 256-wide MLP (new seeded random gate/up/down weights), the down projection of layer i in
    down_type(i) (a k-quant, from the block writers above, checked to decode through gguf.quants.dequantize close to
    the values it encodes) and every other matrix in other_type (BF16 or F32)."""
    writers = {T.Q4_K: q4_k_blocks, T.Q5_K: lambda v: k_quant_blocks(v, T.Q5_K), T.Q6_K: q6_k_blocks}
    reader = gguf.GGUFReader(os.path.join(HERE, "llama.gguf"))
    writer = gguf.GGUFWriter(path, "llama")
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        value = 256 if key == "llama.feed_forward_length" else field.contents()
        writer.add_key_value(key, value, field.types[0], field.types[-1] if len(field.types) > 1 else None)
    rng = np.random.default_rng(12)
    for tensor in reader.tensors:
        name = tensor.name
        values = gguf.quants.dequantize(tensor.data, tensor.tensor_type).reshape(tuple(int(n) for n in reversed(tensor.shape)))
        if name.endswith(("ffn_gate.weight", "ffn_up.weight")):
            values = rng.normal(0, 0.3, size=(256, values.shape[1])).astype(np.float32)
        elif name.endswith("ffn_down.weight"):
            values = rng.normal(0, 0.1, size=(values.shape[0], 256)).astype(np.float32)
        if values.ndim == 1:
            writer.add_tensor(name, values.astype(np.float32))
        elif name.endswith("ffn_down.weight"):
            qtype = down_type(int(name.split(".")[1]))
            blocks = writers[qtype](values)
            decoded = gguf.quants.dequantize(blocks, qtype)
            assert decoded.shape == values.shape and np.abs(decoded - values).max() <= 0.1 * np.abs(values).max(), name
            writer.add_tensor(name, blocks, raw_dtype=qtype)
        elif other_type == T.F32:
            writer.add_tensor(name, values.astype(np.float32))
        else:
            writer.add_tensor(name, gguf.quants.quantize(values.astype(np.float32), other_type), raw_dtype=other_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def llama_q4k_bf16_file(path):
    """llama.gguf with its matrices BF16, a 256-wide MLP, and the down projections Q4_K (see the module docstring)."""
    llama_wide_mlp_file(path, lambda layer: T.Q4_K, T.BF16)


def llama_q6k_q5k_file(path):
    """The same wide-MLP llama with the down projections Q6_K (even layers) and Q5_K (odd layers), as llama.cpp's
    Q4_K_M and Q5_K_M files mix them, and every other matrix F32."""
    llama_wide_mlp_file(path, lambda layer: T.Q6_K if layer % 2 == 0 else T.Q5_K, T.F32)


def llama_q5_file(path):
    """llama.gguf (make_fixtures.py) with its attention and gate/up matrices Q5_0 and its down projections Q5_1, by
    `gguf.quants.quantize` (llama.cpp's Q4_K_M and Q5_K_M fall back to them for rows that are not whole superblocks);
    the embedding, output and norms as llama.gguf stores them."""
    reader = gguf.GGUFReader(os.path.join(HERE, "llama.gguf"))
    writer = gguf.GGUFWriter(path, "llama")
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        writer.add_key_value(key, field.contents(), field.types[0], field.types[-1] if len(field.types) > 1 else None)
    for tensor in reader.tensors:
        name, shape = tensor.name, tuple(int(n) for n in reversed(tensor.shape))
        qtype = T.Q5_1 if name.endswith("ffn_down.weight") else T.Q5_0 if name.startswith("blk.") and len(shape) == 2 else None
        if qtype is None:
            writer.add_tensor(name, tensor.data, raw_shape=tensor.data.shape, raw_dtype=tensor.tensor_type)
        else:
            values = gguf.quants.dequantize(tensor.data, tensor.tensor_type).reshape(shape).astype(np.float32)
            writer.add_tensor(name, gguf.quants.quantize(values, qtype), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def llama_quantized_file(path):
    """make_fixtures.llama_file with every matrix in a block format (q/k Q4_1 with llama.cpp's row permutation)."""
    import make_fixtures as base
    tensors, keys, tokenizer = base.llama_parts({
        "token_embd": T.Q8_0, "output": T.F16, "attn_q": T.Q4_1, "attn_k": T.Q4_1, "attn_v": T.Q4_0, "attn_output": T.Q4_0,
        "ffn_gate": T.Q8_0, "ffn_up": T.Q8_0, "ffn_down": T.Q8_0})
    base.write_model(path, "llama", tensors, keys, tokenizer)


def main():
    quantize_file(os.path.join(HERE, "quantize.gguf"))
    llama_q4k_bf16_file(os.path.join(HERE, "llama-q4k-bf16.gguf"))
    llama_q6k_q5k_file(os.path.join(HERE, "llama-q6k-q5k.gguf"))
    llama_q5_file(os.path.join(HERE, "llama-q5.gguf"))
    if "--gguf-only" in sys.argv:
        return
    import make_fixtures as base
    import torch
    from transformers import AutoModelForCausalLM
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
