"""TRL parity fixtures for Charter's online DPO trainer.

Run from the repository root after make_fixtures.py (CPU, float32; TRL 1.16, transformers 5.x):

    python3 Tests/AlignmentTests/Fixtures/trl/make_online_dpo_fixtures.py

Writes expected_online_dpo.json: for fixed prompts, fixed completions (token ids, two per prompt) and fixed rewards,
what TRL 1.16's OnlineDPOTrainer (`trl.experimental.online_dpo`) computes for one training step — the loss, the
gradient norm of that loss and the logged statistics (`objective/kl`, `objective/entropy`, `objective/scores`,
`rewards/margins`, `logps/chosen`, `val/contain_eos_token`, …) — per scenario (loss_type sigmoid and ipo, β,
missing_eos_penalty, a tie in the rewards, completions of equal and of unequal lengths) — and `defaults`, the
OnlineDPOConfig defaults of the keys Charter reads.

How TRL is driven (read trl/experimental/online_dpo/online_dpo_trainer.py of TRL 1.16):
  1. The trainer is built as usual with policy/ as the model and reference/ as ref_model, one reward function
     `fixed` (a plain callable), per_device_train_batch_size = the number of prompts, gradient_accumulation_steps 1.
  2. `_generate` is overridden to return the fixed prompt ids (the prompts all have the same token count, so no left
     padding shifts positions) repeated twice, and the fixed completions: the first completion of every prompt, then
     the second of every prompt (TRL's layout), right-padded after their eos with the pad token as TRL's
     `truncate_right` leaves them. The reward function looks each completion up in the fixed reward table.
     Everything else is TRL's own `training_step`: log-probs, reference log-probs, rewards, missing_eos_penalty,
     the chosen/rejected split (first ≥ second: the first is chosen), the loss, its backward and the statistics.
  3. `grad_norm` is the global L2 norm of the parameters' gradients after that backward (before any clipping).
  4. TRL sums `objective/kl`, `objective/entropy` and `objective/non_score_reward` (and so `objective/rlhf_reward`)
     over every completion position, the padding after a short completion's eos included. Charter sums over the
     completion's own tokens. For the scenarios whose completions differ in length, `masked` holds those four
     statistics computed from TRL's own per-token log-probs (`_forward`) with the completion mask applied; the
     equal-length scenarios have no padding, so TRL's logged values apply as they are.
"""
import json
import os
import sys
import tempfile

import torch
from datasets import Dataset
from transformers import LlamaForCausalLM

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import HERE, tokenizer  # noqa: E402

# Three prompts of the same token count (asserted below).
PROMPTS = ["What is 2 + 3?", "What is 4 + 9?", "What is 7 + 1?"]
EOS = 0
PAD = 0
# completions[pair][0 or 1]: the first and second completion of each prompt (ids < the vocabulary of 1008).
# A completion without eos hit max_new_tokens, so it is the longest (TRL pads the others with pad = eos).
MAX_NEW_TOKENS = 6
UNEQUAL = [
    [[416, 20, EOS], [513, 642, 77, 101, 9, 8]],
    [[900, 12, 300, 45, 61, EOS], [31, 32, 33, 34, 35, 36]],
    [[640, 17, EOS], [72, 73, 74, 75, EOS]],
]
# Every completion MAX_NEW_TOKENS long: no padding at all.
EQUAL = [
    [[416, 20, 33, 34, 35, EOS], [513, 642, 77, 101, 9, 8]],
    [[900, 12, 300, 45, 61, 62], [31, 32, 8, 9, 10, EOS]],
    [[640, 17, 18, 19, 20, EOS], [72, 73, 74, 75, 76, EOS]],
]
# rewards[pair][0 or 1]; the third pair of `tie` has equal rewards (TRL then takes the first as chosen, where REWARDS
# choose the second).
REWARDS = [[0.5, 1.25], [0.75, -0.5], [0.2, 1.0]]
TIE = [[0.5, 1.25], [0.75, -0.5], [0.3, 0.3]]

# The OnlineDPOConfig keys Charter reads, whose defaults the Swift test compares.
DEFAULT_KEYS = ["learning_rate", "max_new_tokens", "max_length", "temperature", "top_p", "top_k", "min_p", "missing_eos_penalty",
                "beta", "loss_type", "disable_dropout", "reward_weights", "logging_steps", "per_device_train_batch_size",
                "gradient_accumulation_steps", "max_grad_norm", "lr_scheduler_type", "seed"]


def gradient_norm(model):
    return float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in model.parameters() if p.grad is not None)))


def padded(rows):
    width = max(len(row) for row in rows)
    ids = torch.tensor([row + [PAD] * (width - len(row)) for row in rows])
    mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in rows])
    return ids, mask


def one_step(completions, rewards, **kwargs):
    from trl.experimental.online_dpo import OnlineDPOConfig, OnlineDPOTrainer

    count = len(PROMPTS)
    rows = [pair[0] for pair in completions] + [pair[1] for pair in completions]  # TRL: first halves, then second halves
    table = {tuple(completions[i][j]): rewards[i][j] for i in range(count) for j in range(2)}
    prompt_ids = [tokenizer()(text)["input_ids"] for text in PROMPTS]
    assert len({len(ids) for ids in prompt_ids}) == 1, "the prompts must have the same token count (no left padding)"

    def fixed(prompts, completions, completion_ids, **kwargs):
        # Each padded row, cut after its first eos, is a completion of the table.
        return [table[tuple(ids[:ids.index(EOS) + 1] if EOS in ids else ids)] for ids in completion_ids]

    class FixedCompletions(OnlineDPOTrainer):
        def _generate(self, model, prompts, images=None):
            prompt = torch.tensor(prompt_ids).repeat(2, 1)
            completion, completion_mask = padded(rows)
            return prompt, torch.ones_like(prompt), completion, completion_mask, None

    policy = LlamaForCausalLM.from_pretrained(os.path.join(HERE, "policy"), torch_dtype=torch.float32)
    reference = LlamaForCausalLM.from_pretrained(os.path.join(HERE, "reference"), torch_dtype=torch.float32)
    args = OnlineDPOConfig(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=count, gradient_accumulation_steps=1,
                           max_new_tokens=MAX_NEW_TOKENS, report_to=[], bf16=False, use_cpu=True, logging_steps=1, save_strategy="no",
                           dataloader_num_workers=0, gradient_checkpointing=False, **kwargs)
    trainer = FixedCompletions(model=policy, ref_model=reference, reward_funcs=fixed, args=args,
                               train_dataset=Dataset.from_list([{"prompt": p} for p in PROMPTS]), processing_class=tokenizer())
    trainer.model.zero_grad()
    loss = trainer.training_step(trainer.model, {"prompt": list(PROMPTS)})
    stats = {key: float(values[-1]) for key, values in trainer.stats.items() if values}

    # The padding-free versions of the statistics TRL sums over every position (see 4. above).
    prompt = torch.tensor(prompt_ids).repeat(2, 1)
    completion, completion_mask = padded(rows)
    with torch.no_grad():
        logprobs = trainer._forward(trainer.model, prompt, torch.ones_like(prompt), completion, completion_mask)
        ref_logprobs = trainer._forward(trainer.ref_model, prompt, torch.ones_like(prompt), completion, completion_mask)
    kl = ((logprobs - ref_logprobs) * completion_mask).sum(1)
    beta = trainer.beta
    total = torch.tensor([rewards[i % count][i // count] for i in range(2 * count)])
    if kwargs.get("missing_eos_penalty") is not None:
        total = total - kwargs["missing_eos_penalty"] * torch.tensor([0.0 if EOS in row else 1.0 for row in rows])
    masked = {"objective/kl": float(kl.mean()), "objective/entropy": float(-(logprobs * completion_mask).sum(1).mean()),
              "objective/non_score_reward": float((-beta * kl).mean()),
              "objective/rlhf_reward": float((total - beta * kl).mean())}
    return {"config": dict(kwargs), "completions": completions, "rewards": rewards, "loss": float(loss),
            "grad_norm": gradient_norm(trainer.model), "metrics": stats, "masked": masked}


def main():
    torch.set_num_threads(1)
    expected = {"prompts": PROMPTS, "prompt_ids": [tokenizer()(p)["input_ids"] for p in PROMPTS], "max_new_tokens": MAX_NEW_TOKENS,
                "scenarios": {}}
    from trl.experimental.online_dpo import OnlineDPOConfig
    defaults = OnlineDPOConfig(output_dir=tempfile.mkdtemp(), use_cpu=True, bf16=False)  # (bf16 needs a GPU; no key read here)
    expected["defaults"] = {key: getattr(getattr(defaults, key), "value", getattr(defaults, key)) for key in DEFAULT_KEYS}
    scenarios = expected["scenarios"]
    scenarios["sigmoid"] = one_step(UNEQUAL, REWARDS, loss_type="sigmoid", beta=[0.1])
    scenarios["sigmoid_equal_lengths"] = one_step(EQUAL, REWARDS, loss_type="sigmoid", beta=[0.1])
    scenarios["ipo"] = one_step(UNEQUAL, REWARDS, loss_type="ipo", beta=[0.5])
    scenarios["sigmoid_beta0.3_missing_eos"] = one_step(UNEQUAL, REWARDS, loss_type="sigmoid", beta=[0.3], missing_eos_penalty=1.0)
    scenarios["sigmoid_tie"] = one_step(EQUAL, TIE, loss_type="sigmoid", beta=[0.1])
    with open(os.path.join(HERE, "expected_online_dpo.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    for name, result in scenarios.items():
        print(name, "loss", result["loss"], "grad_norm", result["grad_norm"])


if __name__ == "__main__":
    main()
