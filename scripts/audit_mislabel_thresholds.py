#!/usr/bin/env python3
"""Flip detection of `charter experiment audit` at stricter mislabel thresholds, from a finished run's files.

A pair is a suspected mislabel at confidence c when the ensemble's mean P(chosen > rejected) is at most 1 - c, so
the pairs flagged at a stricter c are a subset of those the run flagged and nothing has to be retrained. For each
threshold this prints precision and recall on the planted flips (`data/noisy.truth.jsonl`), mean [95% t-interval over
the run's seeds], as the experiment's own table computes them at the run's threshold.

  python3 scripts/audit_mislabel_thresholds.py runs/dq15 runs/dq15-avx2 --thresholds 0.8 0.85 0.9 0.95
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


def seed_scores(seed_folder, confidence):
    with open(os.path.join(seed_folder, "data", "noisy.truth.jsonl")) as file:
        truth = [json.loads(line)["truth"] for line in file if line.strip()]
    flagged = set()
    with open(os.path.join(seed_folder, "audit", "findings.jsonl")) as file:
        for line in file:
            pair = json.loads(line)
            for finding in pair["findings"]:
                if finding["kind"] == "suspected_mislabel" and \
                        finding["evidence"]["mean_chosen_preference"] <= 1 - confidence + 1e-12:
                    flagged.add(pair["line"])
    planted = {number for number, kind in enumerate(truth, start=1) if kind == "flipped"}
    hits = len(flagged & planted)
    return 100 * hits / len(flagged) if flagged else 0.0, 100 * hits / len(planted) if planted else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="run folders (runs/NAME) of charter experiment audit")
    ap.add_argument("--thresholds", nargs="+", type=float, default=[0.8, 0.85, 0.9, 0.95])
    args = ap.parse_args()
    for run in args.runs:
        seeds = sorted(glob.glob(os.path.join(run, "seed-*")), key=lambda p: int(p.rsplit("-", 1)[1]))
        if not seeds:
            raise SystemExit(f"{run}: no seed-* folders")
        for confidence in args.thresholds:
            scores = [seed_scores(seed, confidence) for seed in seeds]
            precision = interval([p for p, _ in scores])
            recall = interval([r for _, r in scores])
            print(json.dumps({"run": run, "seeds": len(seeds), "mislabel_confidence": confidence,
                              "precision": [round(x, 1) for x in precision], "recall": [round(x, 1) for x in recall]}))


if __name__ == "__main__":
    main()
