"""Shared setup of the TRL benchmarks: one tiny Llama and one data file, written once and read by both TRL and Charter.

The model: Llama, vocab 1008 (the GPT-2 fixture tokenizer of Tests/TokenizersTests/Fixtures/gpt2, eos = pad =
<|endoftext|>), hidden 256, 4 layers, 4 heads (2 key/value heads), MLP 688, tied embeddings, seeded random weights.
The data: the first 64 pairs of ../shared/data/hh-rlhf/harmless-base-test.jsonl.gz with TRL's implicit-prompt split
written out as explicit prompt/chosen/rejected (dpo.jsonl) and as chosen transcripts (sft.jsonl, {"text": …}).
"""
import gzip
import json
import os
import statistics
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, TrainerCallback
from trl.data_utils import extract_prompt

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../.."))
HH = os.path.join(ROOT, "../shared/data/hh-rlhf/harmless-base-test.jsonl.gz")
TOKENIZER_JSON = os.path.join(ROOT, "Tests/TokenizersTests/Fixtures/gpt2/tokenizer.json")


def tokenizer():
    return PreTrainedTokenizerFast(tokenizer_file=TOKENIZER_JSON, eos_token="<|endoftext|>", pad_token="<|endoftext|>")


def prepare(workdir, pairs=64):
    """Writes workdir/model, workdir/dpo.jsonl and workdir/sft.jsonl (once) and returns their paths."""
    model_dir = os.path.join(workdir, "model")
    dpo, sft = os.path.join(workdir, "dpo.jsonl"), os.path.join(workdir, "sft.jsonl")
    if not os.path.exists(os.path.join(model_dir, "config.json")):
        os.makedirs(workdir, exist_ok=True)
        torch.manual_seed(0)
        config = LlamaConfig(vocab_size=1008, hidden_size=256, intermediate_size=688, num_hidden_layers=4, num_attention_heads=4,
                             num_key_value_heads=2, max_position_embeddings=512, tie_word_embeddings=True,
                             eos_token_id=0, pad_token_id=0, bos_token_id=None)
        LlamaForCausalLM(config).float().save_pretrained(model_dir, safe_serialization=True)
        tokenizer().save_pretrained(model_dir)
        rows = []
        with gzip.open(HH, "rt") as f:
            for line in f:
                rows.append(extract_prompt(json.loads(line)))
                if len(rows) == pairs:
                    break
        with open(dpo, "w") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
        with open(sft, "w") as f:
            for row in rows:
                f.write(json.dumps({"text": row["prompt"] + row["chosen"]}) + "\n")
    return model_dir, dpo, sft


def prompts(workdir, longest=128, count=32):
    """Writes workdir/prompts.jsonl (once): the first `count` prompts of dpo.jsonl whose tokens number at most `longest`
    ({"prompt": …}), the prompts of the generating trainers (GRPO, RLOO, online DPO); returns its path."""
    _, dpo, _ = prepare(workdir)
    path = os.path.join(workdir, "prompts.jsonl")
    if not os.path.exists(path):
        encode = tokenizer()
        rows = [json.loads(line) for line in open(dpo)]
        kept = [{"prompt": row["prompt"]} for row in rows if len(encode(row["prompt"])["input_ids"]) <= longest][:count]
        with open(path, "w") as f:
            for row in kept:
                f.write(json.dumps(row) + "\n")
    return path


class StepTimer(TrainerCallback):
    """Wall time between consecutive optimizer steps (data collation, forward, backward, clipping, AdamW)."""

    def __init__(self):
        self.times = []
        self.cpu_times = []
        self.last = None

    def on_step_begin(self, args, state, control, **kwargs):
        if self.last is None:
            self.last = (time.perf_counter(), time.process_time())

    def on_step_end(self, args, state, control, **kwargs):
        now = (time.perf_counter(), time.process_time())
        self.times.append(now[0] - self.last[0])
        self.cpu_times.append(now[1] - self.last[1])  # CPU seconds of all threads: robust to other load
        self.last = now


def summarize(name, repeats, extra, cpu_repeats=()):
    """repeats: per-repeat lists of measured step seconds → one JSON line with the median of the per-repeat medians
    (and the same for CPU seconds per step, which other processes on a shared machine disturb less)."""
    medians = [statistics.median(times) for times in repeats]
    result = {"impl": "trl", "benchmark": name, "step_ms_median": 1000 * statistics.median(medians),
              "step_ms_per_repeat": [1000 * m for m in medians], "threads": torch.get_num_threads()}
    if cpu_repeats:
        cpu = [statistics.median(times) for times in cpu_repeats]
        result["cpu_ms_per_step_median"] = 1000 * statistics.median(cpu)
        result["cpu_ms_per_repeat"] = [1000 * m for m in cpu]
    result.update(extra(statistics.median(medians)))
    print(json.dumps(result, sort_keys=True))
