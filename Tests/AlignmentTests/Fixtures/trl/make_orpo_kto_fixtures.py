"""TRL parity fixtures for Charter's ORPO and KTO trainers.

Run from the repository root after make_fixtures.py (CPU, float32; TRL 1.16, transformers 5.x):

    python3 Tests/AlignmentTests/Fixtures/trl/make_orpo_kto_fixtures.py

Uses the tiny models (policy/, reference/) and preference datasets that make_fixtures.py wrote, writes
unpaired_standard.jsonl (prompt/completion/label rows from the standard pairs: 7 rows, so with batch size 4 the second
batch has only desirable examples and the rejected metrics average over one batch) and expected_orpo_kto.json:
TRL's ORPOTrainer.evaluate() metrics per scenario (policy only: ORPO has no reference model) and
KTOTrainer.evaluate() metrics (policy, with reference/ as ref_model) on unpaired data and on paired data that TRL
unpairs. Train and evaluation batch sizes are 4: TRL rotates the KL completions within blocks of
per_device_train_batch_size, also in the evaluation set. The precompute scenarios set precompute_ref_log_probs: with
reference/ read once in batches of precompute_ref_batch_size 3, and without ref_model, where TRL reads the initial
policy once as the reference before the training step.
"""
import json
import os
import sys
import tempfile

import torch
from datasets import Dataset
from transformers import LlamaForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import HERE, conversational_pairs, implicit_pairs, metrics, standard_pairs, tokenizer  # noqa: E402


def one_step(trainer):
    """One optimizer step on a batch holding the whole training set, then evaluate(): the step's loss and grad_norm
    (before clipping) and the eval metrics after it."""
    trainer.train()
    logged = next(entry for entry in trainer.state.log_history if "grad_norm" in entry)
    result = metrics(trainer.evaluate())
    result["train_loss"] = float(logged["loss"])
    result["train_grad_norm"] = float(logged["grad_norm"])
    return result


STEP = dict(max_steps=1, learning_rate=1e-3, lr_scheduler_type="constant", logging_steps=1, save_strategy="no")


def orpo_metrics(rows, train_step=False, **kwargs):
    from trl.experimental.orpo import ORPOConfig, ORPOTrainer
    policy = LlamaForCausalLM.from_pretrained(os.path.join(HERE, "policy"), torch_dtype=torch.float32)
    with tempfile.TemporaryDirectory() as out:
        step = dict(STEP, per_device_train_batch_size=len(rows)) if train_step else {}
        args = ORPOConfig(output_dir=out, per_device_eval_batch_size=4, report_to=[], bf16=False, use_cpu=True,
                          gradient_checkpointing=False, dataloader_num_workers=0, **step, **kwargs)
        data = Dataset.from_list(rows)
        trainer = ORPOTrainer(model=policy, args=args, train_dataset=data, eval_dataset=data, processing_class=tokenizer())
        return one_step(trainer) if train_step else metrics(trainer.evaluate())


def unpaired_rows():
    pairs = standard_pairs()
    picks = [(0, True), (1, False), (2, True), (3, False), (4, True), (5, True), (3, True)]
    return [{"prompt": pairs[i]["prompt"], "completion": pairs[i]["chosen" if label else "rejected"], "label": label}
            for i, label in picks]


def kto_metrics(rows, train_step=False, with_reference=True, **kwargs):
    from trl import KTOConfig, KTOTrainer
    policy = LlamaForCausalLM.from_pretrained(os.path.join(HERE, "policy"), torch_dtype=torch.float32)
    reference = LlamaForCausalLM.from_pretrained(os.path.join(HERE, "reference"), torch_dtype=torch.float32) if with_reference else None
    with tempfile.TemporaryDirectory() as out:
        # One step: a training batch of every row (paired data: twice the pairs), one KL block as in Charter's micro-batch.
        step = dict(STEP, per_device_train_batch_size=kwargs.pop("train_rows")) if train_step else {"per_device_train_batch_size": 4}
        args = KTOConfig(output_dir=out, per_device_eval_batch_size=4, report_to=[], bf16=False, use_cpu=True,
                         gradient_checkpointing=False, dataloader_num_workers=0, **step, **kwargs)
        data = Dataset.from_list(rows)
        trainer = KTOTrainer(model=policy, ref_model=reference, args=args, train_dataset=data, eval_dataset=data,
                             processing_class=tokenizer())
        return one_step(trainer) if train_step else metrics(trainer.evaluate())


def main():
    torch.set_num_threads(1)
    expected = {"orpo": {}}
    expected["orpo"]["standard"] = orpo_metrics(standard_pairs(), beta=0.1)
    expected["orpo"]["standard_truncated"] = orpo_metrics(standard_pairs(), beta=0.5, max_length=20)
    expected["orpo"]["implicit"] = orpo_metrics(implicit_pairs(), beta=0.2)
    expected["orpo"]["conversational"] = orpo_metrics(conversational_pairs(), beta=0.1)
    with open(os.path.join(HERE, "unpaired_standard.jsonl"), "w") as f:
        for row in unpaired_rows():
            f.write(json.dumps(row) + "\n")
    expected["kto"] = {}
    expected["kto"]["unpaired"] = kto_metrics(unpaired_rows(), beta=0.1)
    expected["kto"]["unpaired_weighted_truncated"] = kto_metrics(unpaired_rows(), beta=0.5, desirable_weight=1.33,
                                                                 undesirable_weight=0.8, max_length=20)
    expected["kto"]["unpaired_apo_zero"] = kto_metrics(unpaired_rows(), beta=0.2, loss_type="apo_zero_unpaired")
    expected["kto"]["paired_standard"] = kto_metrics(standard_pairs(), beta=0.1)
    expected["kto"]["paired_conversational"] = kto_metrics(conversational_pairs(), beta=0.1)
    expected["orpo"]["standard_one_step"] = orpo_metrics(standard_pairs(), train_step=True, beta=0.1)
    expected["kto"]["paired_standard_one_step"] = kto_metrics(standard_pairs(), train_step=True, train_rows=12, beta=0.1)
    expected["kto"]["paired_standard_precompute"] = kto_metrics(standard_pairs(), beta=0.1, precompute_ref_log_probs=True,
                                                                precompute_ref_batch_size=3)
    expected["kto"]["paired_standard_one_step_precompute_initial_policy"] = kto_metrics(
        standard_pairs(), train_step=True, train_rows=12, with_reference=False, beta=0.1, precompute_ref_log_probs=True)
    with open(os.path.join(HERE, "expected_orpo_kto.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
    print(json.dumps(expected, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
