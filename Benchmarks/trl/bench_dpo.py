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
import resource
import tempfile

import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM
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
    parser.add_argument("--model-dir", help="a Hugging Face model folder (with its tokenizer) instead of common.py's tiny Llama")
    parser.add_argument("--lora-r", type=int, default=0,
                        help="LoRA rank (PEFT, q_proj/v_proj, alpha 32 as charter's defaults; the reference is the base with "
                             "the adapters off, as TRL does with a peft_config); 0 = full, with a separate reference")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    prepared_dir, dpo_path, _ = common.prepare(args.workdir)
    if args.model_dir:
        model_dir, tok, model_class = args.model_dir, AutoTokenizer.from_pretrained(args.model_dir), AutoModelForCausalLM
    else:
        model_dir, tok, model_class = prepared_dir, common.tokenizer(), LlamaForCausalLM
    rows = [json.loads(line) for line in open(dpo_path)]
    peft_config = None
    if args.lora_r:
        from peft import LoraConfig
        peft_config = LoraConfig(r=args.lora_r, lora_alpha=32, lora_dropout=0.05, target_modules=["q_proj", "v_proj"],
                                 task_type="CAUSAL_LM")
    repeats, cpu_repeats = [], []
    for _ in range(args.repeats):
        policy = model_class.from_pretrained(model_dir, torch_dtype=torch.float32)
        reference = None if peft_config else model_class.from_pretrained(model_dir, torch_dtype=torch.float32)
        timer = common.StepTimer()
        with tempfile.TemporaryDirectory() as out:
            config = DPOConfig(output_dir=out, per_device_train_batch_size=args.batch_size, max_length=args.max_length,
                               max_steps=args.warmup + args.steps, learning_rate=1e-5, beta=0.1, bf16=False, use_cpu=True,
                               gradient_checkpointing=False, report_to=[], save_strategy="no", logging_steps=1000,
                               dataloader_num_workers=0, disable_tqdm=True, seed=42)
            trainer = DPOTrainer(model=policy, ref_model=reference, args=config, train_dataset=Dataset.from_list(rows),
                                 processing_class=tok, callbacks=[timer], peft_config=peft_config)
            trainer.train()
        repeats.append(timer.times[args.warmup:])
        cpu_repeats.append(timer.cpu_times[args.warmup:])
    peak_rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # Linux: kilobytes
    common.summarize("dpo", repeats, lambda median: {"steps_per_s": 1 / median, "pairs_per_step": args.batch_size,
                                                     "max_length": args.max_length, "lora_r": args.lora_r,
                                                     "peak_rss_gb": peak_rss_gb}, cpu_repeats)


if __name__ == "__main__":
    main()
