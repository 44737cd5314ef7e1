#!/usr/bin/env python3
"""PyTorch reference for Charter's training benchmark (eager mode, CPU).

Trains a character-level GPT of nanoGPT's "shakespeare-char" shape on one fixed
batch of seeded random token ids and prints one JSON line:

  {"impl": "torch", "tokens_per_s": ..., "step_ms_median": ..., "peak_rss_mb": ...,
   "threads": 2, "params": ..., "loss_first": ..., "loss_last": ...}

A step is: forward, cross-entropy loss, backward, grad-norm clip (1.0),
AdamW step, zero_grad.  With --bf16 the forward and backward run under
torch.autocast("cpu", dtype=torch.bfloat16) (PyTorch's own mixed precision:
bf16 matmuls and attention, fp32 weights, optimizer and loss).  tokens_per_s = batch * context / median step time of
the measured steps (warm-up steps are excluded).  The exact model is described
in Benchmarks/pytorch/README.md; the Swift implementation builds the same one.

  python3 Benchmarks/pytorch/bench_train.py --threads 2 --steps 10
  python3 Benchmarks/pytorch/bench_train.py --threads 2 --bf16 --steps 200 --losses /tmp/torch-bf16.txt

With --data FILE it trains as nanoGPT's shakespeare-char run does instead of on the fixed batch: the file's distinct
characters (sorted) are the vocabulary and every step takes a fresh batch of windows of context + 1 characters at
offsets drawn with SplitMix64 from --data-seed (offset = next() mod (characters - context - 1)), the draws
`charter bench train --data` makes.
"""

import argparse
import json
import math
import resource
import statistics
import sys
import time
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class GPTConfig:
    vocab_size: int = 65
    context: int = 256
    n_layer: int = 6
    n_head: int = 6
    n_embd: int = 384


class LayerNorm(nn.Module):
    """LayerNorm with a weight and no bias (eps 1e-5)."""

    def __init__(self, width):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(width))

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, None, eps=1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=False)   # rows: q | k | v
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).split(c, dim=2)
        # (B, T, C) -> (B, heads, T, head_dim); head h owns columns h*hd ..< (h+1)*hd
        q, k, v = (z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)   # scale 1/sqrt(head_dim)
        return self.proj(y.transpose(1, 2).reshape(b, t, c))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=False)
        self.proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=False)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x)))   # exact (erf) GELU


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.ln1 = LayerNorm(cfg.n_embd)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = LayerNorm(cfg.n_embd)
        self.mlp = MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.pos_emb = nn.Embedding(cfg.context, cfg.n_embd)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = LayerNorm(cfg.n_embd)
        self.init_weights()

    def init_weights(self):
        residual_std = 0.02 / math.sqrt(2 * self.cfg.n_layer)
        for name, p in self.named_parameters():
            if p.dim() < 2:
                continue                              # LayerNorm weights stay 1
            std = residual_std if name.endswith("proj.weight") else 0.02
            nn.init.normal_(p, mean=0.0, std=std)

    def forward(self, idx, targets):
        t = idx.shape[1]
        x = self.tok_emb(idx) + self.pos_emb(torch.arange(t, device=idx.device))
        for block in self.blocks:
            x = block(x)
        logits = self.ln_f(x) @ self.tok_emb.weight.T    # tied lm head
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.reshape(-1))


class SplitMix64:
    """Charter's SplitMix64 (Sources/Runtime/SplitMix64.swift), for the same batch offsets."""

    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)


def character_corpus(path):
    """The file's characters as ids in sorted order (nanoGPT's prepare.py), and the vocabulary size."""
    with open(path, encoding="utf-8", newline="") as file:
        text = file.read()
    if len(text) <= GPTConfig.context + 1:
        sys.exit(f"{path}: {len(text)} characters; a batch window needs more than context + 1 = {GPTConfig.context + 1}")
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    return torch.tensor([index[c] for c in text], dtype=torch.int64), len(chars)


LEARNING_RATE = 6e-4


def make_optimizer(model, lr=LEARNING_RATE, betas=(0.9, 0.95), weight_decay=0.1, eps=1e-8):
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps)


def train_step(model, opt, x, y, bf16=False):
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = model(x, y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss.item()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10, help="measured steps (after warm-up)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--verbose", action="store_true", help="print every step's time and loss to stderr")
    ap.add_argument("--bf16", action="store_true", help='run forward and backward under torch.autocast("cpu", bfloat16)')
    ap.add_argument("--losses", help="write every step's loss (warm-up steps included), one per line, to this file")
    ap.add_argument("--data", help="a UTF-8 text file: character vocabulary and a fresh batch every step (nanoGPT's way)")
    ap.add_argument("--data-seed", type=int, default=1337, help="SplitMix64 seed of the batch offsets with --data")
    ap.add_argument("--lr-warmup", type=int, default=0,
                    help="linear learning-rate warm-up steps, as nanoGPT's get_lr: lr * (step + 1) / (N + 1) while step < N")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    corpus, vocab = character_corpus(args.data) if args.data else (None, 65)
    cfg = GPTConfig(vocab_size=vocab)
    model = GPT(cfg)
    opt = make_optimizer(model)

    data = torch.randint(0, cfg.vocab_size, (args.batch, cfg.context + 1), dtype=torch.int64)
    x, y = data[:, :-1].contiguous(), data[:, 1:].contiguous()

    offsets = SplitMix64(args.data_seed)
    losses, times = [], []
    for step in range(args.warmup + args.steps):
        if corpus is not None:
            starts = [offsets.next() % (len(corpus) - cfg.context - 1) for _ in range(args.batch)]
            x = torch.stack([corpus[s:s + cfg.context] for s in starts])
            y = torch.stack([corpus[s + 1:s + 1 + cfg.context] for s in starts])
        for group in opt.param_groups:
            group["lr"] = LEARNING_RATE * (step + 1) / (args.lr_warmup + 1) if step < args.lr_warmup else LEARNING_RATE
        t0 = time.perf_counter()
        loss = train_step(model, opt, x, y, args.bf16)
        dt = time.perf_counter() - t0
        losses.append(loss)
        if args.verbose:
            kind = "warmup" if step < args.warmup else "step"
            print(f"{kind} {step}: {dt * 1e3:.1f} ms  loss {loss:.4f}", file=sys.stderr)
        if step >= args.warmup:
            times.append(dt)

    if args.losses:
        with open(args.losses, "w") as file:
            file.writelines(f"{loss}\n" for loss in losses)
    step_s = statistics.median(times)
    result = {
        "impl": "torch",
        "tokens_per_s": round(args.batch * cfg.context / step_s, 1),
        "step_ms_median": round(step_s * 1e3, 2),
        "step_ms_min": round(min(times) * 1e3, 2),
        "step_ms_max": round(max(times) * 1e3, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "threads": args.threads,
        "params": sum(p.numel() for p in model.parameters()),
        "batch": args.batch,
        "context": cfg.context,
        "steps": args.steps,
        "loss_first": round(losses[0], 6),
        "loss_last": round(losses[-1], 6),
        "matmul_precision": "bf16 (autocast)" if args.bf16 else "fp32",
        "vocab": cfg.vocab_size,
        "lr_warmup": args.lr_warmup,
        "data": args.data or "fixed random batch",
        "torch": torch.__version__,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
