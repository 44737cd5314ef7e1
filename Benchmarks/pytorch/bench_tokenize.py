#!/usr/bin/env python3
"""Single-threaded HF `tokenizers` encoding throughput, and Charter's on the same corpus.

    RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false python3 Benchmarks/pytorch/bench_tokenize.py \
        [--charter .build/release/charter]

Generates a ~2 MB corpus with the fixture script's text generator, writes it as JSON lines
({"text": …}), then for the GPT-2-style and Llama-3-style fixture tokenizers prints one JSON line per
measurement: {"impl": "hf"|"charter", "tokenizer": …, "mode": …, "mb_per_s": …, "tokens_per_s": …}.
Each number is the median of --repeats runs; every run loads the tokenizer afresh (cold BPE cache).
With --charter, the Charter binary (`charter tokenize --benchmark`) runs in the same session and
the Charter/HF ratio is printed last.
"""
import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

from tokenizers import Tokenizer  # noqa: E402  (after the thread settings)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "Tests", "TokenizersTests", "Fixtures")


def load_generator():
    spec = importlib.util.spec_from_file_location("make_fixtures", os.path.join(FIXTURES, "make_fixtures.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_corpus(path, megabytes):
    texts = load_generator().corpus_of_size(seed=2024, megabytes=megabytes)
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    return texts


def measure_hf(path, texts, repeats):
    total_bytes = sum(len(t.encode("utf-8")) for t in texts)
    results = {}
    for mode in ["encode", "encode_batch"]:
        rates = []
        for _ in range(repeats):
            tok = Tokenizer.from_file(path)
            start = time.perf_counter()
            if mode == "encode":
                tokens = sum(len(tok.encode(t).ids) for t in texts)
            else:
                tokens = sum(len(e.ids) for e in tok.encode_batch(texts))
            seconds = time.perf_counter() - start
            rates.append((total_bytes / 1e6 / seconds, tokens / seconds))
        results[mode] = (statistics.median(r[0] for r in rates), statistics.median(r[1] for r in rates))
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default="/tmp/charter_tokenize_corpus.jsonl")
    parser.add_argument("--megabytes", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--charter", help="path to a release `charter` binary to measure in the same session")
    parser.add_argument("--extra", nargs="*", default=[], help="more tokenizer.json files to measure (e.g. a real checkpoint's)")
    args = parser.parse_args()

    texts = write_corpus(args.corpus, args.megabytes)
    targets = [(name, os.path.join(FIXTURES, name, "tokenizer.json")) for name in ["gpt2", "llama3"]]
    targets += [(os.path.basename(path), path) for path in args.extra]
    for name, path in targets:
        hf = measure_hf(path, texts, args.repeats)
        for mode, (mb, tps) in hf.items():
            print(json.dumps({"impl": "hf", "tokenizer": name, "mode": mode, "mb_per_s": round(mb, 3),
                              "tokens_per_s": round(tps)}))
        if args.charter:
            out = subprocess.run([args.charter, "tokenize", "--tokenizer", path, "--input", args.corpus, "--benchmark",
                                  "--repeats", str(args.repeats)], check=True, capture_output=True, text=True).stdout
            charter = json.loads(out.strip().splitlines()[-1])
            charter["tokenizer"] = name
            print(json.dumps(charter))
            print(json.dumps({"tokenizer": name, "charter_over_hf_encode": round(charter["mb_per_s"] / hf["encode"][0], 3),
                              "charter_over_hf_encode_batch": round(charter["mb_per_s"] / hf["encode_batch"][0], 3)}))


if __name__ == "__main__":
    main()
