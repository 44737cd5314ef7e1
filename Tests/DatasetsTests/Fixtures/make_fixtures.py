#!/usr/bin/env python3
"""Writes the Datasets test fixtures (small hand-written examples of every TRL dataset type, standard and
conversational, plus malformed lines) and golden values computed by TRL itself (`trl.data_utils`), and a
summary of the real HH-RLHF file computed independently in Python. Also verifies the file Charter wrote.

Usage (from this directory):  python3 make_fixtures.py            # regenerate + verify
                              python3 make_fixtures.py --verify   # verify the Charter-written file only
"""
import gzip
import json
import os
import re
import sys

from trl.data_utils import extract_prompt, is_conversational

HERE = os.path.dirname(os.path.abspath(__file__))
HH = os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "hh-rlhf", "harmless-base-test.jsonl.gz")


def u(text):
    return {"role": "user", "content": text}


def a(text):
    return {"role": "assistant", "content": text}


def s(text):
    return {"role": "system", "content": text}


FIXTURES = {
    "language-modeling-standard.jsonl": [
        {"text": "The sky is blue."},
        {"text": "Gradient descent follows the negative gradient.", "source": "notes"},
        {"text": ""},
    ],
    "language-modeling-conversational.jsonl": [
        {"messages": [u("What colour is the sky?"), a("Blue, on a clear day.")]},
        {"messages": [s("Be brief."), u("2+2?"), a("4")], "id": 7},
    ],
    "prompt-only-standard.jsonl": [{"prompt": "The sky is"}, {"prompt": "Write a haiku about tensors"}],
    "prompt-only-conversational.jsonl": [{"prompt": [u("What colour is the sky?")]}],
    "prompt-completion-standard.jsonl": [
        {"prompt": "The sky is", "completion": " blue."},
        {"prompt": "Water boils at", "completion": " 100 \u00b0C at sea level.", "id": "pc-2"},
    ],
    "prompt-completion-conversational.jsonl": [
        {"prompt": [u("What colour is the sky?")], "completion": [a("It is blue.")]},
    ],
    "preference-standard.jsonl": [
        {"prompt": "The sky is", "chosen": " blue.", "rejected": " green."},
        {"prompt": "Is it safe to mix bleach and ammonia?", "chosen": " No: it releases toxic chloramine gas.",
         "rejected": " Sure, go ahead.", "chosen_probability": 0.92, "judge": "constitution-v1"},
        {"prompt": "Say hi", "chosen": " hi", "rejected": " hi"},
    ],
    "preference-conversational.jsonl": [
        {"prompt": [u("What colour is the sky?")], "chosen": [a("It is blue.")], "rejected": [a("It is green.")]},
        {"prompt": [s("You are terse."), u("Capital of France?")], "chosen": [a("Paris.")],
         "rejected": [a("France's capital is, as everyone knows, Paris.")], "chosen_probability": 0.5},
    ],
    "implicit-preference-standard.jsonl": [
        {"chosen": "The sky is blue.", "rejected": "The sky is green."},
        {"chosen": "Answer: yes", "rejected": "Answer: no"},
        {"chosen": "Completely different", "rejected": "Nothing shared"},
    ],
    "implicit-preference-conversational.jsonl": [
        {"chosen": [u("What colour is the sky?"), a("It is blue.")],
         "rejected": [u("What colour is the sky?"), a("It is green.")]},
        {"chosen": [u("Hi"), a("Hello!"), u("Tell me a joke"), a("Why did the tensor cross the road?")],
         "rejected": [u("Hi"), a("Hello!"), u("Tell me a joke"), a("No.")]},
        {"chosen": [u("Hi"), a("Hey"), u("More?"), a("Sure")], "rejected": [u("Hi"), a("Go away")]},
    ],
    "unpaired-preference-standard.jsonl": [
        {"prompt": "The sky is", "completion": " blue.", "label": True},
        {"prompt": "The sky is", "completion": " green.", "label": False},
    ],
    "unpaired-preference-conversational.jsonl.gz": [
        {"prompt": [u("What colour is the sky?")], "completion": [a("It is blue.")], "label": True},
        {"prompt": [u("What colour is the sky?")], "completion": [a("It is green.")], "label": False},
    ],
}

# Raw lines, some deliberately invalid; the Swift tests assert the exact error for each line number.
MALFORMED = [
    '{"prompt": "ok", "chosen": " a", "rejected": " b"}',          # 1 valid: file type = standard preference
    '{"prompt": "ok", "chosen": " a", "rejected": " b"',           # 2 bad JSON (unterminated)
    '["prompt", "chosen"]',                                         # 3 not an object
    '{"prompt": "ok", "chosen": " a"}',                             # 4 missing rejected
    '{"prompt": "ok", "chosen": 3, "rejected": " b"}',              # 5 wrong type
    '{"prompt": [{"role": "user", "content": "x"}], "chosen": [{"role": "bot", "content": "y"}], '
    '"rejected": [{"role": "assistant", "content": "z"}]}',         # 6 wrong role
    '',                                                             # 7 blank: ignored
    '{"text": "hello"}',                                            # 8 different type
    '{"prompt": [{"role": "user", "content": "x"}], "chosen": [{"role": "assistant", "content": "y"}], '
    '"rejected": [{"role": "assistant", "content": "z"}]}',         # 9 conversational in a standard file
    '{"prompt": "ok", "chosen": " a", "rejected": " b", "chosen_probability": 1.5}',  # 10 soft label out of range
    '{"prompt": "ok", "chosen": " a", "rejected": [{"role": "assistant", "content": "z"}]}',  # 11 mixed formats
    '{"prompt": "ok", "chosen": " c", "rejected": " d", "prompt": "dup"}',  # 12 duplicate key
    '{"prompt": "fine", "chosen": " yes", "rejected": " no"}',     # 13 valid
]


def write_jsonl(name, rows):
    data = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")
    path = os.path.join(HERE, name)
    if name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    with open(path, "wb") as f:
        f.write(data)


def hh_split(chosen, rejected):
    """Independent HH rule: common prefix cut after its last "\\n\\nAssistant:"."""
    common = 0
    while common < min(len(chosen), len(rejected)) and chosen[common] == rejected[common]:
        common += 1
    marker = "\n\nAssistant:"
    cut = chosen[:common].rfind(marker) + len(marker)
    return chosen[:cut], chosen[cut:], rejected[cut:]


def make():
    expected = {}
    for name, rows in FIXTURES.items():
        write_jsonl(name, rows)
        entry = {"conversational": [bool(is_conversational(row)) for row in rows]}
        if name.startswith("implicit"):
            entry["extracted"] = [extract_prompt(dict(row)) for row in rows]
        expected[name] = entry
    with open(os.path.join(HERE, "malformed.jsonl"), "w") as f:
        f.write("\n".join(MALFORMED) + "\n")
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)

    if os.path.exists(HH):
        rows = [json.loads(line) for line in gzip.open(HH, "rt", encoding="utf-8")]
        quirks = {"divergesBeforeFinalTurn": [], "emptyChosen": [], "emptyRejected": [], "identicalResponses": [],
                  "nonAlternatingTurns": []}
        prompt_lengths, turn_counts = [], []
        for number, row in enumerate(rows, start=1):
            prompt, chosen, rejected = hh_split(row["chosen"], row["rejected"])
            prompt_lengths.append(len(prompt))
            turn_counts.append(prompt.count("\n\nHuman:") + prompt.count("\n\nAssistant:"))
            if any(m in chosen or m in rejected for m in ("\n\nHuman:", "\n\nAssistant:")):
                quirks["divergesBeforeFinalTurn"].append(number)
            if not chosen.strip():
                quirks["emptyChosen"].append(number)
            if not rejected.strip():
                quirks["emptyRejected"].append(number)
            if chosen == rejected:
                quirks["identicalResponses"].append(number)
            roles = re.findall(r"\n\n(Human|Assistant):", prompt)
            if roles[0] != "Human" or any(x == y for x, y in zip(roles, roles[1:])):
                quirks["nonAlternatingTurns"].append(number)
        summary = {"count": len(rows), "quirks": quirks, "promptLengths": prompt_lengths, "promptMarkers": turn_counts}
        with open(os.path.join(HERE, "hh.expected.json"), "w") as f:
            json.dump(summary, f)


def verify():
    path = os.path.join(HERE, "charter-written.jsonl.gz")
    if not os.path.exists(path):
        print("charter-written.jsonl.gz absent: run CHARTER_REGENERATE_FIXTURES=1 swift test --filter DatasetsTests")
        return
    rows = [json.loads(line) for line in gzip.open(path, "rt", encoding="utf-8")]
    source = FIXTURES["preference-conversational.jsonl"] + [
        {**row, "prompt": row["prompt"]} for row in FIXTURES["preference-standard.jsonl"]]
    assert len(rows) == 5, len(rows)
    assert rows[0] == source[0], rows[0]
    assert rows[1] == source[1], rows[1]
    assert [list(r) for r in rows[2:]] == [list(r) for r in source[2:]], "column order preserved"
    assert rows[2:] == source[2:]
    assert [is_conversational(r) for r in rows] == [True, True, False, False, False]
    print("charter-written.jsonl.gz: Python reads the same 5 TRL examples (values and column order)")


if __name__ == "__main__":
    if "--verify" not in sys.argv:
        make()
    verify()
