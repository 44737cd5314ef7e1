#!/usr/bin/env python3
"""TRL's ORPO, KTO, GRPO, RLOO and online DPO trainers, steps/s on CPU: the references for
`charter bench trainer orpo|kto|grpo|rloo|online-dpo`.

    python3 Benchmarks/trl/bench_trainers.py grpo --threads 2 --workdir /tmp/charter-bench
    .build/release/charter bench trainer grpo --threads 2 --workdir /tmp/charter-bench

The model and data are common.py's (the tiny seeded Llama; HH pairs; prompts.jsonl: the HH prompts of at most 128
tokens). Settings, the same on both sides (float32, no gradient checkpointing, AdamW, clipping at 1.0):
- orpo: 4 pairs per step, beta (λ) 0.1, max_length 128, lr 1e-5; no reference model.
- kto: 8 rows per step (TRL unpairs the pairs into a desirable and an undesirable row each; so does Charter), beta 0.1,
  max_length 128, lr 1e-5, a separate frozen reference (the same folder).
- grpo: 8 completions per step (2 prompts × num_generations 4), max_completion_length 32, temperature 1, beta 0 (TRL's
  default: no reference), loss_type dapo, lr 1e-6; reward: TRL's own soft overlong punishment (DAPO; Charter's
  `length` reward, the same formula) with max 32 and cache 8.
- rloo: as grpo, with beta 0.05 (RLOO's default) and so a separate frozen reference.
- online_dpo: 4 prompts per step, two completions each, max_new_tokens 32, temperature 0.9, beta 0.1, sigmoid loss,
  lr 5e-7; pairs ranked by the same soft overlong punishment, ties to the first completion as in TRL; a separate frozen
  reference.
A seeded random model rarely samples eos (1 of 1008 tokens), so nearly every completion has the full 32 tokens on
both sides: the work per step is the same. Each repeat builds a fresh trainer and times --steps optimizer steps after
--warmup; the result is the median over --repeats of each repeat's median step time (and the same for CPU seconds).
"""
import argparse
import json
import tempfile

import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer

import common

MAX_COMPLETION = 32


def soft_overlong():
    from trl.rewards import get_soft_overlong_punishment
    return get_soft_overlong_punishment(max_completion_len=MAX_COMPLETION, soft_punish_cache=MAX_COMPLETION // 4)


def trainer_for(name, model_dir, workdir, out, steps, timer, own_tokenizer=False):
    policy = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32)

    def reference():
        return AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32)

    shared = dict(output_dir=out, max_steps=steps, bf16=False, use_cpu=True, gradient_checkpointing=False, report_to=[],
                  save_strategy="no", logging_steps=1000, dataloader_num_workers=0, disable_tqdm=True, seed=42)
    _, dpo_path, _ = common.prepare(workdir)
    pairs = Dataset.from_list([json.loads(line) for line in open(dpo_path)])
    prompts = Dataset.from_list([json.loads(line) for line in open(common.prompts(workdir))])
    tokenizer = AutoTokenizer.from_pretrained(model_dir) if own_tokenizer else common.tokenizer()
    if name == "orpo":
        from trl.experimental.orpo import ORPOConfig, ORPOTrainer
        config = ORPOConfig(per_device_train_batch_size=4, max_length=128, learning_rate=1e-5, beta=0.1, **shared)
        return ORPOTrainer(model=policy, args=config, train_dataset=pairs, processing_class=tokenizer, callbacks=[timer]), 4
    if name == "kto":
        from trl import KTOConfig, KTOTrainer
        config = KTOConfig(per_device_train_batch_size=8, max_length=128, learning_rate=1e-5, beta=0.1, **shared)
        return KTOTrainer(model=policy, ref_model=reference(), args=config, train_dataset=pairs, processing_class=tokenizer,
                          callbacks=[timer]), 8
    if name in ("grpo", "rloo"):
        from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer
        Config, Trainer = (GRPOConfig, GRPOTrainer) if name == "grpo" else (RLOOConfig, RLOOTrainer)
        beta = 0.0 if name == "grpo" else 0.05
        config = Config(per_device_train_batch_size=8, num_generations=4, max_completion_length=MAX_COMPLETION,
                        temperature=1.0, beta=beta, learning_rate=1e-6, **shared)
        return Trainer(model=policy, reward_funcs=[soft_overlong()], args=config, train_dataset=prompts,
                       processing_class=tokenizer, callbacks=[timer]), 8
    if name == "online_dpo":
        from trl.experimental.online_dpo import OnlineDPOConfig, OnlineDPOTrainer
        config = OnlineDPOConfig(per_device_train_batch_size=4, max_new_tokens=MAX_COMPLETION, temperature=0.9, beta=0.1,
                                 learning_rate=5e-7, **shared)
        return OnlineDPOTrainer(model=policy, ref_model=reference(), reward_funcs=[soft_overlong()], args=config,
                                train_dataset=prompts, processing_class=tokenizer, callbacks=[timer]), 4
    raise SystemExit(f"unknown trainer {name}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("trainer", choices=["orpo", "kto", "grpo", "rloo", "online_dpo"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workdir", default="/tmp/charter-bench")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model-dir", help="a Hugging Face model folder (with its tokenizer) instead of the tiny Llama, "
                        "e.g. SmolLM2-135M-Instruct from scripts/smollm2/convert.py; the data stay common.py's")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model_dir, _, _ = common.prepare(args.workdir)
    model_dir = args.model_dir or model_dir
    repeats, cpu_repeats, per_step = [], [], 0
    for _ in range(args.repeats):
        timer = common.StepTimer()
        with tempfile.TemporaryDirectory() as out:
            trainer, per_step = trainer_for(args.trainer, model_dir, args.workdir, out, args.warmup + args.steps, timer,
                                            own_tokenizer=args.model_dir is not None)
            trainer.train()
        repeats.append(timer.times[args.warmup:])
        cpu_repeats.append(timer.cpu_times[args.warmup:])
    unit = {"orpo": "pairs", "kto": "rows", "online_dpo": "prompts"}.get(args.trainer, "completions")
    common.summarize(args.trainer, repeats, lambda median: {"steps_per_s": 1 / median, f"{unit}_per_step": per_step},
                     cpu_repeats)


if __name__ == "__main__":
    main()
