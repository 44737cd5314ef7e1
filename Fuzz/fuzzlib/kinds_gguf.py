"""Case builder for the gguf kind: a tiny Llama as a GGUF file (llama.cpp's format), mutated byte-wise or field by
field, loaded with `charter logprobs` / `charter generate --model model.gguf`.

The writer is pure Python (no `gguf` package) and records where every count, length, type id, dimension and offset
lives, so a structural mutation sets exactly one field to a boundary value.
"""

import random
import struct

from . import seeds
from .mutate import BOUNDARY_INTS, byte_mutation

GGUF = "model.gguf"
# GGUF value type ids.
UINT32, FLOAT32, BOOL, STRING, ARRAY = 4, 6, 7, 8, 9


class Writer:
    """Little-endian GGUF v3 bytes, with the offset and width of every structural field."""

    def __init__(self):
        self.out = bytearray()
        self.fields = []  # (description, offset, width)

    def put(self, fmt, value, field=None):
        if field:
            self.fields.append((field, len(self.out), struct.calcsize(fmt)))
        self.out += struct.pack("<" + fmt, value)

    def string(self, text, field):
        data = text.encode()
        self.put("Q", len(data), field + " length")
        self.out += data

    def value(self, kind, value, field):
        self.put("I", kind, field + " type")
        self.payload(kind, value, field)

    def payload(self, kind, value, field):
        if kind == UINT32:
            self.put("I", value)
        elif kind == FLOAT32:
            self.put("f", value)
        elif kind == BOOL:
            self.put("B", int(value))
        elif kind == STRING:
            self.string(value, field)
        elif kind == ARRAY:
            element_kind, items = value
            self.put("I", element_kind, field + " element type")
            self.put("Q", len(items), field + " count")
            for item in items:
                self.payload(element_kind, item, field + "[]")


def permute(values, rows, columns, heads):
    """llama.cpp's q/k permutation (rotary halves interleaved), on a row-major list."""
    half = rows // heads // 2
    out = [0.0] * len(values)
    for head in range(heads):
        for j in range(2):
            for d in range(half):
                source = (head * 2 * half + j * half + d) * columns
                target = (head * 2 * half + d * 2 + j) * columns
                out[target:target + columns] = values[source:source + columns]
    return out


def llama_gguf():
    """(bytes, fields) of the fuzz seeds' tiny Llama and byte-level tokenizer as a GGUF file (F32 and F16 tensors)."""
    config, tensors = seeds.llama_files(random.Random("charter-fuzz-weights-llama"))
    tokenizer = seeds.tokenizer_json()
    vocabulary = sorted(tokenizer["model"]["vocab"].items(), key=lambda item: item[1])
    tokens = [token for token, _ in vocabulary]
    types = [3 if token in seeds.SPECIAL else 1 for token in tokens]
    merges = [" ".join(pair) for pair in tokenizer["model"]["merges"]]
    renames = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight"}
    for layer in range(config["num_hidden_layers"]):
        for hf, gguf in (("input_layernorm", "attn_norm"), ("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"),
                         ("self_attn.v_proj", "attn_v"), ("self_attn.o_proj", "attn_output"), ("post_attention_layernorm", "ffn_norm"),
                         ("mlp.gate_proj", "ffn_gate"), ("mlp.up_proj", "ffn_up"), ("mlp.down_proj", "ffn_down")):
            renames["model.layers.%d.%s.weight" % (layer, hf)] = "blk.%d.%s.weight" % (layer, gguf)
    metadata = [
        ("general.architecture", STRING, "llama"), ("general.alignment", UINT32, 32),
        ("llama.context_length", UINT32, config["max_position_embeddings"]), ("llama.embedding_length", UINT32, config["hidden_size"]),
        ("llama.block_count", UINT32, config["num_hidden_layers"]), ("llama.feed_forward_length", UINT32, config["intermediate_size"]),
        ("llama.vocab_size", UINT32, config["vocab_size"]),
        ("llama.attention.head_count", UINT32, config["num_attention_heads"]),
        ("llama.attention.head_count_kv", UINT32, config["num_key_value_heads"]),
        ("llama.rope.freq_base", FLOAT32, config["rope_theta"]), ("llama.attention.layer_norm_rms_epsilon", FLOAT32, config["rms_norm_eps"]),
        ("tokenizer.ggml.model", STRING, "gpt2"), ("tokenizer.ggml.tokens", ARRAY, (STRING, tokens)),
        ("tokenizer.ggml.token_type", ARRAY, (UINT32, types)), ("tokenizer.ggml.merges", ARRAY, (STRING, merges)),
        ("tokenizer.ggml.eos_token_id", UINT32, 0), ("tokenizer.ggml.add_bos_token", BOOL, False),
    ]
    writer = Writer()
    writer.out += b"GGUF"
    writer.put("I", 3, "version")
    writer.put("Q", len(tensors), "tensor count")
    writer.put("Q", len(metadata), "metadata count")
    for key, kind, value in metadata:
        writer.string(key, "metadata key")
        writer.value(kind, value, "metadata \"%s\"" % key)
    blobs, offset = [], 0
    for index, (name, shape, values) in enumerate(tensors):
        if ".q_proj." in name or ".k_proj." in name:
            values = permute(values, shape[0], shape[1], config["num_attention_heads"] if ".q_proj." in name else config["num_key_value_heads"])
        half = index % 3 == 0 and len(shape) == 2  # some tensors F16, the rest F32
        blob = struct.pack("<%d%s" % (len(values), "e" if half else "f"), *values)
        gguf = renames[name]
        writer.string(gguf, "tensor name")
        writer.put("I", len(shape), "tensor \"%s\" dimension count" % gguf)
        for axis, size in enumerate(reversed(shape)):
            writer.put("Q", size, "tensor \"%s\" dimension %d" % (gguf, axis))
        writer.put("I", 1 if half else 0, "tensor \"%s\" type" % gguf)
        writer.put("Q", offset, "tensor \"%s\" offset" % gguf)
        blobs.append(blob)
        offset += (len(blob) + 31) // 32 * 32
    writer.out += bytes((32 - len(writer.out) % 32) % 32)
    for blob in blobs:
        writer.out += blob + bytes((32 - len(blob) % 32) % 32)
    return bytes(writer.out), writer.fields


_SEED = None


def seed():
    global _SEED
    if _SEED is None:
        _SEED = llama_gguf()
    return _SEED


def gguf_case(case):
    blob, fields = seed()
    rng = case.rng
    case.argv = [arg if arg != "model" else GGUF for arg in case.model_command()]
    case.mutated = [GGUF]
    header_end = max(offset + width for _, offset, width in fields)
    if rng.random() < 0.4:
        mutated, case.description = byte_mutation(rng, blob[:header_end])
        case.files[GGUF] = mutated + blob[header_end:]
        return
    field, offset, width = rng.choice(fields)
    value = rng.choice(BOUNDARY_INTS + [0, 1, 2, 13, 31, 33, 255, len(blob), len(blob) + 1, len(blob) * 2])
    data = bytearray(blob)
    data[offset:offset + width] = (value % (1 << (8 * width))).to_bytes(width, "little")
    case.files[GGUF] = bytes(data)
    case.key = field
    case.description = "%s set to %d" % (field, value)
