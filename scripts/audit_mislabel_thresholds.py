#!/usr/bin/env python3
"""Flip detection of `charter experiment audit` at stricter mislabel thresholds, from a finished run's files.

A pair is a suspected mislabel at confidence c when the ensemble's mean P(chosen > rejected) (with a reference model,
the mean of that and the reference's relevance vote: the evidence's `combined_chosen_preference`) is at most 1 - c, so
the pairs flagged at a stricter c are a subset of those the run flagged and nothing has to be retrained. For each
threshold this prints precision and recall on the planted flips (`data/noisy.truth.jsonl`), mean [95% t-interval over
the run's seeds], as the experiment's own table computes them at the run's threshold.

  python3 scripts/audit_mislabel_thresholds.py runs/dq15 runs/dq15-avx2 --thresholds 0.8 0.85 0.9 0.95

`--by-kind` also splits the flips and the flagged clean pairs by what the pair compares, the good response's kind
against the bad one's (as the toy world writes them: harmful compliance, evasive refusal, helpful refusal,
over-refusal, or an answer), summed over the run's seeds: which planted flips the ensemble misses, and which correct
labels it wrongly flags.
"""

import argparse
import glob
import json
import math
import os
import statistics

# Two-sided 97.5% Student t quantiles by degrees of freedom (seeds - 1).
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
        11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086,
        24: 2.064, 29: 2.045}


def interval(values):
    mean = statistics.mean(values)
    if len(values) < 2:
        return mean, mean, mean
    t = T975.get(len(values) - 1) or T975[max(k for k in T975 if k <= len(values) - 1)]
    half = t * statistics.stdev(values) / math.sqrt(len(values))
    return mean, mean - half, mean + half


# The toy world's fixed responses (Sources/ToyWorld/ToyWorld.swift: compliance, evasiveRefusals, helpfulRefusal,
# overRefusal); anything else is an answer.
EVASIVE = {"I can't help with that.", "Sorry, I won't answer that.", "I cannot do that."}


def read_jsonl(seed_folder, *path):
    with open(os.path.join(seed_folder, *path)) as file:
        return [json.loads(line) for line in file if line.strip()]


def response_kind(text):
    text = text.strip()
    if text.startswith("Sure, here is how to "):
        return "compliance"
    if text in EVASIVE:
        return "evasive refusal"
    if text.startswith("I can't help with that, because it could hurt someone."):
        return "over-refusal"
    if text.startswith("I can't help you ") and ", because it could hurt someone." in text:
        return "helpful refusal"
    return "answer"


def flagged_lines(seed_folder, confidence):
    flagged = set()
    with open(os.path.join(seed_folder, "audit", "findings.jsonl")) as file:
        for line in file:
            pair = json.loads(line)
            for finding in pair["findings"]:
                # With a reference model (`--reference-model`) the flag is on the mean of the ensemble and the vote.
                evidence = finding["evidence"] if finding["kind"] == "suspected_mislabel" else None
                if evidence is not None and \
                        evidence.get("combined_chosen_preference", evidence["mean_chosen_preference"]) <= 1 - confidence + 1e-12:
                    flagged.add(pair["line"])
    return flagged


def kind_counts(seed_folder, confidence, counts):
    """Adds the seed's flips (planted, found) and clean pairs (count, flagged) per (good, bad) kind to `counts`."""
    truth = [row["truth"] for row in read_jsonl(seed_folder, "data", "noisy.truth.jsonl")]
    pairs = read_jsonl(seed_folder, "data", "noisy.jsonl")
    if len(truth) != len(pairs):
        raise SystemExit(f"{seed_folder}/data: noisy.jsonl has {len(pairs)} pairs but noisy.truth.jsonl {len(truth)} lines")
    flagged = flagged_lines(seed_folder, confidence)
    for number, (kind, pair) in enumerate(zip(truth, pairs), start=1):
        if kind not in ("flipped", "clean"):
            continue
        good, bad = (pair["rejected"], pair["chosen"]) if kind == "flipped" else (pair["chosen"], pair["rejected"])
        row = counts.setdefault((response_kind(good), response_kind(bad)), {"flips": 0, "found": 0, "clean": 0, "wrongly_flagged": 0})
        if kind == "flipped":
            row["flips"] += 1
            row["found"] += number in flagged
        else:
            row["clean"] += 1
            row["wrongly_flagged"] += number in flagged


def seed_scores(seed_folder, confidence):
    truth = [row["truth"] for row in read_jsonl(seed_folder, "data", "noisy.truth.jsonl")]
    flagged = flagged_lines(seed_folder, confidence)
    planted = {number for number, kind in enumerate(truth, start=1) if kind == "flipped"}
    hits = len(flagged & planted)
    return 100 * hits / len(flagged) if flagged else 0.0, 100 * hits / len(planted) if planted else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="run folders (runs/NAME) of charter experiment audit")
    ap.add_argument("--thresholds", nargs="+", type=float, default=[0.8, 0.85, 0.9, 0.95])
    ap.add_argument("--by-kind", action="store_true", help="also split flips and wrong flags by the pair's response kinds")
    args = ap.parse_args()
    for run in args.runs:
        folders = sorted(glob.glob(os.path.join(run, "seed-*")), key=lambda p: int(p.rsplit("-", 1)[1]))
        # Only finished seeds (a run stopped part-way leaves a folder without seed-result.json), named when skipped.
        seeds = [f for f in folders if os.path.exists(os.path.join(f, "seed-result.json"))]
        for folder in sorted(set(folders) - set(seeds)):
            print(json.dumps({"run": run, "skipped": os.path.basename(folder), "why": "no seed-result.json (unfinished)"}))
        if not seeds:
            raise SystemExit(f"{run}: no finished seed-* folders (none has seed-result.json)")
        for confidence in args.thresholds:
            scores = [seed_scores(seed, confidence) for seed in seeds]
            precision = interval([p for p, _ in scores])
            recall = interval([r for _, r in scores])
            print(json.dumps({"run": run, "seeds": len(seeds), "mislabel_confidence": confidence,
                              "precision": [round(x, 1) for x in precision], "recall": [round(x, 1) for x in recall]}))
            if args.by_kind:
                counts = {}
                for seed in seeds:
                    kind_counts(seed, confidence, counts)
                for (good, bad), row in sorted(counts.items(), key=lambda item: -item[1]["flips"]):
                    print(json.dumps({"run": run, "mislabel_confidence": confidence, "good": good, "bad": bad, **row}))


if __name__ == "__main__":
    main()
