#!/usr/bin/env python3
"""How often does a model's AI-feedback label (`charter label`) agree with the HUMAN label of HH-RLHF pairs?

1. Takes N pairs from Anthropic HH-RLHF harmless-base (test split): the prompt is the transcript the two responses
   share (up to the last "\\n\\nAssistant:"), the responses are the differing last Assistant turns; the human chose
   "chosen". Pairs are drawn with a seeded shuffle among lines >= --first-line (so they are disjoint from the
   pipeline's red-team prompts) whose prompt and responses fit --max-prompt-chars / --max-response-chars (to bound
   the cost on one CPU thread). Each pair's responses are shown as response_a/response_b in a seeded random order.
2. Runs `charter label` (both orders, the constitution's comparison principles, e.g. the Anthropic RLMadison ones).
3. Writes a JSON of results: agreement of the AI label with the human choice, a "longer answer wins" baseline and
   chance (50%), each with a 95% Wilson interval; a paired bootstrap interval of (AI - longer); the position-flip rate
   (the preferred response changes when the order is swapped); and single-order agreement (the (A)-first order only).

Usage:
    python3 scripts/smollm2/label_agreement.py --charter .build/release/charter \\
        --model models/SmolLM2-135M-Instruct --constitution runs/smollm2/anthropic.yaml \\
        -n 200 --work runs/smollm2/agreement --results scripts/smollm2/results/label_agreement.json
"""
import argparse
import gzip
import json
import math
import os
import random
import subprocess
import sys
import time

DEFAULT_DATA = os.path.join(os.path.dirname(__file__), "../../../shared/data/hh-rlhf/harmless-base-test.jsonl.gz")
ASSISTANT = "\n\nAssistant:"


def split_pair(chosen, rejected):
    """(prompt, chosen response, rejected response) when both transcripts share everything up to the last
    Assistant cue and differ after it; None otherwise."""
    cut_c, cut_r = chosen.rfind(ASSISTANT), rejected.rfind(ASSISTANT)
    if cut_c < 0 or cut_c != cut_r or chosen[:cut_c] != rejected[:cut_r]:
        return None
    prompt = chosen[:cut_c + len(ASSISTANT)]
    a, b = chosen[cut_c + len(ASSISTANT):], rejected[cut_r + len(ASSISTANT):]
    if a.strip() == b.strip() or not a.strip() or not b.strip():
        return None
    return prompt, a, b


def wilson(successes, n, z=1.959964):
    """95% Wilson score interval of a proportion."""
    if n == 0:
        return [0.0, 1.0]
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [centre - half, centre + half]


def proportion(scores):
    """Mean of 0/½/1 scores with a Wilson interval (ties count ½)."""
    n = len(scores)
    total = sum(scores)
    return {"value": total / n if n else None, "n": n, "ci95": wilson(total, n)}


def paired_bootstrap(x, y, rounds=10000, seed=0):
    """95% percentile interval of mean(x - y) over pairs resampled with replacement."""
    rng = random.Random(seed)
    n = len(x)
    means = sorted(sum(x[i] - y[i] for i in (rng.randrange(n) for _ in range(n))) / n for _ in range(rounds))
    return [means[int(0.025 * rounds)], means[int(0.975 * rounds) - 1]]


def build_pairs(args):
    """Writes the pairs file and returns {id: which response the human chose ("a" or "b")} plus the records."""
    eligible = []
    with gzip.open(args.data, "rt", encoding="utf-8") as source:
        for index, line in enumerate(source):
            if index < args.first_line:
                continue
            row = json.loads(line)
            split = split_pair(row["chosen"], row["rejected"])
            if split is None:
                continue
            prompt, chosen, rejected = split
            if len(prompt) > args.max_prompt_chars or max(len(chosen), len(rejected)) > args.max_response_chars:
                continue
            eligible.append((index, prompt, chosen, rejected))
    rng = random.Random(args.seed)
    rng.shuffle(eligible)
    if len(eligible) < args.n:
        sys.exit(f"only {len(eligible)} eligible pairs (asked for {args.n}); raise --max-prompt-chars/--max-response-chars")
    chosen_side, pairs = {}, []
    for index, prompt, chosen, rejected in sorted(eligible[:args.n]):
        swap = rng.random() < 0.5
        pair_id = f"hh-harmless-test-{index}"
        a, b = (rejected, chosen) if swap else (chosen, rejected)
        chosen_side[pair_id] = "b" if swap else "a"
        pairs.append({"id": pair_id, "prompt": prompt, "response_a": a, "response_b": b})
    with open(os.path.join(args.work, "pairs.jsonl"), "w", encoding="utf-8") as output:
        for pair in pairs:
            output.write(json.dumps(pair) + "\n")
    return chosen_side, pairs, len(eligible)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--charter", default=".build/release/charter", help="the charter executable")
    parser.add_argument("--model", default="models/SmolLM2-135M-Instruct", help="feedback model folder")
    parser.add_argument("--constitution", required=True, help="constitution YAML (charter constitution import --format anthropic)")
    parser.add_argument("--data", default=DEFAULT_DATA, help="harmless-base-test.jsonl.gz")
    parser.add_argument("-n", type=int, default=200, help="pairs to label")
    parser.add_argument("--principles", type=int, default=1, help="comparison principles per pair (ensembled)")
    parser.add_argument("--few-shot", type=int, default=0, help="few-shot comparison examples shown")
    parser.add_argument("--seed", type=int, default=0, help="pair sampling, order and principle seed")
    parser.add_argument("--first-line", type=int, default=200, help="first HH line (0-based) eligible")
    parser.add_argument("--max-prompt-chars", type=int, default=600, help="skip pairs whose shared transcript is longer")
    parser.add_argument("--max-response-chars", type=int, default=400, help="skip pairs with a longer response")
    parser.add_argument("--threads", default=os.environ.get("CHARTER_THREADS", "1"), help="CHARTER_THREADS for charter")
    parser.add_argument("--work", required=True, help="folder for pairs.jsonl and labels.jsonl (not committed: HH text)")
    parser.add_argument("--results", required=True, help="results JSON to write (numbers only, no HH text)")
    args = parser.parse_args()

    os.makedirs(args.work, exist_ok=True)
    chosen_side, pairs, eligible = build_pairs(args)
    labels_path = os.path.join(args.work, "labels.jsonl")
    command = [args.charter, "label", "--model", args.model, "--pairs", os.path.join(args.work, "pairs.jsonl"),
               "--constitution", args.constitution, "--principles", str(args.principles), "--few-shot", str(args.few_shot),
               "--seed", str(args.seed), "--output", labels_path]
    print(" ".join(command), flush=True)
    started = time.time()
    subprocess.run(command, check=True, env={**os.environ, "CHARTER_THREADS": str(args.threads)})
    seconds = time.time() - started  # a re-run that resumes a finished file measures ~0 s: delete labels.jsonl to time it

    by_id = {pair["id"]: pair for pair in pairs}
    ai, ai_single, longer, soft = [], [], [], []
    flips = judgements = picks_a = single_orders = 0
    with open(labels_path, encoding="utf-8") as source:
        records = [json.loads(line) for line in source]
    for record in records:
        pair, side = by_id[record["id"]], chosen_side[record["id"]]
        # first_probability: the ensemble's probability that response_a (the pair's first response) is better.
        p_a = record["first_probability"]
        human_p = p_a if side == "a" else 1 - p_a
        ai.append(1.0 if human_p > 0.5 else 0.5 if human_p == 0.5 else 0.0)
        soft.append(human_p)
        for judgement in record["judgements"]:
            judgements += 1
            flips += 1 if judgement.get("flipped") else 0
            for order in judgement["orders"]:
                single_orders += 1
                picks_a += 1 if order["p_a"] > 0.5 else 0
            first = next(order for order in judgement["orders"] if order["order"] == "first-as-A")
            human_single = first["p_a"] if side == "a" else 1 - first["p_a"]
            ai_single.append(1.0 if human_single > 0.5 else 0.5 if human_single == 0.5 else 0.0)
        len_a, len_b = len(pair["response_a"].strip()), len(pair["response_b"].strip())
        len_chosen, len_rejected = (len_a, len_b) if side == "a" else (len_b, len_a)
        longer.append(1.0 if len_chosen > len_rejected else 0.5 if len_chosen == len_rejected else 0.0)

    results = {
        "model": args.model, "constitution": args.constitution, "pairs": len(records), "eligible_pairs": eligible,
        "settings": {k: getattr(args, k) for k in ["principles", "few_shot", "seed", "first_line", "max_prompt_chars",
                                                   "max_response_chars", "threads"]},
        "label_seconds": round(seconds, 1),
        "agreement_ai_both_orders": proportion(ai),
        "agreement_ai_first_as_A_order_only": proportion(ai_single),
        "agreement_longer_answer_wins": proportion(longer),
        "chance": 0.5,
        "ai_minus_longer_bootstrap_ci95": paired_bootstrap(ai, longer, seed=args.seed),
        "mean_probability_of_human_choice": sum(soft) / len(soft),
        "position_flip_rate": proportion([1.0] * flips + [0.0] * (judgements - flips)),
        "fraction_of_single_order_judgements_picking_A": proportion([1.0] * picks_a + [0.0] * (single_orders - picks_a)),
        "command": " ".join(command),
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.results)), exist_ok=True)
    with open(args.results, "w", encoding="utf-8") as output:
        json.dump(results, output, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
