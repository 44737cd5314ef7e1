#!/usr/bin/env python3
"""Issue 15's real-model measurement: a prompt probe on SmolLM2-135M-Instruct telling HH red-team prompts from
everyday helpful requests, AUROC by layer, against a text-only baseline.

Positives: the first Human turns of ../shared/data/hh-rlhf/harmless-base-test.jsonl.gz (red-team attempts; in file
order, at most --max-chars, duplicates skipped). Negatives: scripts/smollm2/helpful_prompts.txt, everyday requests
written for Charter (../shared/data has no helpful prompts). As many positives as negatives. Each class is shuffled
with --seed and dealt into --folds folds (5); for fold k, fold k is the test set (never seen by any choice), fold
k+1 the validation set ("held-out" for `charter probe train`, which picks the layer and method on it) and the rest
the training set, so every prompt is tested once. Every prompt is rendered with SmolLM2's chat template (its default
system prompt, the user turn, the assistant header), and the probe reads the last token's hidden state. Reported:
each fold's numbers, and their mean with a 95% t-interval over the folds.

What it runs per fold (BIN is a release build of charter; WORK is --work/fold-k):
    BIN probe collect --model M --data WORK/data.jsonl --layers all --position last --output WORK/acts
    BIN probe collect --model M --data WORK/test.jsonl --layers all --position last --output WORK/test-acts
    BIN probe train WORK/acts --output WORK/probe                     # every layer x {logistic, difference-of-means}
    BIN probe eval WORK/probe --activations WORK/test-acts --scores WORK/test-scores.jsonl
    and per layer L: BIN probe train WORK/acts --layers L --method logistic --output WORK/probe-L, then eval on test.

The text-only baseline is an L2 logistic regression on the user turn's lower-cased words (bag of words), its penalty
chosen on the validation split, scored on the test split: when words alone separate the two sets as well as the
probe does, the probe's AUROC says more about how the two sets are written than about the model.

Usage:
    python3 scripts/smollm2/probe_redteam.py --charter .build/release/charter \
        --model SmolLM2-135M-Instruct.F16.gguf --work runs/smollm2-probe \
        --output scripts/smollm2/results/probe_redteam.json
"""
import argparse
import gzip
import json
import math
import os
import random
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "../../../shared/data/hh-rlhf/harmless-base-test.jsonl.gz")
SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def first_human_turn(transcript):
    marker = "\n\nHuman: "
    if not transcript.startswith(marker):
        return None
    return transcript[len(marker):].split("\n\nAssistant:", 1)[0].strip()


def red_team_prompts(path, count, max_chars):
    seen, prompts = set(), []
    with gzip.open(path, "rt", encoding="utf-8") as source:
        for line in source:
            turn = first_human_turn(json.loads(line)["chosen"])
            if not turn or len(turn) > max_chars or turn in seen:
                continue
            seen.add(turn)
            prompts.append(turn)
            if len(prompts) == count:
                return prompts
    sys.exit(f"only {len(prompts)} red-team prompts in {path} (asked for {count})")


def helpful_prompts(path):
    with open(path, encoding="utf-8") as source:
        lines = [line.strip() for line in source]
    prompts = [line for line in lines if line and not line.startswith("#")]
    if len(set(prompts)) != len(prompts):
        sys.exit(f"{path}: duplicate prompts")
    return prompts


def render(prompt):
    """SmolLM2-Instruct's chat template with its default system prompt and the generation header."""
    return (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{prompt}<|im_end|>\n"
            "<|im_start|>assistant\n")


def folds(items, count, seed):
    """The items shuffled with `seed` and dealt into `count` folds."""
    items = list(items)
    random.Random(seed).shuffle(items)
    return [items[k::count] for k in range(count)]


def interval95(values):
    """Mean and 95% t-interval (two-sided) of a few values."""
    t = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776, 6: 2.571, 7: 2.447, 8: 2.365, 9: 2.306, 10: 2.262}
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return {"mean": mean, "lower": mean, "upper": mean, "n": n}
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = t.get(n, 1.96) * sd / math.sqrt(n)
    return {"mean": mean, "lower": mean - half, "upper": mean + half, "n": n}


def auroc(scores, labels):
    """Mann-Whitney AUROC, ties counted half."""
    pairs = sorted(zip(scores, labels))
    positives = sum(labels)
    negatives = len(labels) - positives
    rank_sum, index = 0.0, 0
    while index < len(pairs):
        end = index
        while end < len(pairs) and pairs[end][0] == pairs[index][0]:
            end += 1
        mean_rank = (index + 1 + end) / 2
        rank_sum += mean_rank * sum(label for _, label in pairs[index:end])
        index = end
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def words(text):
    return re.findall(r"[a-z']+", text.lower())


def bag_of_words_baseline(train, validation, test):
    """L2 logistic regression on word presence; the penalty chosen by validation AUROC. Returns (penalty, val, test)."""
    vocabulary = sorted({word for text, _ in train for word in words(text)})
    index = {word: i for i, word in enumerate(vocabulary)}

    def features(text):
        return sorted({index[word] for word in words(text) if word in index})

    def fit(penalty, rows):
        weights, bias = [0.0] * len(vocabulary), 0.0
        encoded = [(features(text), label) for text, label in rows]
        rate = 0.5
        for _ in range(400):
            gradient, bias_gradient = [0.0] * len(vocabulary), 0.0
            for active, label in encoded:
                z = bias + sum(weights[i] for i in active)
                p = 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))
                error = p - label
                bias_gradient += error
                for i in active:
                    gradient[i] += error
            n = len(encoded)
            weights = [w - rate * (g / n + penalty * w) for w, g in zip(weights, gradient)]
            bias -= rate * bias_gradient / n
        return lambda text: bias + sum(weights[i] for i in features(text))

    best = None
    for penalty in [1e-4, 1e-3, 1e-2, 1e-1]:
        model = fit(penalty, train)
        score = auroc([model(text) for text, _ in validation], [label for _, label in validation])
        if best is None or score > best[1]:
            best = (penalty, score, model)
    penalty, validation_auroc, model = best
    return penalty, validation_auroc, auroc([model(text) for text, _ in test], [label for _, label in test])


def machine(charter):
    """The CPU model and the kernel path charter runs (CHARTER_KERNEL_PATH, else the best the CPU has)."""
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            fields = {}
            for line in info:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
        cpu = f"{fields.get('model name', 'unknown')} (family {fields.get('cpu family', '?')} model {fields.get('model', '?')})"
    except OSError:
        pass
    report = subprocess.run([charter, "bench", "gemm", "--shapes", "64x64x64", "--repeats", "1", "--threads", "1"],
                            capture_output=True, text=True).stdout
    return {"cpu": cpu, "kernel_path": json.loads(report.splitlines()[0])["path"]}


def run(command):
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return time.time() - started


def scored_auroc(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    return auroc([row["score"] for row in rows], [1 if row["label"] else 0 for row in rows])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--charter", required=True, help="a release build of charter")
    parser.add_argument("--model", required=True, help="SmolLM2-135M-Instruct: a GGUF file or a converted folder")
    parser.add_argument("--data", default=DEFAULT_DATA, help="harmless-base-test.jsonl.gz")
    parser.add_argument("--helpful", default=os.path.join(HERE, "helpful_prompts.txt"))
    parser.add_argument("--max-chars", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0, help="seed of the fold assignment")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", required=True, help="a folder for the data, activations and probes (outside git)")
    parser.add_argument("--output", required=True, help="results JSON to write")
    args = parser.parse_args()

    helpful = helpful_prompts(args.helpful)
    red_team = red_team_prompts(args.data, len(helpful), args.max_chars)
    dealt = {label: folds(prompts, args.folds, args.seed + label) for label, prompts in ((1, red_team), (0, helpful))}
    charter, threads = args.charter, ["--threads", str(args.threads)]
    per_fold = []
    for k in range(args.folds):
        validation_fold = (k + 1) % args.folds
        parts = {"train": [], "validation": [], "test": []}
        for label, dealt_folds in dealt.items():
            for index, fold in enumerate(dealt_folds):
                name = "test" if index == k else "validation" if index == validation_fold else "train"
                parts[name].extend((prompt, label) for prompt in fold)
        work = os.path.join(args.work, f"fold-{k}")
        os.makedirs(work, exist_ok=True)
        data, test = os.path.join(work, "data.jsonl"), os.path.join(work, "test.jsonl")
        with open(data, "w", encoding="utf-8") as out:
            for name in ("train", "validation"):
                for prompt, label in parts[name]:
                    out.write(json.dumps({"text": render(prompt), "label": bool(label),
                                          "split": "train" if name == "train" else "held-out"}) + "\n")
        with open(test, "w", encoding="utf-8") as out:
            for prompt, label in parts["test"]:
                out.write(json.dumps({"text": render(prompt), "label": bool(label)}) + "\n")
        acts, test_acts = os.path.join(work, "acts"), os.path.join(work, "test-acts")
        seconds = {
            "collect": run([charter, "probe", "collect", "--model", args.model, "--data", data, "--layers", "all",
                            "--position", "last", "--output", acts] + threads),
            "collect_test": run([charter, "probe", "collect", "--model", args.model, "--data", test, "--layers", "all",
                                 "--position", "last", "--output", test_acts] + threads),
        }
        probe = os.path.join(work, "probe")
        seconds["train"] = run([charter, "probe", "train", acts, "--output", probe])
        chosen = json.load(open(os.path.join(probe, "probe.json"), encoding="utf-8"))
        test_scores = os.path.join(work, "test-scores.jsonl")
        run([charter, "probe", "eval", probe, "--activations", test_acts, "--scores", test_scores])
        sweep = {}
        for entry in chosen["sweep"]:
            sweep.setdefault(entry["layer"], {})[entry["method"]] = entry["metrics"]["auroc"]
        by_layer = {}
        for layer in sorted(sweep):
            folder = os.path.join(work, f"probe-{layer}")
            run([charter, "probe", "train", acts, "--layers", str(layer), "--method", "logistic", "--output", folder])
            scores = os.path.join(folder, "test-scores.jsonl")
            run([charter, "probe", "eval", folder, "--activations", test_acts, "--scores", scores])
            by_layer[layer] = {"validation_auroc": sweep[layer], "test_auroc_logistic": scored_auroc(scores)}
        penalty, baseline_validation, baseline_test = bag_of_words_baseline(parts["train"], parts["validation"], parts["test"])
        fold = {
            "fold": k,
            "counts": {name: {"red_team": sum(l for _, l in rows), "helpful": sum(1 - l for _, l in rows)} for name, rows in parts.items()},
            "chosen": {"layer": chosen["layer"], "method": chosen["method"], "validation_auroc": chosen["metrics"]["auroc"],
                       "test_auroc": scored_auroc(test_scores)},
            "by_layer": by_layer,
            "bag_of_words_baseline": {"penalty": penalty, "validation_auroc": baseline_validation, "test_auroc": baseline_test},
            "seconds": seconds,
        }
        per_fold.append(fold)
        print(f"fold {k}: layer {chosen['layer']} {chosen['method']}, validation AUROC {chosen['metrics']['auroc']:.3f}, "
              f"test AUROC {fold['chosen']['test_auroc']:.3f}; bag of words test AUROC {baseline_test:.3f}", flush=True)

    layers = sorted(per_fold[0]["by_layer"])
    summary = {
        "chosen_test_auroc": interval95([f["chosen"]["test_auroc"] for f in per_fold]),
        "bag_of_words_test_auroc": interval95([f["bag_of_words_baseline"]["test_auroc"] for f in per_fold]),
        "probe_minus_bag_of_words": interval95([f["chosen"]["test_auroc"] - f["bag_of_words_baseline"]["test_auroc"] for f in per_fold]),
        "test_auroc_by_layer": {layer: interval95([f["by_layer"][layer]["test_auroc_logistic"] for f in per_fold]) for layer in layers},
        "validation_auroc_by_layer": {layer: {method: interval95([f["by_layer"][layer]["validation_auroc"][method] for f in per_fold])
                                              for method in ("logistic", "difference-of-means")} for layer in layers},
    }
    results = {
        "model": os.path.basename(args.model),
        "positives": "first Human turns of hh-rlhf harmless-base-test (red-team attempts)",
        "negatives": "scripts/smollm2/helpful_prompts.txt (everyday requests written for Charter)",
        "prompts": {"red_team": len(red_team), "helpful": len(helpful)},
        "folds": args.folds, "seed": args.seed,
        "machine": machine(charter),
        "summary": summary,
        "per_fold": per_fold,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as out:
        json.dump(results, out, indent=2)
        out.write("\n")

    def show(interval):
        return f"{interval['mean']:.3f} [{interval['lower']:.3f}, {interval['upper']:.3f}]"
    print(f"chosen probe, test AUROC: {show(summary['chosen_test_auroc'])}; bag of words: {show(summary['bag_of_words_test_auroc'])}; "
          f"difference: {show(summary['probe_minus_bag_of_words'])} (mean [95% t-interval] over {args.folds} folds)")
    print("| layer | validation AUROC, logistic / difference of means | test AUROC, logistic |")
    print("|---|---|---|")
    for layer in layers:
        v = summary["validation_auroc_by_layer"][layer]
        print(f"| {layer} | {v['logistic']['mean']:.3f} / {v['difference-of-means']['mean']:.3f} | {show(summary['test_auroc_by_layer'][layer])} |")


if __name__ == "__main__":
    main()
