#!/usr/bin/env python3
"""Tiny Hugging Face checkpoints with reference outputs for Charter's LanguageModels tests.

Run:  python3 Tests/LanguageModelsTests/Fixtures/make_checkpoints.py

For every model below this writes checkpoints/<name>/ with what transformers'
save_pretrained produces (config.json, model.safetensors or shards +
model.safetensors.index.json, generation_config.json) plus reference.json.

Weights
-------
transformers' own init (std 0.02) gives near-uniform logits, which would make
weak tests, so after construction every parameter is redrawn from a seeded
generator (seed = the model's seed, see MODELS):
  Linear / Conv1D / Embedding weights: N(0, 1/sqrt(fan_in)); fan_in = the input
    width (Linear: weight.shape[1]; GPT-2 Conv1D, stored (in, out): shape[0];
    Embedding: the hidden width);
  norm weights: 1 + 0.1 N(0,1);  biases (norm and linear): 0.1 N(0,1).
Tied embeddings are drawn once (the lm_head is the embedding).

Inputs (same for every model; all ids are < the smallest vocab used)
------
  "single": batch 1, the 16 ids of SEQ_A, attention_mask all ones.
  "batch":  batch 2, row 0 = SEQ_B (16 ids), row 1 = SEQ_C (11 ids) left-padded
            with 5 pad ids (0) and attention_mask [0]*5 + [1]*11.
  position_ids are passed explicitly, as generate() makes them:
            cumsum(attention_mask) - 1, and 0 at padded positions.
  Attention is eager, computed in float32.

Reference outputs (reference.json)
-----------------
  logits          (B, T, vocab) float32.
  token_logprobs  (B, T-1): entry t = log_softmax(logits[:, t])[ids[:, t+1]]
                  (log-probability of each input token given its prefix),
                  computed in float64 from the float32 logits, stored rounded
                  to float32.
  hidden_states   (single only) (num_layers+1, 1, T, hidden) = HF's
                  output_hidden_states: [embedding output (for GPT-2: token +
                  position embeddings), output of layer 0, ..., output of layer
                  L-2, final_norm(output of layer L-1)] — the last entry is
                  after the final norm, as HF defines it.
  rope            (RoPE models) inv_freq (head_dim/2) after rope scaling, as HF's rotary
                  embedding holds it in float32, and attention_scaling (1.0 here; cos/sin are
                  multiplied by it).
  In "batch", entries at padded positions are written as 0 (HF's values there
  are undefined): logits where attention_mask[t] == 0, token_logprobs where
  attention_mask[t] == 0 or attention_mask[t+1] == 0.  The script asserts that
  row 1's real positions equal SEQ_C run alone (atol 1e-5).
  generate        greedy (do_sample False, num_beams 1), max_new_tokens 8 on
                  the prompt SEQ_A[:6] (batch 1, no padding), with the
                  checkpoint's generation_config (eos id 2 stops generation).
                  output_ids include the prompt.  The script asserts the
                  result equals a cache-free argmax loop over full forwards.
  generate_batch  the same for two prompts at once, SEQ_B[:7] and SEQ_C[:4] left-padded to 7
                  (attention_mask given, positions from the mask); new_ids per row; a row that
                  emitted eos is filled with the pad id (0) afterwards.  Asserted equal to each
                  prompt generated alone.
  Every float is the shortest decimal that round-trips to the float32 value:
  parse as Float, not Double, to get the exact value.

Models (all 2 layers, rope_theta 10000 unless noted, eager attention)
------
  llama_gqa            Llama, hidden 32, 4 heads, 2 kv heads (head dim 8), inter 64, vocab 128, untied.
  llama_tied_bf16      Llama, hidden 32, 4 heads, 4 kv heads, vocab 112, tie_word_embeddings, saved in
                       bfloat16 (config dtype "bfloat16"); the reference is computed in float32 from the
                       bf16 weights (upcast exactly on load).
  llama3_rope_scaling  Llama, rope_theta 500000, rope type llama3 with factor 8, low_freq_factor 1,
                       high_freq_factor 4, original_max_position_embeddings 256 — with head dim 8 the
                       4 frequencies hit all three llama3 branches (kept, smoothed, divided by 8).
  llama_linear_scaling Llama, rope type linear, factor 2 (positions divided by 2).  Its config.json is
                       rewritten to the *legacy* form that most hub checkpoints use — top-level
                       "rope_theta" and "rope_scaling": {"type": "linear", "factor": 2.0} instead of
                       transformers 5's "rope_parameters" — and the references come from reloading
                       that file (asserted equal to the original model).
  qwen2                Qwen2, hidden 64, 4 heads, 2 kv heads (head dim 16), inter 128, vocab 200,
                       q/k/v biases (o_proj none), rope_theta 1e6, untied.
  mistral_sliding      Mistral, hidden 32, 4 heads, 2 kv heads, vocab 160, sliding_window 4: query i
                       attends keys j with i-4 < j <= i (itself and the 3 before).  Asserted to differ
                       from full causal attention.
  gpt2                 GPT-2, n_embd 32, 4 heads, n_positions 64, vocab 96, gelu_new (tanh), tied,
                       Conv1D weights stored (in, out), learned position embeddings.
  llama_sharded        like llama_gqa (vocab 128) saved with max_shard_size 40KB -> several
                       model-0000k-of-0000n.safetensors shards + model.safetensors.index.json.
"""

import copy
import json
import math
import shutil
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import transformers
from transformers import (AutoModelForCausalLM, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM,
                          MistralConfig, MistralForCausalLM, Qwen2Config, Qwen2ForCausalLM)
from transformers.pytorch_utils import Conv1D

ROOT = Path(__file__).resolve().parent / "checkpoints"

PAD_ID, BOS_ID, EOS_ID = 0, 1, 2
SEQ_A = [1, 17, 42, 5, 88, 23, 61, 9, 33, 70, 14, 51, 27, 90, 3, 46]
SEQ_B = [1, 64, 8, 19, 77, 35, 12, 56, 91, 4, 29, 83, 40, 11, 68, 25]
SEQ_C = [1, 30, 72, 6, 58, 21, 85, 13, 47, 94, 37]
PROMPT = SEQ_A[:6]
BATCH_PROMPTS = [SEQ_B[:7], SEQ_C[:4]]
MAX_NEW_TOKENS = 8
SHARD_SIZE = "40KB"

COMMON_TOKENS = dict(pad_token_id=PAD_ID, bos_token_id=BOS_ID, eos_token_id=EOS_ID)


def llama_config(**overrides):
    kwargs = dict(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                  rope_theta=10000.0, tie_word_embeddings=False, **COMMON_TOKENS)
    kwargs.update(overrides)
    return LlamaConfig(**kwargs)


MODELS = {
    "llama_gqa": dict(seed=1, cls=LlamaForCausalLM, config=lambda: llama_config()),
    "llama_tied_bf16": dict(seed=2, cls=LlamaForCausalLM, save_dtype=torch.bfloat16,
                            config=lambda: llama_config(vocab_size=112, num_key_value_heads=4,
                                                        tie_word_embeddings=True)),
    "llama3_rope_scaling": dict(seed=3, cls=LlamaForCausalLM,
                                config=lambda: llama_config(
                                    max_position_embeddings=2048, rope_theta=500000.0,
                                    rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                  "high_freq_factor": 4.0,
                                                  "original_max_position_embeddings": 256})),
    "llama_linear_scaling": dict(seed=4, cls=LlamaForCausalLM, legacy_rope_config=True,
                                 config=lambda: llama_config(rope_scaling={"rope_type": "linear", "factor": 2.0})),
    "qwen2": dict(seed=5, cls=Qwen2ForCausalLM,
                  config=lambda: Qwen2Config(vocab_size=200, hidden_size=64, intermediate_size=128,
                                             num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                             max_position_embeddings=64, rope_theta=1000000.0,
                                             tie_word_embeddings=False, use_sliding_window=False,
                                             **COMMON_TOKENS)),
    "mistral_sliding": dict(seed=6, cls=MistralForCausalLM,
                            config=lambda: MistralConfig(vocab_size=160, hidden_size=32, intermediate_size=64,
                                                         num_hidden_layers=2, num_attention_heads=4,
                                                         num_key_value_heads=2, max_position_embeddings=64,
                                                         rope_theta=10000.0, sliding_window=4,
                                                         tie_word_embeddings=False, **COMMON_TOKENS)),
    "gpt2": dict(seed=7, cls=GPT2LMHeadModel,
                 config=lambda: GPT2Config(vocab_size=96, n_positions=64, n_embd=32, n_layer=2, n_head=4,
                                           activation_function="gelu_new", **COMMON_TOKENS)),
    "llama_sharded": dict(seed=8, cls=LlamaForCausalLM, shard_size=SHARD_SIZE, config=lambda: llama_config()),
}


# --------------------------------------------------------------------------- weights


def fan_in(module):
    if isinstance(module, nn.Linear):
        return module.in_features
    if isinstance(module, Conv1D):        # GPT-2: weight is (in, out)
        return module.weight.shape[0]
    if isinstance(module, nn.Embedding):
        return module.embedding_dim
    return None


@torch.no_grad()
def redraw_weights(model, seed):
    gen = torch.Generator().manual_seed(seed)
    seen = set()
    for module in model.modules():
        for pname, p in module.named_parameters(recurse=False):
            if id(p) in seen:                  # tied weights: draw once
                continue
            seen.add(id(p))
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if pname == "bias":
                p.copy_(0.1 * noise)
            elif p.dim() == 1:                 # RMSNorm / LayerNorm weight
                p.copy_(1.0 + 0.1 * noise)
            else:
                p.copy_(noise / math.sqrt(fan_in(module)))


# --------------------------------------------------------------------------- inputs


def left_pad(rows):
    width = max(len(r) for r in rows)
    ids = [[PAD_ID] * (width - len(r)) + r for r in rows]
    mask = [[0] * (width - len(r)) + [1] * len(r) for r in rows]
    return torch.tensor(ids), torch.tensor(mask)


def positions_from_mask(mask):
    pos = mask.long().cumsum(-1) - 1
    return pos.masked_fill(mask == 0, 0)


def make_inputs():
    single_ids, single_mask = left_pad([SEQ_A])
    batch_ids, batch_mask = left_pad([SEQ_B, SEQ_C])
    return {
        "single": dict(input_ids=single_ids, attention_mask=single_mask, position_ids=positions_from_mask(single_mask)),
        "batch": dict(input_ids=batch_ids, attention_mask=batch_mask, position_ids=positions_from_mask(batch_mask)),
    }


# --------------------------------------------------------------------------- reference values


def f32_list(t):
    """Shortest decimals that round-trip to the float32 values."""
    arr = t.detach().to(torch.float32).reshape(-1).numpy()
    return [float(str(v)) for v in arr]


def tensor_entry(t, as_float32=True):
    data = f32_list(t) if as_float32 else [int(v) for v in t.reshape(-1).tolist()]
    return {"shape": list(t.shape), "data": data}


def token_logprobs(logits, ids):
    logp = torch.log_softmax(logits.double(), dim=-1)
    return logp[:, :-1].gather(-1, ids[:, 1:, None])[..., 0]


@torch.no_grad()
def forward(model, inputs, **kwargs):
    return model(**inputs, use_cache=False, **kwargs)


@torch.no_grad()
def greedy_without_cache(model, prompt, max_new_tokens, eos_id):
    ids = list(prompt)
    for _ in range(max_new_tokens):
        logits = model(torch.tensor([ids]), use_cache=False).logits
        nxt = int(logits[0, -1].argmax())
        ids.append(nxt)
        if nxt == eos_id:
            break
    return ids


def reference_outputs(model, inputs):
    outputs = {}

    single = forward(model, inputs["single"], output_hidden_states=True)
    hidden = torch.stack(single.hidden_states)                 # (L+1, 1, T, H)
    assert hidden.shape[0] == model.config.num_hidden_layers + 1
    outputs["single"] = {
        "logits": tensor_entry(single.logits),
        "token_logprobs": tensor_entry(token_logprobs(single.logits, inputs["single"]["input_ids"])),
        "hidden_states": tensor_entry(hidden),
    }

    batch_inputs = inputs["batch"]
    batch = forward(model, batch_inputs)
    mask = batch_inputs["attention_mask"].bool()
    logits = batch.logits.masked_fill(~mask[..., None], 0.0)
    logprobs = token_logprobs(batch.logits, batch_inputs["input_ids"])
    logprobs = logprobs.masked_fill(~(mask[:, :-1] & mask[:, 1:]), 0.0)

    # The padded row must agree with the same sequence run alone.
    alone = forward(model, dict(input_ids=torch.tensor([SEQ_C]))).logits[0]
    padded_row = batch.logits[1, mask[1]]
    assert torch.allclose(padded_row, alone, atol=1e-5), (padded_row - alone).abs().max()

    outputs["batch"] = {"logits": tensor_entry(logits), "token_logprobs": tensor_entry(logprobs)}

    rotary = getattr(getattr(model, "model", None), "rotary_emb", None)
    if rotary is not None:      # RoPE models: the (scaled) inverse frequencies HF uses, float32
        outputs["rope"] = {"inv_freq": tensor_entry(rotary.inv_freq),
                           "attention_scaling": float(rotary.attention_scaling)}
    return outputs


@torch.no_grad()
def reference_generate(model):
    prompt = torch.tensor([PROMPT])
    out = model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=MAX_NEW_TOKENS,
                         do_sample=False, num_beams=1)
    out_ids = out[0].tolist()
    eos = model.generation_config.eos_token_id
    assert out_ids == greedy_without_cache(model, PROMPT, MAX_NEW_TOKENS, eos), "generate != argmax loop"
    return {"prompt_ids": PROMPT, "max_new_tokens": MAX_NEW_TOKENS, "do_sample": False,
            "eos_token_id": eos, "output_ids": out_ids, "new_ids": out_ids[len(PROMPT):],
            "stopped_at_eos": len(out_ids) < len(PROMPT) + MAX_NEW_TOKENS}


@torch.no_grad()
def reference_generate_batch(model):
    """Greedy generation for two left-padded prompts at once; each row must match its own unpadded run."""
    ids, mask = left_pad(BATCH_PROMPTS)
    out = model.generate(ids, attention_mask=mask, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, num_beams=1)
    eos = model.generation_config.eos_token_id
    new_ids = out[:, ids.shape[1]:].tolist()
    for prompt, row in zip(BATCH_PROMPTS, new_ids):
        expected = greedy_without_cache(model, prompt, MAX_NEW_TOKENS, eos)[len(prompt):]
        assert row[:len(expected)] == expected, (row, expected)
        assert all(t == PAD_ID for t in row[len(expected):])     # rows that finished early are padded
    return {"input_ids": ids.tolist(), "attention_mask": mask.tolist(), "max_new_tokens": MAX_NEW_TOKENS,
            "do_sample": False, "eos_token_id": eos, "pad_token_id": PAD_ID, "new_ids": new_ids}


# --------------------------------------------------------------------------- model-specific checks


def check_sliding_window_matters(model, inputs):
    """Same weights with full causal attention must differ (only) from position 4 on."""
    full_cfg = model.config.__class__.from_dict({**model.config.to_dict(), "sliding_window": None})
    full_cfg._attn_implementation = "eager"
    full = model.__class__(full_cfg).eval()
    full.load_state_dict(model.state_dict())
    a = forward(model, inputs["single"]).logits
    b = forward(full, inputs["single"]).logits
    window = model.config.sliding_window
    assert torch.allclose(a[:, :window], b[:, :window], atol=1e-6)
    assert (a[:, window:] - b[:, window:]).abs().max() > 1e-3


def rewrite_rope_config_to_legacy(path):
    """transformers 5 writes "rope_parameters"; most hub checkpoints use rope_theta + rope_scaling."""
    config_file = path / "config.json"
    config = json.loads(config_file.read_text())
    rope = config.pop("rope_parameters")
    config["rope_theta"] = rope.pop("rope_theta")
    config["rope_scaling"] = {"type": rope.pop("rope_type"), **rope}
    config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


# --------------------------------------------------------------------------- driver


def compact_json(doc):
    """Indented JSON, but every {"shape", "data"} tensor and every short list on one line."""
    def encode(obj, indent):
        pad = " " * indent
        if isinstance(obj, dict) and not ("shape" in obj and "data" in obj):
            items = [f'{pad} {json.dumps(k)}: {encode(v, indent + 1)}' for k, v in obj.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        return json.dumps(obj)
    text = encode(doc, 0) + "\n"
    assert json.loads(text) == doc
    return text


def build(name, spec, inputs):
    out_dir = ROOT / name
    if out_dir.exists():
        shutil.rmtree(out_dir)

    torch.manual_seed(spec["seed"])
    config = spec["config"]()
    config._attn_implementation = "eager"
    model = spec["cls"](config).eval()
    redraw_weights(model, spec["seed"])

    save_dtype = spec.get("save_dtype")
    to_save = model
    if save_dtype is not None:
        with torch.no_grad():                # round the float32 weights to what is saved
            for p in model.parameters():
                p.copy_(p.to(save_dtype).float())
        # A converted copy is saved; the float32 model keeps exact float32 buffers (RoPE inv_freq).
        to_save = copy.deepcopy(model).to(save_dtype)
    save_kwargs = {"max_shard_size": spec["shard_size"]} if "shard_size" in spec else {}
    to_save.save_pretrained(out_dir, **save_kwargs)
    if spec.get("legacy_rope_config"):
        rewrite_rope_config_to_legacy(out_dir)

    # References always come from what is on disk, loaded in float32.
    loaded = AutoModelForCausalLM.from_pretrained(out_dir, dtype=torch.float32, attn_implementation="eager").eval()
    assert loaded.config._attn_implementation == "eager"
    for key in ("single", "batch"):
        a, b = forward(model, inputs[key]).logits, forward(loaded, inputs[key]).logits
        assert torch.equal(a, b), f"{name}: reloaded model differs from the saved one ({key})"
    if name == "mistral_sliding":
        check_sliding_window_matters(loaded, inputs)
    if "shard_size" in spec:
        assert (out_dir / "model.safetensors.index.json").exists()
        assert len(list(out_dir.glob("model-*-of-*.safetensors"))) >= 2

    reference = {
        "model": name,
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "attn_implementation": "eager",
        "compute_dtype": "float32",
        "notes": ("logits (B,T,V); token_logprobs[b,t] = log p(ids[b,t+1] | ids[b,:t+1]); hidden_states "
                  "(L+1,1,T,H), last entry after the final norm; batch entries at padded positions are 0. "
                  "Floats are shortest float32 round-trip decimals. See make_checkpoints.py."),
        "inputs": {key: {k: v.tolist() for k, v in value.items()} for key, value in inputs.items()},
        "outputs": reference_outputs(loaded, inputs),
        "generate": reference_generate(loaded),
        "generate_batch": reference_generate_batch(loaded),
    }
    (out_dir / "reference.json").write_text(compact_json(reference))
    size = sum(f.stat().st_size for f in out_dir.iterdir())
    files = sorted(f.name for f in out_dir.iterdir())
    print(f"{name:22s} {size / 1024:7.1f} KB  {files}")
    return size


def main():
    torch.set_num_threads(1)      # deterministic reductions, independent of the machine
    inputs = make_inputs()
    ROOT.mkdir(parents=True, exist_ok=True)
    total = sum(build(name, spec, inputs) for name, spec in MODELS.items())
    print(f"total {total / 1024:.1f} KB")
    assert total < 3 * 1024 * 1024


if __name__ == "__main__":
    main()
