#!/usr/bin/env python3
"""Runs Charter's benchmarks and their PyTorch/transformers references in the same session, alternating the two so
that machine noise hits both alike, and prints a Markdown table of medians and ratios (Charter ÷ reference).

    swift build -c release --product charter
    python3 Benchmarks/compare.py --rounds 3                 # all benchmarks
    python3 Benchmarks/compare.py --only gemm train --rounds 3

Needs torch and transformers (pip). The generation benchmark writes its ~32M-parameter Llama once to
/tmp/charter-llama30m (Benchmarks/transformers/bench_generate.py --save-model).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHARTER = os.path.join(ROOT, ".build", "release", "charter")
MODEL = "/tmp/charter-llama30m"


def run(command):
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


BENCHMARKS = {
    "gemm": (
        [CHARTER, "bench", "gemm", "--repeats", "5", "--threads", "2"],
        [sys.executable, "Benchmarks/pytorch/bench_gemm.py", "--repeats", "5", "--threads", "2"],
        lambda r: f"GEMM {r['m']}×{r['n']}×{r['k']} (GFLOP/s)", "gflops"),
    "train": (
        [CHARTER, "bench", "train", "--threads", "2"],
        [sys.executable, "Benchmarks/pytorch/bench_train.py", "--threads", "2"],
        lambda r: "training step, nanoGPT shakespeare-char (tokens/s)", "tokens_per_s"),
    "train-memory": (
        [CHARTER, "bench", "train", "--threads", "2"],
        [sys.executable, "Benchmarks/pytorch/bench_train.py", "--threads", "2"],
        lambda r: "training step, peak RSS (MB; lower is better)", "peak_rss_mb"),
    "prefill": (
        [CHARTER, "bench", "generate", "--model", MODEL, "--threads", "2"],
        [sys.executable, "Benchmarks/transformers/bench_generate.py", "--model", MODEL, "--threads", "2"],
        lambda r: "generation prefill, 32M Llama, 64-token prompt (tokens/s)", "prefill_tokens_per_s"),
    "decode": (
        [CHARTER, "bench", "generate", "--model", MODEL, "--threads", "2"],
        [sys.executable, "Benchmarks/transformers/bench_generate.py", "--model", MODEL, "--threads", "2"],
        lambda r: "generation decode with KV cache, 32M Llama (tokens/s)", "decode_tokens_per_s"),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=list(BENCHMARKS))
    args = parser.parse_args()
    if any(name in ("prefill", "decode") for name in args.only) and not os.path.exists(MODEL):
        run([sys.executable, "Benchmarks/transformers/bench_generate.py", "--save-model", MODEL])
    rows = []
    cache = {}
    for name in args.only:
        charter_command, reference_command, label, field = BENCHMARKS[name]
        results = {"charter": [], "reference": []}
        for _ in range(args.rounds):
            for side, command in (("charter", charter_command), ("reference", reference_command)):
                key = tuple(command)
                # train and train-memory (prefill and decode) share runs: measure once per round.
                runs = cache.setdefault(key, [])
                if len(runs) < args.rounds:
                    runs.append(run(command))
                results[side] = cache[key]
        for index, record in enumerate(results["charter"][0]):
            charter_values = [lines[index][field] for lines in results["charter"]]
            reference_values = [lines[index][field] for lines in results["reference"]]
            c, r = statistics.median(charter_values), statistics.median(reference_values)
            rows.append((label(record), c, r, c / r if r else float("nan")))
    print("| benchmark | Charter | reference | Charter ÷ reference |")
    print("|---|---|---|---|")
    for label, c, r, ratio in rows:
        print(f"| {label} | {c:,.1f} | {r:,.1f} | {ratio:.2f}× |")


if __name__ == "__main__":
    main()
