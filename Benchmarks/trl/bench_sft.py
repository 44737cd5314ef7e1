#!/usr/bin/env python3
"""TRL SFTTrainer tokens/s on CPU, the reference for `charter bench trainer sft`.

    python3 Benchmarks/trl/bench_sft.py --threads 2 --workdir /tmp/charter-bench
    .build/release/charter bench trainer sft --threads 2 --workdir /tmp/charter-bench

Same model and data as bench_dpo.py (common.py): the chosen HH transcripts as {"text"} (loss on every token, eos
appended), 8 sequences per step, max_length 128, no packing, AdamW lr 2e-5, clipping 1.0, float32.
tokens/s = real (non-padding) tokens of the measured steps / their total time; the result is the median over
--repeats of each repeat's median step time (and the tokens/s it implies).
"""
import argparse
import json
import tempfile

import torch
from datasets import Dataset
from transformers import LlamaForCausalLM
from trl import SFTConfig, SFTTrainer

import common


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", default="/tmp/charter-bench")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model_dir, _, sft_path = common.prepare(args.workdir)
    rows = [json.loads(line) for line in open(sft_path)]
    tok = common.tokenizer()
    lengths = [min(len(tok(r["text"] + tok.eos_token)["input_ids"]), args.max_length) for r in rows]
    tokens_per_step = sum(lengths) / len(lengths) * args.batch_size
    repeats, cpu_repeats = [], []
    for _ in range(args.repeats):
        model = LlamaForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32)
        timer = common.StepTimer()
        with tempfile.TemporaryDirectory() as out:
            config = SFTConfig(output_dir=out, per_device_train_batch_size=args.batch_size, max_length=args.max_length,
                               max_steps=args.warmup + args.steps, learning_rate=2e-5, packing=False, bf16=False, use_cpu=True,
                               gradient_checkpointing=False, report_to=[], save_strategy="no", logging_steps=1000,
                               dataloader_num_workers=0, disable_tqdm=True, seed=42)
            trainer = SFTTrainer(model=model, args=config, train_dataset=Dataset.from_list(rows), processing_class=tok,
                                 callbacks=[timer])
            trainer.train()
        repeats.append(timer.times[args.warmup:])
        cpu_repeats.append(timer.cpu_times[args.warmup:])
    common.summarize("sft", repeats, lambda median: {"tokens_per_s": tokens_per_step / median, "tokens_per_step": tokens_per_step,
                                                     "sequences_per_step": args.batch_size, "max_length": args.max_length}, cpu_repeats)


if __name__ == "__main__":
    main()
