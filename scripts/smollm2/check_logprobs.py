#!/usr/bin/env python3
"""Check that Charter loads a converted model as transformers does: same token ids, same log-probabilities.

Scores a few texts (plain and chat-formatted) with `charter logprobs` and with transformers (float32, eager CPU),
and writes the largest absolute difference of the per-token log-probabilities and whether the ids match.

Usage:
    python3 scripts/smollm2/check_logprobs.py --charter .build/release/charter \\
        --model models/SmolLM2-135M-Instruct --results scripts/smollm2/results/logprobs_check.json
"""
import argparse
import json
import os
import subprocess
import tempfile

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Constitutional AI trains a harmless assistant from a list of principles instead of human labels of harm.",
    "<|im_start|>user\nHow do I bake bread at home?<|im_end|>\n<|im_start|>assistant\nMix flour, water, salt and yeast, "
    "knead the dough, let it rise, shape it and bake it at 230 °C for about 35 minutes.<|im_end|>\n",
    "def add(a, b):\n    return a + b\n\nprint(add(2, 3))  # 5\n",
]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--charter", default=".build/release/charter", help="the charter executable")
    parser.add_argument("--model", default="models/SmolLM2-135M-Instruct", help="model folder")
    parser.add_argument("--threads", default=os.environ.get("CHARTER_THREADS", "1"), help="CHARTER_THREADS for charter")
    parser.add_argument("--results", required=True, help="results JSON to write")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as inputs:
        for text in TEXTS:
            inputs.write(json.dumps({"text": text}) + "\n")
    output = subprocess.run([args.charter, "logprobs", "--model", args.model, "--input", inputs.name],
                            check=True, capture_output=True, text=True,
                            env={**os.environ, "CHARTER_THREADS": str(args.threads)}).stdout
    os.unlink(inputs.name)
    charter = [json.loads(line) for line in output.splitlines() if line.startswith("{")]

    torch.set_num_threads(int(args.threads))
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32).eval()
    per_text = []
    for text, theirs in zip(TEXTS, charter):
        ids = tokenizer(text)["input_ids"]
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0].double()
        reference = torch.log_softmax(logits, dim=-1)[:-1].gather(1, torch.tensor(ids[1:]).unsqueeze(1)).squeeze(1).tolist()
        same_ids = ids == theirs["ids"]
        difference = max(abs(a - b) for a, b in zip(reference, theirs["token_logprobs"])) if same_ids else None
        per_text.append({"tokens": len(ids), "ids_match": same_ids, "max_abs_logprob_difference": difference,
                         "mean_logprob_transformers": sum(reference) / len(reference)})
    results = {"model": args.model, "texts": per_text,
               "all_ids_match": all(t["ids_match"] for t in per_text),
               "max_abs_logprob_difference": max((t["max_abs_logprob_difference"] or 0) for t in per_text)}
    os.makedirs(os.path.dirname(os.path.abspath(args.results)), exist_ok=True)
    with open(args.results, "w", encoding="utf-8") as out:
        json.dump(results, out, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
