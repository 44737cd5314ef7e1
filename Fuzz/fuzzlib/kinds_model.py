"""Case builders for the model-folder kinds: safetensors weights, config.json and tokenizer.json.

Each builder fills a `Case` (files, command, what it mutated) from its seeded random source; the command loads the
mutated folder with `charter generate`, `charter logprobs` or (tokenizers) `charter tokenize`.
"""

import json
import struct

from .formats import DTYPE_SIZES, Raw, safetensors_join, safetensors_split, to_json
from .mutate import BOUNDARY_FLOATS, BOUNDARY_INTS, BOUNDARY_RAW, byte_mutation, deep, tree_mutation

WEIGHTS = "model/model.safetensors"
CONFIG = "model/config.json"
TOKENIZER = "model/tokenizer.json"
TOKENIZER_CONFIG = "model/tokenizer_config.json"
HUGE = [0, -1, 3, 2 ** 31, 2 ** 63 - 1, 2 ** 40, 10 ** 9, Raw("1e9"), Raw("1e308"), Raw("1e400"), Raw("NaN"), Raw("-0"), 1.5, "16", None]


def convert(values, dtype):
    """F32 values re-encoded as `dtype` (integers truncate; half types by their bit patterns)."""
    if dtype == "F64":
        return struct.pack("<%dd" % len(values), *values)
    if dtype == "F16":
        return struct.pack("<%de" % len(values), *values)
    if dtype == "BF16":
        return b"".join(struct.pack("<f", v)[2:] for v in values)
    codes = {"I64": "q", "I32": "i", "I16": "h", "I8": "b", "U64": "Q", "U32": "I", "U16": "H", "U8": "B", "BOOL": "B"}
    if dtype in codes:
        integers = [int(v * 100) for v in values]
        if dtype == "BOOL":
            integers = [abs(i) % 2 for i in integers]
        elif dtype.startswith("U"):
            integers = [abs(i) for i in integers]
        return struct.pack("<%d%s" % (len(values), codes[dtype]), *integers)
    return bytes(len(values))  # F8 types: zeros


def safetensors_case(case):
    blob = case.base()[WEIGHTS]
    header, data = safetensors_split(blob)
    names = [name for name in header if name != "__metadata__"]
    rng = case.rng
    case.argv = case.model_command()
    case.mutated = ["model.safetensors"]
    name = rng.choice(names)
    entry = header[name]
    choice = rng.randrange(11)
    if choice == 0:
        case.files[WEIGHTS], case.description = byte_mutation(rng, blob, [data[:4096]])
        return
    if choice == 1:
        declared = rng.choice([0, 1, 7, 2 ** 63, 2 ** 64 - 1, 2 ** 32, 2 ** 31, len(blob), len(blob) - 7, 2 ** 62 + 8, 100_000_000])
        text = blob[8:8 + struct.unpack("<Q", blob[:8])[0]]
        case.files[WEIGHTS] = safetensors_join(None, data, header_text=text, declared_length=declared)
        case.description = "header length declared as %d" % declared
        return
    case.key = name
    if choice == 2:
        header, case.description, key = tree_mutation(rng, header, focus_keys=("dtype", "shape", "data_offsets", "__metadata__"))
        case.key = key or name
    elif choice == 3:
        dtype = rng.choice(["I32", "F64", "F16", "BF16", "I8", "U8", "BOOL", "I64", "F8_E4M3", "X99", "", "f32", "F32 "])
        start, end = entry["data_offsets"]
        count = (end - start) // 4
        values = list(struct.unpack("<%df" % count, data[start:end]))
        if rng.random() < 0.5 and dtype in DTYPE_SIZES:
            # A consistent file in another dtype: every offset after this tensor moves.
            converted = convert(values, dtype)
            delta = len(converted) - (end - start)
            data = data[:start] + converted + data[end:]
            for other in names:
                offsets = header[other]["data_offsets"]
                if offsets[0] >= end:
                    header[other]["data_offsets"] = [offsets[0] + delta, offsets[1] + delta]
            entry["data_offsets"] = [start, start + len(converted)]
            case.description = "%s stored as %s (offsets consistent)" % (name, dtype)
        else:
            case.description = "%s declared %r, data unchanged" % (name, dtype)
        entry["dtype"] = dtype
        case.key = "dtype"
    elif choice == 4:
        shape = rng.choice([[], [0], [-1], [2 ** 31, 2 ** 31], [2 ** 62, 4], [2 ** 64], [1] * 64, list(reversed(entry["shape"])),
                            entry["shape"] + [1], [entry["shape"][0] + 1] + entry["shape"][1:], [1.5], ["16"], None, [Raw("1e400")]])
        entry["shape"] = shape
        case.description = "%s shape %s" % (name, to_json(shape)[:60])
    elif choice == 5:
        start, end = entry["data_offsets"]
        offsets = rng.choice([[end, start], [start, len(data) + 4], [0, 2 ** 63], [-4, end], [start, start], [2 ** 64 - 1, 2 ** 64 + 3],
                              [start + 1, end + 1], [start + 0.5, end], [0, len(data)], [start], [start, end, end], None, "0-4"])
        entry["data_offsets"] = offsets
        case.description = "%s data_offsets %s" % (name, to_json(offsets)[:60])
    elif choice == 6:
        what = rng.randrange(4)
        if what == 0:
            del header[name]
            case.description = "tensor %s removed" % name
        elif what == 1:
            header[name + ".extra"] = dict(entry)
            case.description = "extra tensor %s.extra" % name
        elif what == 2:
            header[rng.choice(["", "\u0000", "é", "a" * 5000, "model", "__metadata__x"])] = header.pop(name)
            case.description = "tensor %s renamed" % name
        else:
            text = to_json(header).encode()
            duplicate = ('"%s":%s' % (name, to_json(entry))).encode()
            header_text = text[:-1] + b"," + duplicate + b"}"
            case.files[WEIGHTS] = safetensors_join(None, data, header_text=header_text)
            case.description = "duplicate tensor name %s" % name
            return
    elif choice == 7:
        start, end = entry["data_offsets"]
        special = rng.choice([float("nan"), float("inf"), float("-inf"), 3e38, 1e-45])
        data = data[:start] + struct.pack("<f", special) * ((end - start) // 4) + data[end:]
        case.description = "%s filled with %r" % (name, special)
        case.key = None
    elif choice == 8:
        header_text = rng.choice([b"\xff\xfe{", b"[]", b"null", b"{\"a\":", deep(rng.choice([1000, 100000])).text.encode(),
                                  to_json(header).encode() + b"\x00" * 9, to_json(header).encode().replace(b"\"", b"'", 2),
                                  b" " * 4096])
        case.files[WEIGHTS] = safetensors_join(None, data, header_text=header_text)
        case.description = "header text %r" % header_text[:30]
        case.key = None
        return
    elif choice == 9:
        header["__metadata__"] = rng.choice([{"format": 1}, [], "pt", {"a" * 100: "b" * 100000}, {"format": None}, deep(2000, "object")])
        case.description = "__metadata__ replaced"
        case.key = "__metadata__"
    else:
        end = rng.choice([len(data) - 1, len(data) // 2, 0])
        data = data[:end] if rng.random() < 0.7 else data + b"\x00" * rng.choice([1, 7, 4096])
        case.description = "data section resized"
        case.key = None
    case.files[WEIGHTS] = safetensors_join(header, data)


SHARDED_INDEX = "model/model.safetensors.index.json"


def sharded_case(case):
    """A sharded folder whose index names shards that are missing, outside the folder, or not files."""
    rng = case.rng
    header, _ = safetensors_split(case.base()[WEIGHTS])
    names = [name for name in header if name != "__metadata__"]
    shard = rng.choice(["model-00001-of-00001.safetensors", "../model.safetensors", "/etc/passwd", "", "model", ".",
                        "missing.safetensors", "config.json", "tokenizer.json", "a/b.safetensors", "model.safetensors\u0000x"])
    index = {"metadata": {"total_size": rng.choice([0, -1, 2 ** 63, "big", None])}, "weight_map": {n: shard for n in names}}
    if rng.random() < 0.3:
        index["weight_map"][rng.choice(names)] = rng.choice([1, None, ["model.safetensors"], {"a": 1}])
    case.files[SHARDED_INDEX] = to_json(index).encode()
    case.files["model/model-00001-of-00001.safetensors"] = case.base()[WEIGHTS]
    case.removed.add(WEIGHTS)
    case.argv = case.model_command()
    case.mutated = ["model.safetensors.index.json"]
    case.key = "weight_map"
    case.description = "sharded index naming %r" % shard


CONFIG_KEYS = ("hidden_size", "vocab_size", "num_attention_heads", "num_key_value_heads", "head_dim", "intermediate_size",
               "num_hidden_layers", "max_position_embeddings", "rope_theta", "rms_norm_eps", "n_embd", "n_head", "n_layer",
               "n_positions", "n_ctx", "eos_token_id", "bos_token_id", "rope_scaling", "model_type", "tie_word_embeddings",
               "sliding_window", "layer_norm_epsilon", "hidden_act", "activation_function", "attention_bias")


def config_case(case):
    rng = case.rng
    case.architecture = rng.choice(["llama", "gpt2"])
    blob = case.base()[CONFIG]
    config = json.loads(blob)
    case.argv = case.model_command()
    case.mutated = ["config.json"]
    choice = rng.randrange(8)
    if choice == 0:
        case.files[CONFIG], case.description = byte_mutation(rng, blob, [case.base()[TOKENIZER][:2000]])
        return
    if choice <= 3:
        keys = [key for key in CONFIG_KEYS if key in config] + ["rope_scaling", "sliding_window", "num_key_value_heads", "head_dim"]
        key = rng.choice(keys)
        value = rng.choice(HUGE + BOUNDARY_INTS[:8] + [Raw(rng.choice(BOUNDARY_RAW))] + BOUNDARY_FLOATS[-3:])
        if key == "rope_scaling":
            value = rng.choice([{"type": "linear", "factor": rng.choice([0, -1, 1e308, float("nan")])}, {"rope_type": "llama3"},
                                {"type": "yarn"}, {"type": None}, "linear", [1], {"rope_type": "llama3", "factor": 0,
                                                                                    "low_freq_factor": 4, "high_freq_factor": 4}])
        elif key == "model_type":
            value = rng.choice(["gpt2", "llama", "qwen2", "mistral", "bert", "", 1, None])
        elif key in ("eos_token_id", "bos_token_id"):
            value = rng.choice([-1, 300, 10 ** 9, 2 ** 63, [], [0, 300, -5], "0", None])
        config[key] = value
        case.key = key
        case.description = "%s = %s" % (key, to_json(value)[:60])
    elif choice == 4:
        # Sizes that stay consistent with each other but are enormous: the model must not be allocated blindly.
        width = rng.choice([10 ** 9, 2 ** 31, 2 ** 40, 65536])
        key = "hidden_size" if case.architecture == "llama" else "n_embd"
        config[key] = width
        case.key = key
        case.description = "%s = %d (weights unchanged)" % (key, width)
    elif choice == 5:
        config, case.description, case.key = tree_mutation(rng, config, focus_keys=CONFIG_KEYS)
    elif choice == 6:
        generation = {"eos_token_id": rng.choice([-1, 299, 300, 10 ** 9, [1, -1], "x", [[0]], None]),
                      "max_new_tokens": rng.choice([0, -1, 10 ** 9]), "temperature": rng.choice([-1.0, 0.0, float("nan")])}
        case.files["model/generation_config.json"] = to_json(generation).encode()
        case.mutated = ["generation_config.json"]
        case.argv = case.model_command(("generate",))
        case.description = "generation_config.json %s" % to_json(generation)[:60]
        return
    else:
        config = rng.choice([[], None, "llama", 1, {}, deep(rng.choice([1000, 100000]), "object")])
        case.description = "config.json is %s" % to_json(config)[:40]
    case.files[CONFIG] = to_json(config, indent=rng.choice([None, 2])).encode()


TOKENIZER_KEYS = ("id", "vocab", "merges", "added_tokens", "type", "pattern", "content", "max_length", "pre_tokenizer",
                  "normalizer", "post_processor", "decoder", "truncation", "padding", "special_tokens", "ids", "single")


def tokenizer_case(case):
    rng = case.rng
    blob = case.base()[TOKENIZER]
    tokenizer = json.loads(blob)
    case.argv = case.model_command(("generate", "logprobs", "tokenize", "tokenize"))
    case.mutated = ["tokenizer.json"]
    choice = rng.randrange(9)
    if choice == 0:
        case.files[TOKENIZER], case.description = byte_mutation(rng, blob, [case.base()[CONFIG]])
        return
    if choice == 1:
        token = rng.choice(tokenizer["added_tokens"])
        token["id"] = rng.choice([300, 301, 1000, 10 ** 6, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 63, -1, 1.5, "5", None])
        if rng.random() < 0.5:
            token["content"] = rng.choice(["", " ", "h", "the", "a" * 2000, "<|endoftext|>", "\u0000"])
        case.key = "added_tokens"
        case.description = "added token %r id %s" % (token["content"][:20], to_json(token["id"]))
    elif choice == 2:
        vocab = tokenizer["model"]["vocab"]
        token = rng.choice(list(vocab))
        vocab[token] = rng.choice([300, 10 ** 6, 2 ** 31 - 1, 2 ** 31, -1, 0, 5, 1.0, "1"])
        case.key = "vocab"
        case.description = "vocab[%r] = %s" % (token, to_json(vocab[token]))
    elif choice == 3:
        merges = tokenizer["model"]["merges"]
        merges.insert(rng.randrange(len(merges) + 1), rng.choice([["q", "zz"], ["a"], "a b c", "ab", "", ["the", "the"], [1, 2],
                                                                  "Ġ Ġ", ["", ""], None]))
        case.key = "merges"
        case.description = "bad merge inserted"
    elif choice == 4:
        part = rng.choice(["pre_tokenizer", "normalizer", "post_processor", "decoder"])
        tokenizer[part] = rng.choice([
            {"type": "Split", "pattern": {"Regex": rng.choice(["(a+)+$", "(", "", "\\p{Xx}", "[", "(?<=a)b", "a{99999}", ".*" * 50])},
             "behavior": rng.choice(["Isolated", "Removed", "Nope"]), "invert": rng.choice([False, True])},
            {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True}] * rng.choice([1, 100])},
            {"type": "Sequence", "normalizers": [{"type": "Replace", "pattern": {"String": ""}, "content": "aa"}]},
            {"type": "Replace", "pattern": {"String": "a"}, "content": "aa" * 1000},
            {"type": "Metaspace", "replacement": rng.choice(["", "ab", "\u2581"]), "prepend_scheme": rng.choice(["always", "x"])},
            {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [rng.choice([300, -1, 2 ** 31, 10 ** 9])], "tokens": ["<s>"]}}},
            {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<missing>", "type_id": 0}}], "pair": [], "special_tokens": {}},
            {"type": "ByteFallback"}, {"type": "Strip", "content": " ", "start": 2 ** 31, "stop": -1}, {"type": "Unknown"}, [], "x"])
        case.key = part
        case.description = "%s = %s" % (part, to_json(tokenizer[part])[:60])
    elif choice == 5:
        part = rng.choice(["truncation", "padding"])
        tokenizer[part] = rng.choice([
            {"max_length": 0, "stride": 0, "strategy": "LongestFirst", "direction": "Right"},
            {"max_length": 1, "stride": 10 ** 9, "strategy": "OnlyFirst", "direction": "Left"},
            {"strategy": {"Fixed": rng.choice([0, 10 ** 9, 2 ** 31])}, "direction": "Right", "pad_id": rng.choice([0, 300, -1, 2 ** 40]),
             "pad_type_id": 0, "pad_token": "<|endoftext|>", "pad_to_multiple_of": rng.choice([None, 0, 10 ** 9])},
            {"max_length": -1}, 5, []])
        case.key = part
        case.description = "%s = %s" % (part, to_json(tokenizer[part])[:60])
    elif choice == 6:
        model = tokenizer["model"]
        key = rng.choice(["type", "dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix", "byte_fallback", "fuse_unk",
                          "ignore_merges", "vocab", "merges"])
        model[key] = rng.choice(["WordPiece", "Unigram", "BPE", 0.5, 0, "<unk>", "", "##", True, None, {}, [], 1])
        case.key = key
        case.description = "model.%s = %s" % (key, to_json(model[key]))
    elif choice == 7:
        config = {"eos_token": rng.choice(["<|endoftext|>", "<nope>", "", {"content": "<|im_end|>"}, {"content": 5}, 5, None]),
                  "pad_token": rng.choice(["<|endoftext|>", "<pad>", None, []]), "bos_token": rng.choice([None, "<|im_start|>", "zz"]),
                  "chat_template": rng.choice([None, "", "{% for m in messages %}{{ m.content }}{% endfor %}", "{{", 5,
                                               [{"name": "default", "template": "x"}], [{"template": 1}]])}
        case.files[TOKENIZER_CONFIG] = to_json(config).encode()
        case.mutated = ["tokenizer_config.json"]
        case.description = "tokenizer_config.json %s" % to_json(config)[:60]
        return
    else:
        tokenizer, case.description, case.key = tree_mutation(rng, tokenizer, focus_keys=TOKENIZER_KEYS)
    case.files[TOKENIZER] = to_json(tokenizer).encode()
