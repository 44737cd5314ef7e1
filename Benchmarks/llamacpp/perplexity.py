"""Perplexity of held-out text under each weight format, through `charter logprobs` (the accuracy cost of the
quantized kernels, activations included), relative to float32.

    python3 Benchmarks/llamacpp/perplexity.py --charter .build/release/charter \
        --data ../shared/data/hh-rlhf/harmless-base-test.jsonl.gz --texts 40 \
        --run f32=/tmp/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf:f32 \
        --run Q4_1=/tmp/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf:stored ...

Texts: the "chosen" transcripts of the first --texts lines (HH-RLHF harmless-base test split), cut to --max-chars.
Perplexity = exp(−mean log p(token | tokens before)) over every scored token of every text.
"""
import argparse
import gzip
import json
import math
import subprocess
import tempfile


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--charter", default=".build/release/charter")
    parser.add_argument("--data", required=True)
    parser.add_argument("--texts", type=int, default=40)
    parser.add_argument("--max-chars", type=int, default=1500)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--run", action="append", default=[], help="NAME=FILE:DTYPE (repeatable; the first is the baseline)")
    args = parser.parse_args()
    with gzip.open(args.data, "rt") as file:
        texts = [json.loads(line)["chosen"][:args.max_chars] for _, line in zip(range(args.texts), file)]
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as file:
        for text in texts:
            file.write(json.dumps({"text": text}) + "\n")
        inputs = file.name
    baseline = None
    print("| weights | tokens | perplexity | Δ vs first |")
    print("|---|---|---|---|")
    for entry in args.run:
        name, rest = entry.split("=", 1)
        path, dtype = rest.rsplit(":", 1)
        output = subprocess.run([args.charter, "logprobs", "--model", path, "--dtype", dtype, "--input", inputs,
                                 "--threads", str(args.threads), "--batch-size", "4"], check=True, capture_output=True, text=True).stdout
        logprobs = [value for line in output.splitlines() for value in json.loads(line)["token_logprobs"]]
        perplexity = math.exp(-sum(logprobs) / len(logprobs))
        baseline = baseline or perplexity
        print(f"| {name} (--dtype {dtype}) | {len(logprobs)} | {perplexity:.4f} | {100 * (perplexity / baseline - 1):+.2f}% |")


if __name__ == "__main__":
    main()
