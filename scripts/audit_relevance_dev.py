#!/usr/bin/env python3
"""How the audit's reference-model relevance vote was chosen (issue 13; exploratory, not a result).

For each seed folder of `charter experiment audit` runs (e.g. runs/c85/seed-16 ...), re-scores every pair of
data/noisy.jsonl in PyTorch with the run's own saved cross-fitted reward models (each pair only by the models whose fold
held it out, the folds recomputed exactly as Sources/Audit/RewardEnsemble.swift draws them) and with the seed's
helpful-only model as the reference: relevance(x, y) = log p(y | x) - mean over 3 other pairs' prompts x_j of
log p(y | x_j). It checks that the ensemble alone reproduces the run's suspected_mislabel flags, then prints flip
precision and recall (95% t-intervals over seeds) for the ensemble alone and for the joint rule
(mean P + sigmoid(gap / scale)) / 2 <= threshold over a grid of scales and thresholds.

The other prompts are drawn here with Python's random.Random(1), not with Charter's SplitMix64 draw, so single gaps differ
from `charter audit --reference-model`'s; their distribution is what the grid reads.

Needs torch and transformers:  python3 scripts/audit_relevance_dev.py runs/c85/seed-* runs/c85-b/seed-* [--cache DIR]
"""
import argparse, json, math, os, random, statistics, sys

M = (1 << 64) - 1
T95 = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776, 6: 2.571, 7: 2.447, 8: 2.365, 9: 2.306, 10: 2.262, 15: 2.145}


def normalised(text):
    out, pending = bytearray(), False
    for b in text.encode():
        if b in (0x20, 9, 10, 11, 12, 13):
            pending = len(out) > 0
        else:
            if pending:
                out.append(0x20)
            pending = False
            out.append(b | 0x20 if 0x41 <= b <= 0x5A else b)
    return bytes(out)


def fnv(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & M
    return h


def fold(key, repeat, folds):
    z = ((key ^ (((repeat + 1) * 0x9E3779B97F4A7C15) & M)) + 0x9E3779B97F4A7C15) & M
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return (z ^ (z >> 31)) % folds


def score_seed(seed):
    import torch
    from transformers import AutoTokenizer, LlamaForCausalLM, LlamaForSequenceClassification
    torch.set_num_threads(1)
    read = lambda *p: [json.loads(l) for l in open(os.path.join(seed, *p)) if l.strip()]
    pairs, truth = read("data", "noisy.jsonl"), [r["truth"] for r in read("data", "noisy.truth.jsonl")]
    audit = json.load(open(os.path.join(seed, "audit", "audit.json")))
    ensemble = audit["reward_models"]
    informative = {m["name"] for m in ensemble["models"] if (m["agreement_with_labels"] or 0) > 0.55}
    flagged = {r["line"] for r in read("audit", "findings.jsonl") if any(f["kind"] == "suspected_mislabel" for f in r["findings"])}
    tok = AutoTokenizer.from_pretrained(os.path.join(seed, "helpful_only", "model"))
    eos = tok.eos_token
    probabilities = [[] for _ in pairs]
    for repeat in range(ensemble["repeats"]):
        for f in range(ensemble["folds"]):
            name = f"repeat-{repeat + 1}-fold-{f + 1}"
            if name not in informative:
                continue
            model = LlamaForSequenceClassification.from_pretrained(os.path.join(seed, "audit", "reward_models", name)).eval()
            for i, p in enumerate(pairs):
                if fold(fnv(normalised(p["prompt"])), repeat, ensemble["folds"]) != f:
                    continue
                with torch.no_grad():
                    rc = model(torch.tensor([tok.encode(p["prompt"] + p["chosen"] + eos)])).logits.item()
                    rr = model(torch.tensor([tok.encode(p["prompt"] + p["rejected"] + eos)])).logits.item()
                probabilities[i].append(1 / (1 + math.exp(-(rc - rr))))
    lm = LlamaForCausalLM.from_pretrained(os.path.join(seed, "helpful_only", "model")).eval()

    def loglik(prompt, response):
        start, ids = len(tok.encode(prompt)), torch.tensor([tok.encode(prompt + response + eos)])
        with torch.no_grad():
            lp = torch.log_softmax(lm(ids).logits[0, :-1], -1)
        return lp[torch.arange(ids.shape[1] - 1), ids[0, 1:]][start - 1:].sum().item()

    rng, prompts, rows = random.Random(1), [p["prompt"] for p in pairs], []
    for i, p in enumerate(pairs):
        others = rng.sample([q for q in prompts if q != p["prompt"]], 3)
        relevance = lambda y: loglik(p["prompt"], y) - sum(loglik(q, y) for q in others) / 3
        mean = sum(probabilities[i]) / len(probabilities[i]) if probabilities[i] else None
        rows.append({"line": i + 1, "truth": truth[i], "ensemble": mean, "gap": relevance(p["chosen"]) - relevance(p["rejected"]),
                     "flagged_by_run": (i + 1) in flagged})
    if ensemble.get("reference"):
        # The run flagged on the joint rule with its own draw of other prompts; the ensemble alone cannot be checked.
        return rows
    threshold = 1 - ensemble["mislabel_confidence"]
    mismatches = [r["line"] for r in rows if r["ensemble"] is not None and (r["ensemble"] <= threshold + 1e-12) != r["flagged_by_run"]]
    if mismatches:
        sys.exit(f"{seed}: the re-scored ensemble does not reproduce the run's flags on lines {mismatches[:10]}")
    return rows


def interval(values):
    mean = statistics.mean(values)
    half = T95.get(len(values), 2.0) * statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return f"{mean:5.1f} [{mean - half:5.1f}, {mean + half:5.1f}]"


def evaluate(seeds, rule):
    precision, recall = [], []
    for rows in seeds:
        flagged = [r for r in rows if r["ensemble"] is not None and rule(r)]
        hits = sum(r["truth"] == "flipped" for r in flagged)
        planted = sum(r["truth"] == "flipped" for r in rows)
        precision.append(100 * hits / len(flagged) if flagged else 0.0)
        recall.append(100 * hits / planted if planted else 0.0)
    return f"precision {interval(precision)}  recall {interval(recall)}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("seeds", nargs="+", help="seed folders of charter experiment audit runs")
    ap.add_argument("--cache", help="folder for one scored JSONL per seed (reused when present)")
    args = ap.parse_args()
    seeds = []
    for seed in args.seeds:
        cached = args.cache and os.path.join(args.cache, seed.strip("/").replace("/", "_") + ".jsonl")
        if cached and os.path.exists(cached):
            seeds.append([json.loads(l) for l in open(cached)])
            continue
        rows = score_seed(seed)
        if cached:
            os.makedirs(args.cache, exist_ok=True)
            with open(cached, "w") as out:
                out.writelines(json.dumps(r) + "\n" for r in rows)
        seeds.append(rows)
    print(f"{len(seeds)} seeds; the ensemble's flags reproduced on every seed whose run had no reference model")
    print(f"  ensemble alone, P <= 0.15:            {evaluate(seeds, lambda r: r['ensemble'] <= 0.15)}")
    for scale in (3, 5, 8, 12):
        for threshold in (0.20, 0.25, 0.30, 0.33, 0.36, 0.40):
            rule = lambda r, s=scale, t=threshold: (r["ensemble"] + 1 / (1 + math.exp(-r["gap"] / s))) / 2 <= t
            print(f"  joint, scale {scale:2d}, threshold {threshold:.2f}: {evaluate(seeds, rule)}")


if __name__ == "__main__":
    main()
