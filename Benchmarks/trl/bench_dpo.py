#!/usr/bin/env python3
"""TRL DPOTrainer steps/s on CPU, the reference for `charter bench trainer dpo`.

    python3 Benchmarks/trl/bench_dpo.py --threads 2 --workdir /tmp/charter-bench
    .build/release/charter bench trainer dpo --threads 2 --workdir /tmp/charter-bench

Same model, data and settings on both sides (see common.py): sigmoid loss, beta 0.1, a separate frozen reference
(the same folder), 4 pairs per step (8 sequences), max_length 128, AdamW lr 1e-5, clipping 1.0, float32, no
gradient checkpointing. Each repeat builds a fresh trainer and times --steps steps after --warmup; the result is
the median over --repeats of each repeat's median step time.
"""
import argparse
import json
import tempfile

import torch
from datasets import Dataset
from transformers import LlamaForCausalLM
from trl import DPOConfig, DPOTrainer

import common


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", default="/tmp/charter-bench")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model_dir, dpo_path, _ = common.prepare(args.workdir)
    rows = [json.loads(line) for line in open(dpo_path)]
    repeats, cpu_repeats = [], []
    for _ in range(args.repeats):
        policy = LlamaForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32)
        reference = LlamaForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32)
        timer = common.StepTimer()
        with tempfile.TemporaryDirectory() as out:
            config = DPOConfig(output_dir=out, per_device_train_batch_size=args.batch_size, max_length=args.max_length,
                               max_steps=args.warmup + args.steps, learning_rate=1e-5, beta=0.1, bf16=False, use_cpu=True,
                               gradient_checkpointing=False, report_to=[], save_strategy="no", logging_steps=1000,
                               dataloader_num_workers=0, disable_tqdm=True, seed=42)
            trainer = DPOTrainer(model=policy, ref_model=reference, args=config, train_dataset=Dataset.from_list(rows),
                                 processing_class=common.tokenizer(), callbacks=[timer])
            trainer.train()
        repeats.append(timer.times[args.warmup:])
        cpu_repeats.append(timer.cpu_times[args.warmup:])
    common.summarize("dpo", repeats, lambda median: {"steps_per_s": 1 / median, "pairs_per_step": args.batch_size,
                                                     "max_length": args.max_length}, cpu_repeats)


if __name__ == "__main__":
    main()
