#!/usr/bin/env python3
"""bf16 against fp32 loss curves of the nanoGPT-shape training benchmark, for Charter and for PyTorch.

Runs `charter bench train` and `Benchmarks/pytorch/bench_train.py` for --steps steps (no warm-up) in fp32 and in bf16
(Charter `--bf16`: bf16 matmul operands, fp32 accumulation and master weights; PyTorch: autocast bf16), each writing
every step's loss, then compares each bf16 curve with the same engine's fp32 curve step by step, and prints one JSON
line per comparison:

  {"comparison": "charter bf16 vs fp32", "steps": 200, "max_relative": ..., "max_step": ..., "mean_relative": ...,
   "steps_within_1pct": ..., "max_relative_10step_mean": ..., "final": [fp32, bf16], "kernel_path": ...}

relative = |bf16 − fp32| / fp32 at a step (with --files: |other − reference| / reference); the 10-step figure compares means over consecutive 10-step windows.
With --data FILE both engines train as nanoGPT's shakespeare-char run does (character vocabulary, a fresh batch
each step, the same SplitMix64 batch offsets in both engines and precisions); without it they memorise one fixed
random batch and the loss falls towards zero, where relative differences say little.

  python3 Benchmarks/loss_curves.py --data /tmp/hh-chosen.txt --steps 200
  python3 Benchmarks/loss_curves.py --data /tmp/hh-chosen.txt --steps 200 --isa avx2 --engines charter
  python3 Benchmarks/loss_curves.py --files avx512/charter-fp32.txt avx2/charter-fp32.txt   # fp32 against fp32
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHARTER = os.environ.get("CHARTER", ".build/release/charter")
AVX2 = {"CHARTER_KERNEL_PATH": "avx2", "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
        "ONEDNN_MAX_CPU_ISA": "AVX2"}


def train(engine, bf16, args, losses, env):
    if engine == "charter":
        command = [CHARTER, "bench", "train"]
    else:
        command = [args.python, "Benchmarks/pytorch/bench_train.py"]
    command += ["--threads", str(args.threads), "--steps", str(args.steps), "--warmup", "0", "--losses", losses]
    if args.data:
        command += ["--data", args.data, "--data-seed", str(args.data_seed)]
    if args.lr_warmup:
        command += ["--lr-warmup", str(args.lr_warmup)]
    if bf16:
        command.append("--bf16")
    print("running: " + " ".join(command), file=sys.stderr, flush=True)
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    summary = json.loads(out.strip().splitlines()[-1])
    with open(losses) as file:
        return [float(line) for line in file if line.strip()], summary


def compare(name, fp32, bf16, window=10):
    relative = [abs(b - f) / abs(f) for f, b in zip(fp32, bf16)]
    worst = max(range(len(relative)), key=relative.__getitem__)
    means = lambda curve: [sum(curve[i:i + window]) / window for i in range(0, len(curve) - window + 1, window)]
    windowed = [abs(b - f) / abs(f) for f, b in zip(means(fp32), means(bf16))]
    return {"comparison": name, "steps": len(relative), "max_relative": round(relative[worst], 5), "max_step": worst,
            "losses_at_max": [fp32[worst], bf16[worst]], "mean_relative": round(sum(relative) / len(relative), 5),
            "steps_within_1pct": sum(r <= 0.01 for r in relative),
            "max_relative_10step_mean": round(max(windowed), 5), "final": [fp32[-1], bf16[-1]]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", help="a UTF-8 text file (see bench_train.py --data); default: the fixed random batch")
    ap.add_argument("--data-seed", type=int, default=1337)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--lr-warmup", type=int, default=0, help="nanoGPT's linear learning-rate warm-up (bench_train.py --lr-warmup)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--isa", choices=["avx2"], help="hold both engines to AVX2 (as compare.py --isa avx2)")
    ap.add_argument("--engines", nargs="+", choices=["charter", "torch"], default=["charter", "torch"])
    ap.add_argument("--python", default=sys.executable, help="the Python with torch for bench_train.py")
    ap.add_argument("--keep", help="a folder to keep the loss files in")
    ap.add_argument("--files", nargs=2, metavar=("REFERENCE", "OTHER"),
                    help="compare two loss files already written (e.g. fp32 on two kernel paths) and run nothing")
    args = ap.parse_args()
    if args.files:
        curves = [[float(line) for line in open(path) if line.strip()] for path in args.files]
        print(json.dumps(compare(f"{args.files[1]} vs {args.files[0]}", *curves)))
        return
    env = dict(os.environ, **(AVX2 if args.isa else {}))
    folder = args.keep or tempfile.mkdtemp(prefix="loss-curves-")
    os.makedirs(folder, exist_ok=True)
    for engine in args.engines:
        fp32, summary32 = train(engine, False, args, os.path.join(folder, f"{engine}-fp32.txt"), env)
        bf16, summary16 = train(engine, True, args, os.path.join(folder, f"{engine}-bf16.txt"), env)
        result = compare(f"{engine} bf16 vs fp32", fp32, bf16)
        result["data"] = summary32.get("data", "fixed random batch")
        result["kernel_path"] = [summary32.get("kernel_path", os.environ.get("ATEN_CPU_CAPABILITY", "default")),
                                 summary16.get("kernel_path", summary16.get("matmul_precision"))]
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
