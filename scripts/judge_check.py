"""A ground-truth check of `charter audit --judge`: HH harmless-base pairs as they are, and the same prompts with
both responses taken from two other conversations (off topic by construction, so both bad). A judge that reads
the conversation flags the planted pairs both_bad far more often than the real ones.

    python3 scripts/judge_check.py write --pairs 40 --output /tmp/judge-check.jsonl
    .build/release/charter audit /tmp/judge-check.jsonl --judge MODEL_DIR --output /tmp/judge-audit
    python3 scripts/judge_check.py score --data /tmp/judge-check.jsonl --audit /tmp/judge-audit
"""
import argparse
import gzip
import json
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
HH = os.path.join(HERE, "../../shared/data/hh-rlhf/harmless-base-test.jsonl.gz")
SPLIT = "\n\nAssistant:"


def split(transcript):
    """(prompt up to and including the last 'Assistant:', the last response)."""
    cut = transcript.rindex(SPLIT) + len(SPLIT)
    return transcript[:cut], transcript[cut:]


def wilson(successes, total):
    if total == 0:
        return (float("nan"),) * 3
    z, p = 1.96, successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return p, max(0.0, centre - half), min(1.0, centre + half)


def write(args):
    rows = [json.loads(line) for line in gzip.open(HH, "rt")]
    random.Random(args.seed).shuffle(rows)
    pairs, pool = rows[: args.pairs], rows[args.pairs:]
    with open(args.output, "w") as out:
        for index, row in enumerate(pairs):
            prompt, chosen = split(row["chosen"])
            _, rejected = split(row["rejected"])
            out.write(json.dumps({"prompt": prompt, "chosen": chosen, "rejected": rejected, "planted": "none"}) + "\n")
        for index, row in enumerate(pairs):
            prompt, _ = split(row["chosen"])
            _, first = split(pool[2 * index]["chosen"])
            _, second = split(pool[2 * index + 1]["chosen"])
            out.write(json.dumps({"prompt": prompt, "chosen": first, "rejected": second, "planted": "both_off_topic"}) + "\n")
    print(f"wrote {2 * args.pairs} pairs to {args.output}")


def score(args):
    planted = [json.loads(line)["planted"] for line in open(args.data)]
    flagged = set()
    for line in open(os.path.join(args.audit, "findings.jsonl")):
        record = json.loads(line)
        if any(f["kind"] == "both_bad" and f["evidence"].get("source") == "judge" for f in record["findings"]):
            flagged.add(record["line"])
    audit = json.load(open(os.path.join(args.audit, "audit.json")))
    judge = audit["judge"]
    print(f"judge {judge['model']}: {judge['judged_pairs']} pairs, {judge['seconds']:.0f} s")
    for kind in ["both_off_topic", "none"]:
        lines = [i + 1 for i, p in enumerate(planted) if p == kind]
        p, low, high = wilson(sum(1 for line in lines if line in flagged), len(lines))
        print(f"{kind:15} flagged both_bad {100 * p:.1f}% [{100 * low:.1f}, {100 * high:.1f}] of {len(lines)}")


parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
commands = parser.add_subparsers(dest="command", required=True)
w = commands.add_parser("write")
w.add_argument("--pairs", type=int, default=40)
w.add_argument("--seed", type=int, default=1)
w.add_argument("--output", required=True)
s = commands.add_parser("score")
s.add_argument("--data", required=True)
s.add_argument("--audit", required=True)
arguments = parser.parse_args()
write(arguments) if arguments.command == "write" else score(arguments)
