#!/usr/bin/env python3
"""Writes a synthetic HH-style preference file for timing `charter audit` at HH-RLHF's full size.

Each line is an implicit-prompt pair {"chosen": "\n\nHuman: …\n\nAssistant: …", "rejected": …} of 1–4 turns of
random words (about 650–700 characters per transcript, like the harmless-base split), with known planted issues so a
run can be checked: every 100th pair repeats an earlier one exactly, every 100th (offset 50) is a near duplicate (one
word changed), every 200th (offset 25) is an earlier pair with chosen and rejected swapped, every 500th response has
an e-mail address. Same seed, same bytes.

Usage: python3 scripts/make_synthetic_preferences.py --pairs 160000 --seed 1 --output /tmp/synthetic-160k.jsonl
"""
import argparse
import json
import random

WORDS = ("the a to and of you I it is that for in can be this with your not what do have are on if or but my "
         "how would like some about there people could them they should help make good want know think just more "
         "time because really also which when need very other one get find way any than then things may sure will "
         "water bread garden river music letter travel weather computer question answer kitchen window doctor "
         "school money friend family morning evening story history science language problem reason example").split()


def sentence(rng, low=6, high=18):
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + rng.choice([".", ".", ".", "?", "!"])


def text(rng, sentences):
    return " ".join(sentence(rng) for _ in range(sentences))


def pair(rng, index):
    turns = rng.choice([1, 1, 2, 2, 3, 4])
    prompt = ""
    for _ in range(turns - 1):
        prompt += f"\n\nHuman: {text(rng, rng.randint(1, 2))}\n\nAssistant: {text(rng, rng.randint(1, 3))}"
    prompt += f"\n\nHuman: {text(rng, rng.randint(1, 2))}\n\nAssistant:"
    chosen, rejected = text(rng, rng.randint(2, 6)), text(rng, rng.randint(2, 6))
    if index % 500 == 7:
        chosen += f" Write to someone{index}@example.org for details."
    return prompt, chosen, rejected


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=160000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", required=True)
    arguments = parser.parse_args()
    rng = random.Random(arguments.seed)
    made = []
    with open(arguments.output, "w", encoding="utf-8") as output:
        for index in range(arguments.pairs):
            if index >= 200 and index % 100 == 0:
                prompt, chosen, rejected = made[rng.randrange(len(made))]
            elif index >= 200 and index % 100 == 50:
                prompt, chosen, rejected = made[rng.randrange(len(made))]
                words = chosen.split(" ")
                words[len(words) // 2] = "changed"
                chosen = " ".join(words)
            elif index >= 200 and index % 200 == 25:
                prompt, rejected, chosen = made[rng.randrange(len(made))]
            else:
                prompt, chosen, rejected = pair(rng, index)
            made.append((prompt, chosen, rejected))
            output.write(json.dumps({"chosen": prompt + " " + chosen, "rejected": prompt + " " + rejected}) + "\n")


if __name__ == "__main__":
    main()
