#!/usr/bin/env python3
"""Fuzz harness for the `charter` CLI: seeded, reproducible cases for every input kind Charter reads.

    python3 Fuzz/fuzz.py --charter .build/debug/charter --kinds all --cases 40 --seed 1 --jobs 2 --out /tmp/fuzz
    python3 Fuzz/fuzz.py --charter .build/debug/charter --replay config:1:17 --out /tmp/fuzz

Case kind:seed:index index 0 is the unmutated seed (it must succeed: class BASELINE otherwise). Every failing case's
input files, command, stdout and stderr are written to OUT/cases/<kind>-<seed>-<index>/; OUT/summary.json holds every
result. Exit status 1 when any case is CRASH, HANG, RUNAWAY, ESCAPE or BASELINE (see Fuzz/README.md).
"""

import argparse
import concurrent.futures
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzzlib.case import Case  # noqa: E402
from fuzzlib.kinds_gguf import gguf_case  # noqa: E402
from fuzzlib.kinds_jsonl import jsonl_case  # noqa: E402
from fuzzlib.kinds_model import config_case, safetensors_case, sharded_case, tokenizer_case  # noqa: E402
from fuzzlib.kinds_yaml import constitution_case, pipeline_case, recipe_case  # noqa: E402
from fuzzlib.runner import FAILURES, Limits, remove, run_case, write_files  # noqa: E402
from fuzzlib import selftest  # noqa: E402

KINDS = ["safetensors", "config", "tokenizer", "gguf", "jsonl", "recipe", "pipeline", "constitution"]
CLASSES = ["ok-success", "ok-clean-error", "CRASH", "HANG", "RUNAWAY", "ESCAPE", "BASELINE"]


def seed_command(case):
    """The command each kind runs on its unmutated seed (index 0)."""
    return {
        "safetensors": ["generate", "--model", "model", "--prompt", "say one and one", "--max-new-tokens", "2", "--threads", "1"],
        "config": ["logprobs", "--model", "model", "--input", "score.jsonl", "--threads", "1"],
        "tokenizer": ["tokenize", "--tokenizer", "model", "--input", "text.jsonl"],
        "gguf": ["logprobs", "--model", "model.gguf", "--input", "score.jsonl", "--threads", "1"],
        "jsonl": ["sft", "--model", "model", "--output-dir", "out", "--max-steps", "1", "--batch-size", "2", "--max-length", "32",
                  "--chat-template", "chatml", "--save-steps", "0", "--threads", "1", "--dataset", "chat.jsonl"],
        "recipe": ["sft", "--config", "recipe.yaml", "--threads", "1"],
        "pipeline": ["pipeline", "pipeline.yaml", "--threads", "1"],
        "constitution": ["constitution", "validate", "constitution.yaml"],
    }[case.kind]


def build(kind, seed, index):
    """The case kind:seed:index (deterministic)."""
    case = Case(kind, seed, index)
    if index == 0:
        case.argv = seed_command(case)
        return case
    if kind in ("safetensors", "tokenizer"):
        case.architecture = case.rng.choice(["llama", "gpt2"])  # config_case chooses its own
    if kind == "safetensors":
        (sharded_case if case.rng.random() < 0.1 else safetensors_case)(case)
    else:
        {"config": config_case, "tokenizer": tokenizer_case, "gguf": gguf_case, "jsonl": jsonl_case, "recipe": recipe_case,
         "pipeline": pipeline_case, "constitution": constitution_case}[kind](case)
    return case


def save_failure(case, result, case_dir, stderr, out):
    """OUT/cases/<slug>/: the input files (run/), the command, stdout/stderr and the result."""
    target = os.path.join(out, "cases", case.slug)
    remove(target)
    write_files(os.path.join(target, "run"), case.all_files())
    for name in ("stdout.txt", "stderr.txt"):
        if os.path.exists(os.path.join(case_dir, name)):
            shutil.copyfile(os.path.join(case_dir, name), os.path.join(target, name))
    with open(os.path.join(target, "result.json"), "w") as handle:
        json.dump(result, handle, indent=2)
    with open(os.path.join(target, "command.sh"), "w") as handle:
        handle.write("# Run from %s/run (charter: the binary under test)\ncd \"$(dirname \"$0\")/run\" && \"${CHARTER:-charter}\" %s\n"
                     % (target, " ".join(shlex.quote(arg) for arg in case.argv)))
    return target


def run_one(kind, seed, index, charter, work, base, limits, out, keep):
    case = build(kind, seed, index)
    result, case_dir, stderr = run_case(case, charter, work, base, limits)
    if keep or result["class"] in FAILURES:
        result["saved"] = save_failure(case, result, case_dir, stderr, out)
    remove(case_dir)
    return result


def signature(result):
    """What a finding looks like with case-specific details (paths, numbers, quoted values) taken out."""
    if result["class"] == "HANG":
        text = "timeout after: " + re.sub(r"^\S+ (=|nested|is)", r"<key> \1", result["description"])
    else:
        text = result["stderr_last"] or "%s after: %s" % (result["signal"] or "no message",
                                                          re.sub(r"^\S+ (=|nested|is)", r"<key> \1", result["description"]))
    text = re.sub(r"/\S*charter-fuzz-[^/\s]+/w/[^/\s]+/run/", "", text)
    text = re.sub(r"\besc\d+[a-z]+\d+z\b", "<token>", text)
    text = re.sub(r"(\[+|\{a: )+", "[...", text)
    text = re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "N", text)
    text = re.sub(r"\"[^\"]{0,80}\"|'[^']{0,80}'", "'…'", text)
    return "%s %s" % (result["class"] if result["class"] in FAILURES else "vague-error", text[:110])


def findings(results):
    """Failures and vague errors grouped by signature: count, one replay id, the stderr's last line."""
    groups = {}
    for r in results:
        if r["class"] in FAILURES or "vague-error" in r["warnings"]:
            group = groups.setdefault(signature(r), {"count": 0, "replay": r["name"], "class": r["class"],
                                                     "description": r["description"], "stderr_last": r["stderr_last"], "signal": r["signal"]})
            group["count"] += 1
    return sorted(groups.values(), key=lambda g: (g["class"] not in FAILURES, -g["count"]))


def summarize(results, kinds, seconds):
    per_kind = {}
    for kind in kinds:
        mine = [r for r in results if r["kind"] == kind]
        counts = {c: sum(1 for r in mine if r["class"] == c) for c in CLASSES}
        examples = {}
        for r in mine:
            if r["class"] not in ("ok-success", "ok-clean-error") and r["class"] not in examples:
                examples[r["class"]] = {"replay": r["name"], "description": r["description"], "stderr_last": r["stderr_last"],
                                        "signal": r["signal"], "peak_rss_mb": r["peak_rss_mb"], "seconds": r["seconds"]}
        vague = [r for r in mine if "vague-error" in r["warnings"]]
        if vague:
            examples["vague-error"] = {"replay": vague[0]["name"], "description": vague[0]["description"], "stderr_last": vague[0]["stderr_last"]}
        per_kind[kind] = {"cases": len(mine), "counts": counts, "vague_errors": len(vague), "examples": examples,
                          "seconds": round(sum(r["seconds"] for r in mine), 1),
                          "max_peak_rss_mb": max([r["peak_rss_mb"] for r in mine] or [0]), "findings": findings(mine)}
    return {"kinds": per_kind, "total_cases": len(results), "wall_seconds": round(seconds, 1),
            "failures": sum(1 for r in results if r["class"] in FAILURES)}


def print_table(summary):
    columns = ["cases", "ok", "clean-err", "vague", "CRASH", "HANG", "RUNAWAY", "ESCAPE", "BASELINE", "max MB", "seconds"]
    print(("%-13s" + "%9s" * len(columns)) % tuple(["kind"] + columns))
    for kind, entry in summary["kinds"].items():
        c = entry["counts"]
        row = [entry["cases"], c["ok-success"], c["ok-clean-error"], entry["vague_errors"], c["CRASH"], c["HANG"], c["RUNAWAY"],
               c["ESCAPE"], c["BASELINE"], int(entry["max_peak_rss_mb"]), int(entry["seconds"])]
        print(("%-13s" + "%9s" * len(columns)) % tuple([kind] + row))
    print("findings (grouped; one replay id each):")
    for kind, entry in summary["kinds"].items():
        for group in entry["findings"]:
            label = group["class"] if group["class"] in FAILURES else "vague-error"
            print("  %-12s %-11s x%-4d --replay %-20s %s | %s" % (kind, label, group["count"], group["replay"], group["description"][:50],
                                                                (group["stderr_last"] or group["signal"] or "")[:150]
                                                                if label != "HANG" else "(timeout)"))
    print("%d cases in %.1f s wall; %d failures" % (summary["total_cases"], summary["wall_seconds"], summary["failures"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--charter", help="the charter executable under test")
    parser.add_argument("--kinds", default="all", help="comma-separated of %s, or all" % ",".join(KINDS))
    parser.add_argument("--cases", type=int, default=40, help="cases per kind (index 0 is the unmutated seed)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=int, default=0, help="first case index (continue a long run)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", help="where summary.json, results.jsonl and failing cases go")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per case before it counts as HANG")
    parser.add_argument("--rss-limit-gb", type=float, default=4.0, help="peak RSS above this is RUNAWAY")
    parser.add_argument("--memory-cap-gb", type=float, default=6.0, help="RLIMIT_AS of each case (hitting it is RUNAWAY)")
    parser.add_argument("--replay", help="run one case kind:seed:index, keep its files and print its stderr")
    parser.add_argument("--keep-all", action="store_true", help="save every case's files, not only failures")
    parser.add_argument("--backtrace", action="store_true", help="let the Swift runtime print backtraces (slower crashes)")
    parser.add_argument("--tmp", default=None, help="parent folder of the scratch space (default: the system temp folder)")
    parser.add_argument("--self-test", action="store_true", help="check the harness itself (no charter needed) and exit")
    args = parser.parse_args(argv)
    if args.self_test:
        print(selftest.run(KINDS, build))
        return 0
    if not args.charter or not args.out:
        parser.error("--charter and --out are required")
    charter = os.path.abspath(args.charter)
    if not os.access(charter, os.X_OK):
        parser.error("%s is not an executable" % charter)
    limits = Limits(timeout=args.timeout, rss_limit=int(args.rss_limit_gb * (1 << 30)), memory_cap=int(args.memory_cap_gb * (1 << 30)),
                    backtrace=args.backtrace or bool(args.replay))
    os.makedirs(args.out, exist_ok=True)
    base = tempfile.mkdtemp(prefix="charter-fuzz-", dir=args.tmp)
    work = os.path.join(base, "w")
    os.makedirs(work)
    try:
        if args.replay:
            kind, seed, index = args.replay.split(":")
            result = run_one(kind, int(seed), int(index), charter, work, base, limits, args.out, keep=True)
            stderr = open(os.path.join(result["saved"], "stderr.txt"), errors="replace").read()
            print(stderr[:6000] + ("\n[... %d more characters in %s/stderr.txt]" % (len(stderr) - 6000, result["saved"])
                                   if len(stderr) > 6000 else ""), file=sys.stderr)
            print(json.dumps(result, indent=2))
            return 1 if result["class"] in FAILURES else 0
        kinds = KINDS if args.kinds == "all" else [k.strip() for k in args.kinds.split(",")]
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            parser.error("unknown kinds %s; use %s" % (", ".join(unknown), ", ".join(KINDS)))
        jobs = [(kind, args.seed, index) for index in range(args.start, args.start + args.cases) for kind in kinds]
        started, results = time.monotonic(), []
        log = open(os.path.join(args.out, "results.jsonl"), "a")  # one line per finished case, so a stopped run keeps its results
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs)
        futures = [pool.submit(run_one, kind, seed, index, charter, work, base, limits, args.out, args.keep_all)
                   for kind, seed, index in jobs]
        try:
            for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
                result = future.result()
                results.append(result)
                log.write(json.dumps(result) + "\n")
                log.flush()
                if result["class"] in FAILURES:
                    print("%-9s %-22s %5.1fs %6.0f MB  %s | %s" % (result["class"], result["name"], result["seconds"], result["peak_rss_mb"],
                                                                  result["description"][:50],
                                                                  "(timeout)" if result["class"] == "HANG" else result["stderr_last"][:120] or result["signal"]), flush=True)
                elif done % 50 == 0:
                    print("... %d/%d cases" % (done, len(jobs)), flush=True)
        except KeyboardInterrupt:
            print("interrupted: summarizing the %d finished cases" % len(results), flush=True)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            log.close()
        results.sort(key=lambda r: (KINDS.index(r["kind"]), int(r["name"].split(":")[2])))
        summary = summarize(results, kinds, time.monotonic() - started)
        summary.update({"seed": args.seed, "cases_per_kind": args.cases, "start": args.start, "charter": charter})
        with open(os.path.join(args.out, "summary.json"), "w") as handle:
            json.dump(dict(summary, results=results), handle, indent=1)
        print_table(summary)
        return 1 if summary["failures"] else 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
