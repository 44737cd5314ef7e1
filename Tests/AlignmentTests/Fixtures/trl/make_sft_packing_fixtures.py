"""TRL parity fixture for Charter's SFT with packing (bfd, TRL's default, which turns padding_free on).

Run from the repository root after make_fixtures.py (CPU, float32; TRL 1.16, transformers 5.x):

    python3 Tests/AlignmentTests/Fixtures/trl/make_sft_packing_fixtures.py

Writes sft_text.jsonl (12 "text" rows of 1 to 30 words, seeded, one longer than max_length 24 tokens so bfd truncates
it) and expected_sft_packing.json: the training loss and grad_norm (before clipping) of each of 3 optimizer steps of
SFTTrainer on policy/ with packing=True (packing_strategy bfd: padding_free, position_ids restarting at each
example, and transformers' sdpa derives the block-diagonal mask from them), per_device_train_batch_size 2, AdamW
lr 1e-3 constant, in order (train_sampling_strategy sequential), for packing_strategy bfd, bfd_split and wrapped.
"""
import json
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import HERE, tokenizer  # noqa: E402
from datasets import Dataset  # noqa: E402
from transformers import LlamaForCausalLM  # noqa: E402
from trl import SFTConfig, SFTTrainer  # noqa: E402

WORDS = ["red", "blue", "green", "cat", "dog", "sun", "moon", "tree", "river", "stone", "hello", "world"]


def texts():
    generator = random.Random(21)
    rows = [" ".join(generator.choice(WORDS) for _ in range(generator.randint(1, 12))) for _ in range(11)]
    rows.insert(4, " ".join(generator.choice(WORDS) for _ in range(30)))  # longer than max_length
    return rows


def run(strategy):
    with tempfile.TemporaryDirectory() as output:
        config = SFTConfig(output_dir=output, packing=True, packing_strategy=strategy, max_length=24,
                           per_device_train_batch_size=2, max_steps=3, learning_rate=1e-3, lr_scheduler_type="constant",
                           train_sampling_strategy="sequential", logging_steps=1, use_cpu=True, report_to="none",
                           gradient_checkpointing=False, seed=42, save_strategy="no", bf16=False)
        trainer = SFTTrainer(model=LlamaForCausalLM.from_pretrained(os.path.join(HERE, "policy"), attn_implementation="sdpa"),
                             args=config, train_dataset=Dataset.from_list([{"text": text} for text in texts()]),
                             processing_class=tokenizer())
        trainer.train()
        logged = [entry for entry in trainer.state.log_history if "grad_norm" in entry]
        return {"loss": [float(entry["loss"]) for entry in logged], "grad_norm": [float(entry["grad_norm"]) for entry in logged],
                "rows": len(trainer.train_dataset)}


def main():
    with open(os.path.join(HERE, "sft_text.jsonl"), "w") as file:
        for text in texts():
            file.write(json.dumps({"text": text}) + "\n")
    expected = {strategy: run(strategy) for strategy in ["bfd", "bfd_split", "wrapped"]}
    with open(os.path.join(HERE, "expected_sft_packing.json"), "w") as file:
        json.dump(expected, file, indent=1)
        file.write("\n")


if __name__ == "__main__":
    main()
