#!/usr/bin/env python3
"""Writes a seeded synthetic Polis export (comments.csv, participants-votes.csv) the size of the Collective
Constitutional AI conversation (Anthropic & CIP 2023: about 1,000 participants, 1,127 statements, 38,252 votes), for
timing `charter constitution collect analyze --polis`.

Planted: three opinion groups; a tenth of the statements are agreed with by everyone, the rest have a random stance
per group. Each participant votes on a random subset (38 votes on average, as in CCAI), flipping 15% of their votes.
Usage: python3 scripts/make_polis_synthetic.py OUT_DIR [--participants 1000] [--statements 1127] [--votes 38252] [--seed 0]
"""
import argparse
import csv
import os
import random


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--statements", type=int, default=1127)
    parser.add_argument("--votes", type=int, default=38252)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    groups = [rng.randrange(3) for _ in range(args.participants)]
    stance = []
    for s in range(args.statements):
        stance.append([1, 1, 1] if s % 10 == 0 else [rng.choice([1, -1, 0]) for _ in range(3)])
    per_participant = args.votes / args.participants
    matrix = []
    for p in range(args.participants):
        count = min(args.statements, max(1, int(rng.expovariate(1 / per_participant))))
        row = [""] * args.statements
        for s in rng.sample(range(args.statements), count):
            vote = stance[s][groups[p]]
            if rng.random() < 0.15:
                vote = rng.choice([v for v in (1, -1, 0) if v != vote])
            row[s] = str(vote)
        matrix.append(row)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "comments.csv"), "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees", "moderated", "comment-body"])
        for s in range(args.statements):
            column = [row[s] for row in matrix]
            writer.writerow([1700000000000 + s, "", s, rng.randrange(args.participants), column.count("1"), column.count("-1"), 1,
                             f"Synthetic statement {s}, planted stance {stance[s]}."])
    with open(os.path.join(args.out, "participants-votes.csv"), "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree"] + [str(s) for s in range(args.statements)])
        for p, row in enumerate(matrix):
            cast = [v for v in row if v]
            writer.writerow([p, "", 0, len(cast), cast.count("1"), cast.count("-1")] + row)
    print(f"wrote {args.out}: {args.participants} participants, {args.statements} statements, {sum(len([v for v in r if v]) for r in matrix)} votes")


if __name__ == "__main__":
    main()
