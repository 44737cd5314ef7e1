#!/usr/bin/env python3
"""TRL SFTTrainer tokens/s on CPU, the reference for `charter bench trainer sft`.

    python3 Benchmarks/trl/bench_sft.py --threads 2 --workdir /tmp/charter-bench
    .build/release/charter bench trainer sft --threads 2 --workdir /tmp/charter-bench

Same model and data as bench_dpo.py (common.py): the chosen HH transcripts as {"text"} (loss on every token, eos
appended), 8 sequences per step, max_length 128, no packing, AdamW lr 2e-5, clipping 1.0, float32.
tokens/s = real (non-padding) tokens of the measured steps / their total time; the result is the median over
--repeats of each repeat's median step time (and the tokens/s it implies).

A real model instead (issue 21: SmolLM2-135M-Instruct from scripts/smollm2/convert.py, LoRA r 8 on q_proj/v_proj
as `charter sft --lora-r 8` does, blocks of max_length tokens packed "wrapped" as Charter's `packing: true`):

    python3 Benchmarks/trl/bench_sft.py --model-dir models/SmolLM2-135M-Instruct --data sft-hh.jsonl \
        --lora-r 8 --packing --batch-size 8 --max-length 1024 --steps 2 --warmup 1 --repeats 1

Then peak_rss_gb (the process's maximum resident set, getrusage) is reported too: the number to compare with
Charter's end-of-run `peak RSS`, which contention does not change.
"""
import argparse
import json
import resource
import tempfile

import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM
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
    parser.add_argument("--model-dir", help="a Hugging Face model folder instead of common.py's tiny Llama")
    parser.add_argument("--data", help='{"text"} lines instead of common.py\'s sft.jsonl')
    parser.add_argument("--lora-r", type=int, default=0, help="LoRA rank (PEFT, q_proj/v_proj, alpha 32 as charter's defaults); 0 = full")
    parser.add_argument("--packing", action="store_true", help='pack max_length blocks ("wrapped", as charter\'s packing: true)')
    parser.add_argument("--gradient-checkpointing", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.model_dir:
        model_dir, tok = args.model_dir, AutoTokenizer.from_pretrained(args.model_dir)
        model_class = AutoModelForCausalLM
    else:
        model_dir, _, sft_path = common.prepare(args.workdir)
        tok, model_class = common.tokenizer(), LlamaForCausalLM
    rows = [json.loads(line) for line in open(args.data or sft_path)]
    lengths = [min(len(tok(r["text"] + tok.eos_token)["input_ids"]), args.max_length) for r in rows]
    # Packed blocks are full (all but the last); otherwise the mean real length of a sequence.
    tokens_per_step = (args.max_length if args.packing else sum(lengths) / len(lengths)) * args.batch_size
    peft_config = None
    if args.lora_r:
        from peft import LoraConfig
        peft_config = LoraConfig(r=args.lora_r, lora_alpha=32, lora_dropout=0.05, target_modules=["q_proj", "v_proj"],
                                 task_type="CAUSAL_LM")
    repeats, cpu_repeats = [], []
    for _ in range(args.repeats):
        model = model_class.from_pretrained(model_dir, torch_dtype=torch.float32)
        timer = common.StepTimer()
        with tempfile.TemporaryDirectory() as out:
            config = SFTConfig(output_dir=out, per_device_train_batch_size=args.batch_size, max_length=args.max_length,
                               max_steps=args.warmup + args.steps, learning_rate=2e-5, packing=args.packing,
                               packing_strategy="wrapped", bf16=False, use_cpu=True,
                               gradient_checkpointing=args.gradient_checkpointing, report_to=[], save_strategy="no",
                               logging_steps=1000, dataloader_num_workers=0, disable_tqdm=True, seed=42)
            trainer = SFTTrainer(model=model, args=config, train_dataset=Dataset.from_list(rows), processing_class=tok,
                                 callbacks=[timer], peft_config=peft_config)
            trainer.train()
        repeats.append(timer.times[args.warmup:])
        cpu_repeats.append(timer.cpu_times[args.warmup:])
    peak_rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # Linux: kilobytes
    common.summarize("sft", repeats, lambda median: {"tokens_per_s": tokens_per_step / median, "tokens_per_step": tokens_per_step,
                                                     "sequences_per_step": args.batch_size, "max_length": args.max_length,
                                                     "lora_r": args.lora_r, "packing": args.packing, "peak_rss_gb": peak_rss_gb,
                                                     "gradient_checkpointing": args.gradient_checkpointing}, cpu_repeats)


if __name__ == "__main__":
    main()
