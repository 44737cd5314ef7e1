"""PyTorch reference for `charter bench gemm`: same shapes, same JSON lines, "impl": "torch".

GFLOP/s = 2·m·n·k / median time of --repeats products C = A @ B (A: m×k, B: k×n, float32, CPU), after
one warm-up per shape. With --bf16, A, B and C are torch.bfloat16 (PyTorch's own bf16 matmul, oneDNN's kernels,
fp32 accumulation, bf16 output) — the reference for `charter bench gemm --bf16`. Run both in the same session on a shared machine and compare ratios, not absolutes.
"""
import argparse
import json
import re
import statistics
import sys
import time

import torch

DEFAULT_SHAPES = "256x256x256,512x512x512,1024x1024x1024,2048x2048x2048,2048x768x768,2048x3072x768,2048x768x3072"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per shape; the median is reported")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--shapes", default=DEFAULT_SHAPES, help="comma-separated m x n x k, written with x")
    parser.add_argument("--bf16", action="store_true", help="bfloat16 operands and result")
    args = parser.parse_args()
    dtype = torch.bfloat16 if args.bf16 else torch.float32

    torch.set_num_threads(args.threads)
    # The config dump is long; keep the BLAS it was built with and the MKL/oneDNN version lines.
    config = torch.__config__.show()
    blas = re.findall(r"BLAS_INFO=\w+", config)
    libraries = [line.strip(" -") for line in config.splitlines() if "MKL" in line and "Build settings" not in line]
    print("torch", torch.__version__, "|", " | ".join(blas + libraries) or "BLAS not reported", file=sys.stderr)

    for shape in args.shapes.split(","):
        m, n, k = (int(part) for part in shape.split("x"))
        a = (torch.rand(m, k) - 0.5).to(dtype)
        b = (torch.rand(k, n) - 0.5).to(dtype)
        c = torch.empty(m, n, dtype=dtype)
        torch.matmul(a, b, out=c)  # warm-up
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            torch.matmul(a, b, out=c)
            times.append(time.perf_counter() - start)
        seconds = statistics.median(times)
        print(json.dumps({"m": m, "n": n, "k": k, "gflops": round(2 * m * n * k / seconds / 1e9, 2),
                          "threads": torch.get_num_threads(), "impl": "torch",
                          "precision": "bf16" if args.bf16 else "fp32"}))


if __name__ == "__main__":
    main()
