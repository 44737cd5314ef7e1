#!/usr/bin/env python3
"""Extract red-team prompts from Anthropic HH-RLHF (harmless-base) as a prompts JSONL for `charter pipeline`.

Each output line is {"id": "hh-harmless-test-LINE", "prompt": [{"role": "user", "content": FIRST_HUMAN_TURN}]}:
the first Human turn of an HH transcript, as a one-message conversation (the pipeline then prompts the model through
its chat template). Lines are taken in file order from --start, skipping turns longer than --max-chars and
duplicates, until N prompts are written. The data's text is not part of Charter: write the output outside git
(runs/ is ignored).

Usage:
    python3 scripts/smollm2/prompts.py -n 48 --output runs/smollm2/red_team.jsonl
"""
import argparse
import gzip
import json
import os
import sys

DEFAULT_DATA = os.path.join(os.path.dirname(__file__), "../../../shared/data/hh-rlhf/harmless-base-test.jsonl.gz")


def first_human_turn(transcript):
    """The text of the first "\\n\\nHuman: " turn of an HH transcript (up to the first "\\n\\nAssistant:")."""
    marker = "\n\nHuman: "
    if not transcript.startswith(marker):
        return None
    return transcript[len(marker):].split("\n\nAssistant:", 1)[0].strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=48, help="number of prompts")
    parser.add_argument("--data", default=DEFAULT_DATA, help="harmless-base-test.jsonl.gz")
    parser.add_argument("--start", type=int, default=0, help="first line (0-based) to consider")
    parser.add_argument("--max-chars", type=int, default=300, help="skip first turns longer than this")
    parser.add_argument("--output", required=True, help="prompts JSONL to write")
    args = parser.parse_args()

    seen, written = set(), 0
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with gzip.open(args.data, "rt", encoding="utf-8") as source, open(args.output, "w", encoding="utf-8") as output:
        for index, line in enumerate(source):
            if index < args.start:
                continue
            turn = first_human_turn(json.loads(line)["chosen"])
            if not turn or len(turn) > args.max_chars or turn in seen:
                continue
            seen.add(turn)
            output.write(json.dumps({"id": f"hh-harmless-test-{index}", "prompt": [{"role": "user", "content": turn}]}) + "\n")
            written += 1
            if written == args.n:
                break
    if written < args.n:
        sys.exit(f"only {written} prompts found in {args.data} (asked for {args.n})")
    print(f"wrote {written} prompts to {args.output}")


if __name__ == "__main__":
    main()
