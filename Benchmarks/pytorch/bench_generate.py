#!/usr/bin/env python3
"""PyTorch reference for Charter's generation benchmark (eager mode, CPU).

Greedy decoding with a KV cache on the same GPT as bench_train.py (nanoGPT
"shakespeare-char" shape, seeded random weights): one prefill of a random
prompt, then one token at a time.  Prints one JSON line:

  {"impl": "torch", "bench": "generate", "batch": 1, "prompt_len": 64, "new_tokens": 128,
   "prefill_ms": ..., "decode_tokens_per_s": ..., "decode_ms_per_token": ..., "peak_rss_mb": ..., ...}

decode_tokens_per_s = batch * (new_tokens - 1) / decode time (the first new token comes from
the prefill); the numbers are medians over --repeats runs after one warm-up run.

  python3 Benchmarks/pytorch/bench_generate.py --threads 2
"""

import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn.functional as F

from bench_train import GPT, GPTConfig


class KVCache:
    """Per-layer keys and values, (B, heads, t, head_dim), grown by concatenation."""

    def __init__(self, n_layer):
        self.keys = [None] * n_layer
        self.values = [None] * n_layer

    def append(self, layer, k, v):
        if self.keys[layer] is not None:
            k = torch.cat([self.keys[layer], k], dim=2)
            v = torch.cat([self.values[layer], v], dim=2)
        self.keys[layer], self.values[layer] = k, v
        return k, v

    @property
    def length(self):
        return 0 if self.keys[0] is None else self.keys[0].shape[2]


def attention_step(attn, x, cache, layer):
    """bench_train's CausalSelfAttention for new positions x, attending to the cache too."""
    b, t, c = x.shape
    q, k, v = attn.qkv(x).split(c, dim=2)
    q, k, v = (z.view(b, t, attn.n_head, c // attn.n_head).transpose(1, 2) for z in (q, k, v))
    assert t == 1 or cache.keys[layer] is None, "multi-token steps are only supported as the prefill"
    k, v = cache.append(layer, k, v)
    # Prefill (t > 1, empty cache before) is plain causal; a single new query sees every key.
    y = F.scaled_dot_product_attention(q, k, v, is_causal=t > 1)
    return attn.proj(y.transpose(1, 2).reshape(b, t, c))


@torch.no_grad()
def next_logits(model, idx, cache):
    """Logits of the last position after feeding idx (B, t) at positions cache.length...; updates cache."""
    start = cache.length
    positions = torch.arange(start, start + idx.shape[1])
    x = model.tok_emb(idx) + model.pos_emb(positions)
    for layer, block in enumerate(model.blocks):
        x = x + attention_step(block.attn, block.ln1(x), cache, layer)
        x = x + block.mlp(block.ln2(x))
    return model.ln_f(x[:, -1]) @ model.tok_emb.weight.T


@torch.no_grad()
def generate(model, prompt, new_tokens):
    """Greedy; returns (tokens (B, new_tokens), prefill seconds, decode seconds)."""
    cache = KVCache(len(model.blocks))
    t0 = time.perf_counter()
    token = next_logits(model, prompt, cache).argmax(-1, keepdim=True)
    t1 = time.perf_counter()
    out = [token]
    for _ in range(new_tokens - 1):
        token = next_logits(model, token, cache).argmax(-1, keepdim=True)
        out.append(token)
    t2 = time.perf_counter()
    return torch.cat(out, dim=1), t1 - t0, t2 - t1


@torch.no_grad()
def check_cache(model, prompt, steps):
    """Cached logits must match recomputing the whole sequence without a cache, step by step."""
    cache = KVCache(len(model.blocks))
    idx, feed = prompt, prompt
    for _ in range(steps):
        cached = next_logits(model, feed, cache)
        full = next_logits(model, idx, KVCache(len(model.blocks)))
        assert torch.allclose(cached, full, atol=1e-4), (cached - full).abs().max()
        feed = full.argmax(-1, keepdim=True)
        idx = torch.cat([idx, feed], dim=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--prompt-len", type=int, default=64)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3, help="measured runs (after one warm-up run)")
    ap.add_argument("--seed", type=int, default=1337)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg = GPTConfig()
    assert args.prompt_len + args.new_tokens <= cfg.context, "prompt + new tokens must fit the context"
    model = GPT(cfg).eval()
    prompt = torch.randint(0, cfg.vocab_size, (args.batch, args.prompt_len), dtype=torch.int64)

    check_cache(model, prompt, min(8, args.new_tokens))

    prefill, decode = [], []
    for run in range(1 + args.repeats):
        tokens, p, d = generate(model, prompt, args.new_tokens)
        if run > 0:
            prefill.append(p)
            decode.append(d)

    decode_s = statistics.median(decode)
    decoded = args.batch * (args.new_tokens - 1)
    result = {
        "impl": "torch",
        "bench": "generate",
        "batch": args.batch,
        "prompt_len": args.prompt_len,
        "new_tokens": args.new_tokens,
        "prefill_ms": round(statistics.median(prefill) * 1e3, 2),
        "decode_tokens_per_s": round(decoded / decode_s, 1),
        "decode_ms_per_token": round(decode_s * 1e3 / (args.new_tokens - 1), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "threads": args.threads,
        "params": sum(p.numel() for p in model.parameters()),
        "first_tokens": tokens[0, :8].tolist(),
        "torch": torch.__version__,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
