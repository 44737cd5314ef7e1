#!/usr/bin/env python3
"""Makes the SafeTensors test fixtures with the reference `safetensors` / `transformers` packages, and checks
that the files Charter wrote (committed next to this script) load in Python with the expected values.

Usage (from this directory):  python3 make_fixtures.py          # regenerate reference fixtures + verify Charter files
                              python3 make_fixtures.py --verify # only verify the Charter-written files

Expected values are stored as float32 bit patterns (uint32) so that NaN, -0 and subnormals compare exactly.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))


def bits(tensor):
    """float32 bit patterns of a tensor converted to float32 (the value Charter's floats() must return)."""
    return [int(b) for b in tensor.to(torch.float32).contiguous().view(torch.int32).flatten().tolist()]


def u32(values):
    return [v & 0xFFFFFFFF for v in values]


def make_dtypes():
    torch.manual_seed(0)
    special = [0.0, -0.0, 1.0, -2.5, 65504.0, 6.0e-8, 1.0e-5, float("inf"), float("-inf"), float("nan"), 3.14159, -1e-40]
    tensors = {
        "f64": torch.tensor([[1.0, -2.0, 1e-300], [3.5, 1e30, -0.0]], dtype=torch.float64),
        "f32": torch.randn(3, 4, dtype=torch.float32),
        "f32_special": torch.tensor(special, dtype=torch.float32),
        "f16": torch.tensor(special, dtype=torch.float32).to(torch.float16),
        "f16_random": torch.randn(2, 3, 5).to(torch.float16),
        "bf16": torch.tensor(special + [1e38, 3e-39], dtype=torch.float32).to(torch.bfloat16),
        "bf16_random": torch.randn(7, 3).to(torch.bfloat16),
        "i64": torch.tensor([0, -1, 2**40, -(2**31)], dtype=torch.int64),
        "i32": torch.tensor([[7, -8], [2**30, -5]], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767, 0], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, 5], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 17], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True], dtype=torch.bool),
        "scalar": torch.tensor(4.25, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }
    save_file(tensors, os.path.join(HERE, "dtypes.safetensors"), metadata={"format": "pt", "note": "fixture \"quoted\""})
    expected = {
        name: {"dtype": str(t.dtype), "shape": list(t.shape), "bits": u32(bits(t))} for name, t in tensors.items()
    }
    # f32 -> f16/bf16 rounding reference: Charter's narrowing must match torch bit for bit.
    torch.manual_seed(1)
    wide = torch.cat([torch.randn(2000) * 10, torch.randn(500) * 1e-5, torch.randn(500) * 6e4,
                      torch.tensor(special)]).to(torch.float32)
    expected["__rounding__"] = {
        "input": u32(bits(wide)),
        "f16": [int(b) & 0xFFFF for b in wide.to(torch.float16).view(torch.int16).tolist()],
        "bf16": [int(b) & 0xFFFF for b in wide.to(torch.bfloat16).view(torch.int16).tolist()],
    }
    with open(os.path.join(HERE, "dtypes.expected.json"), "w") as f:
        json.dump(expected, f)
    f8 = {"f8": torch.tensor([1.0, 2.0], dtype=torch.float32).to(torch.float8_e4m3fn)}
    save_file(f8, os.path.join(HERE, "f8.safetensors"))


def make_sharded():
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(vocab_size=64, n_positions=16, n_embd=16, n_layer=2, n_head=2)
    model = GPT2LMHeadModel(config)
    out = os.path.join(HERE, "sharded")
    model.save_pretrained(out, max_shard_size="20KB", safe_serialization=True)
    for extra in ("config.json", "generation_config.json"):
        path = os.path.join(out, extra)
        if os.path.exists(path):
            os.remove(path)
    state = {}
    for name in sorted(os.listdir(out)):
        if name.endswith(".safetensors"):
            state.update(load_file(os.path.join(out, name)))
    expected = {name: {"shape": list(t.shape), "bits": u32(bits(t))} for name, t in sorted(state.items())}
    with open(os.path.join(HERE, "sharded.expected.json"), "w") as f:
        json.dump(expected, f)


def make_hostile():
    """Malformed files, and whether the reference implementation (safe_open) accepts each one."""
    def file(header, data=b"", declared=None):
        raw = header.encode()
        return struct.pack("<Q", len(raw) if declared is None else declared) + raw + data

    def entry(dtype="F32", shape="[1]", offsets="[0,4]"):
        return '{"dtype":"%s","shape":%s,"data_offsets":%s}' % (dtype, shape, offsets)

    cases = {
        "valid-unpadded": file('{"t":%s}' % entry(), b"\0" * 4),
        "valid-leading-space": file(' {}'),
        "valid-metadata-null": file('{"__metadata__":null}'),
        "valid-zero-size": file('{"z":%s}' % entry(shape="[0,3]", offsets="[0,0]")),
        "valid-unknown-field": file('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}', b"\0" * 4),
        "gap": file('{"a":%s}' % entry(offsets="[4,8]"), b"\0" * 8),
        "trailing-bytes": file('{"a":%s}' % entry(), b"\0" * 6),
        "overlap": file('{"a":%s,"b":%s}' % (entry(offsets="[0,4]"), entry(offsets="[2,6]")), b"\0" * 8),
        "past-end": file('{"a":%s}' % entry(offsets="[0,8]"), b"\0" * 4),
        "unknown-dtype": file('{"a":%s}' % entry(dtype="Q7"), b"\0" * 4),
        "negative-shape": file('{"a":%s}' % entry(shape="[-1]"), b"\0" * 4),
        "float-shape": file('{"a":%s}' % entry(shape="[1.0]"), b"\0" * 4),
        "overflow-shape": file('{"a":%s}' % entry(shape="[4294967296,4294967296]"), b"\0" * 4),
        "wrong-size": file('{"a":%s}' % entry(shape="[2]"), b"\0" * 4),
        "duplicate-key": file('{"a":%s,"a":%s}' % (entry(), entry()), b"\0" * 4),
        "non-object": file('[1,2]'),
        "metadata-number": file('{"__metadata__":{"a":1}}'),
        "huge-length": file('{}', declared=2**40),
        "length-past-end": file('{}', declared=200),
        "trailing-json": file('{} x'),
    }
    directory = os.path.join(HERE, "hostile")
    os.makedirs(directory, exist_ok=True)
    accepted = {}
    for name, data in cases.items():
        path = os.path.join(directory, name + ".safetensors")
        with open(path, "wb") as f:
            f.write(data)
        try:
            with safe_open(path, framework="pt") as f:
                list(f.keys())
            accepted[name] = True
        except Exception:  # the reference rejects it
            accepted[name] = False
    with open(os.path.join(directory, "python-accepts.json"), "w") as f:
        json.dump(accepted, f, indent=1, sort_keys=True)


def charter_values():
    """The recipe SafeTensorsFixtureTests.testWriteCharterFixture uses; keep the two in sync."""
    a = [i * 0.5 - 1.0 for i in range(6)]
    b = [1.0, -2.5, 3.140625, 1e-3, float("nan"), 1e38]
    c = [0.0, -0.0, 6.1e-5, 65504.0, 1e-7, -3.0]
    return a, b, c


def verify_charter():
    path = os.path.join(HERE, "charter-written.safetensors")
    if not os.path.exists(path):
        print("charter-written.safetensors absent: run `swift test --filter SafeTensorsTests` first")
        return
    a, b, c = charter_values()
    with safe_open(path, framework="pt") as f:
        assert f.metadata() == {"format": "pt", "writer": "charter"}, f.metadata()
        assert list(f.keys()) == ["a", "b", "c"], list(f.keys())
        ta, tb, tc = f.get_tensor("a"), f.get_tensor("b"), f.get_tensor("c")
    assert ta.dtype == torch.float32 and list(ta.shape) == [2, 3]
    assert torch.equal(ta.flatten(), torch.tensor(a, dtype=torch.float32))
    assert tb.dtype == torch.bfloat16 and list(tb.shape) == [6]
    # Same rounding as torch; NaN payloads may differ, so compare with equal_nan.
    ref_b = torch.tensor(b, dtype=torch.float32).to(torch.bfloat16)
    assert torch.allclose(tb.float(), ref_b.float(), rtol=0, atol=0, equal_nan=True), (tb, ref_b)
    assert tc.dtype == torch.float16 and list(tc.shape) == [3, 2]
    assert bits(tc) == bits(torch.tensor(c, dtype=torch.float32).to(torch.float16)), (tc,)
    # The header must be padded to 8 bytes with spaces, like the Rust writer.
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = f.read(n)
    assert n % 8 == 0 and header.rstrip(b" ").endswith(b"}")
    # Charter's sharded output loads back as the same state dict.
    directory = os.path.join(HERE, "charter-sharded")
    with open(os.path.join(directory, "model.safetensors.index.json")) as f:
        index = json.load(f)
    state = {}
    for shard in sorted(set(index["weight_map"].values())):
        state.update(load_file(os.path.join(directory, shard)))
    assert sorted(state) == sorted(index["weight_map"]), "index and shards disagree"
    assert index["metadata"]["total_size"] == sum(t.numel() * t.element_size() for t in state.values())
    for i in range(5):
        expected = torch.arange(i * 10, i * 10 + 40, dtype=torch.float32).reshape(4, 10) / 8
        assert torch.equal(state[f"layer.{i}.weight"], expected), f"layer.{i}.weight"
    print("Charter-written files load in Python with the expected values")


if __name__ == "__main__":
    if "--verify" not in sys.argv:
        make_dtypes()
        make_sharded()
        make_hostile()
    verify_charter()
