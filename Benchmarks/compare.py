#!/usr/bin/env python3
"""Runs Charter's benchmarks and their PyTorch/transformers references in the same session, alternating the two so
that machine noise hits both alike, and prints a Markdown table of medians and ratios (Charter ÷ reference).

    swift build -c release --product charter
    python3 Benchmarks/compare.py --rounds 3                 # all benchmarks
    python3 Benchmarks/compare.py --only gemm train --rounds 3
    python3 Benchmarks/compare.py --isa avx2 --rounds 5        # both sides held to AVX2 on an AVX-512 host
    python3 Benchmarks/compare.py --only gemm-bf16 train-bf16 train-bf16-autocast --rounds 3   # bf16 mode

Each row names the kernel path each side ran (Charter's instruction-set path; PyTorch's ATen CPU capability) and the
CPU model. PyTorch's float32 matmul is MKL's, which picks its own code path: on AMD CPUs it runs its AVX2 "zen"
kernel (mkl_blas_def_sgemm_kernel_0_zen, ymm registers only, seen in `perf record`) whatever the setting.

Needs torch and transformers (pip). The generation benchmark writes its ~32M-parameter Llama once to
/tmp/charter-llama30m (Benchmarks/transformers/bench_generate.py --save-model).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHARTER = os.path.join(ROOT, ".build", "release", "charter")
MODEL = "/tmp/charter-llama30m"


# --isa: the environment that holds each side to one instruction set (PyTorch: ATen, MKL and oneDNN each have one).
ISA_ENVIRONMENT = {
    "avx2": {"CHARTER_KERNEL_PATH": "avx2", "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
             "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "avx512": {"CHARTER_KERNEL_PATH": "avx512", "ATEN_CPU_CAPABILITY": "avx512", "MKL_ENABLE_INSTRUCTIONS": "AVX512",
               "ONEDNN_MAX_CPU_ISA": "AVX512_CORE"},
}


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
    # bf16 mixed precision: Charter's --bf16 against PyTorch fp32 (the target) and PyTorch's own bf16.
    "gemm-bf16": (
        [CHARTER, "bench", "gemm", "--bf16", "--repeats", "5", "--threads", "2"],
        [sys.executable, "Benchmarks/pytorch/bench_gemm.py", "--repeats", "5", "--threads", "2"],
        lambda r: f"GEMM {r['m']}×{r['n']}×{r['k']}, Charter bf16 ÷ PyTorch fp32 (GFLOP/s)", "gflops"),
    "gemm-bf16-torch-bf16": (
        [CHARTER, "bench", "gemm", "--bf16", "--repeats", "5", "--threads", "2"],
        [sys.executable, "Benchmarks/pytorch/bench_gemm.py", "--bf16", "--repeats", "5", "--threads", "2"],
        lambda r: f"GEMM {r['m']}×{r['n']}×{r['k']}, bf16 both sides (GFLOP/s)", "gflops"),
    "train-bf16": (
        [CHARTER, "bench", "train", "--bf16", "--threads", "2"],
        [sys.executable, "Benchmarks/pytorch/bench_train.py", "--threads", "2"],
        lambda r: "training step, nanoGPT shakespeare-char, Charter --bf16 ÷ PyTorch fp32 (tokens/s)", "tokens_per_s"),
    "train-bf16-autocast": (
        [CHARTER, "bench", "train", "--bf16", "--threads", "2"],
        [sys.executable, "Benchmarks/pytorch/bench_train.py", "--bf16", "--threads", "2"],
        lambda r: "training step, nanoGPT shakespeare-char, Charter --bf16 ÷ PyTorch autocast bf16 (tokens/s)",
        "tokens_per_s"),
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


def cpu_model():
    """The CPU's model name and its widest vector extension (a VM may report only "AMD EPYC")."""
    try:
        with open("/proc/cpuinfo") as file:
            fields = dict(line.split(":", 1) for line in file.read().split("\n\n")[0].splitlines() if ":" in line)
        fields = {key.strip(): value.strip() for key, value in fields.items()}
        flags = fields.get("flags", "").split()
        vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
        return f"{fields.get('model name', '?')} (family {fields.get('cpu family', '?')} model " \
               f"{fields.get('model', '?')}, {vector})"
    except OSError:
        name = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True).stdout
        return name.strip() or platform.processor() or platform.machine()


def kernel_paths(bf16=False):
    """(Charter's GEMM path, PyTorch's ATen CPU capability) under the current environment; with bf16, where
    Charter's bf16 products run ("avx512bf16", or "<path>+convert")."""
    charter = run([CHARTER, "bench", "gemm", "--shapes", "1x1x1", "--repeats", "1"] + (["--bf16"] if bf16 else []))[0]["path"]
    torch = subprocess.run([sys.executable, "-c", "import torch; print(torch.backends.cpu.get_cpu_capability())"],
                           capture_output=True, text=True).stdout.strip()
    return charter, f"ATen {torch or '?'}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=list(BENCHMARKS))
    parser.add_argument("--isa", choices=sorted(ISA_ENVIRONMENT),
                        help="hold Charter and PyTorch to this instruction set (default: each picks its best)")
    args = parser.parse_args()
    if args.isa:
        os.environ.update(ISA_ENVIRONMENT[args.isa])
    charter_path, reference_path = kernel_paths()
    charter_bf16_path = kernel_paths(bf16=True)[0] if any("bf16" in name for name in args.only) else None
    cpu = cpu_model()
    if any(name in ("prefill", "decode") for name in args.only) and not os.path.exists(MODEL):
        run([sys.executable, "Benchmarks/transformers/bench_generate.py", "--save-model", MODEL])
    rows = []
    cache = {}
    loads = []  # the machine is often shared: the load says how much to trust a row
    for name in args.only:
        charter_command, reference_command, label, field = BENCHMARKS[name]
        results = {"charter": [], "reference": []}
        for _ in range(args.rounds):
            loads.append(os.getloadavg()[0])
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
            path = charter_bf16_path if "--bf16" in charter_command else charter_path
            reference = reference_path + (" bf16" if "--bf16" in reference_command else "")
            rows.append((label(record), c, r, c / r if r else float("nan"), path, reference))
    print("1-minute load average before each round:", " ".join(f"{load:.1f}" for load in loads), file=sys.stderr)
    print("| benchmark | Charter | reference | Charter ÷ reference | kernel path (Charter / reference) | CPU |")
    print("|---|---|---|---|---|---|")
    for label, c, r, ratio, path, reference in rows:
        print(f"| {label} | {c:,.1f} | {r:,.1f} | {ratio:.2f}× | {path} / {reference} | {cpu} |")


if __name__ == "__main__":
    main()
