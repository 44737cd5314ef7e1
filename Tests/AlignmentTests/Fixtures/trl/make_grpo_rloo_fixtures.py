"""TRL parity fixtures for Charter's GRPO and RLOO trainers.

Run from the repository root after make_fixtures.py (CPU, float32; TRL 1.16, transformers 5.x):

    python3 Tests/AlignmentTests/Fixtures/trl/make_grpo_rloo_fixtures.py

Writes expected_grpo_rloo.json: for fixed prompts, fixed completions (token ids) and fixed rewards, what TRL 1.16's
GRPOTrainer and RLOOTrainer compute for one training step — the advantages, the loss, the gradient norm of that loss
and the logged metrics — per scenario (loss_type × beta, scale_rewards, clipping, use_bias_correction_kl; RLOO's beta
and normalize_advantages).

How TRL is driven (read trl/trainer/grpo_trainer.py and rloo_trainer.py of TRL 1.16):
  1. The trainer is built as usual (policy/ as the model, two reward functions `exact` and `format`, one generation
     batch of 3 prompts × num_generations 3 = per_device_train_batch_size 9, gradient_accumulation_steps 1).
     With beta > 0 TRL loads a frozen copy of the policy as ref_model; we replace it by reference/ (with TRL's fused
     LM head at the same temperature), so the KL term is not zero at the first step.
  2. `_generate` is overridden to return the fixed prompt and completion ids instead of sampling; the reward functions
     look each completion up in the fixed reward table. Everything after generation is TRL's own code:
     `_generate_and_score_completions(inputs)` (rewards, weights, advantages, reference log-probs, metrics) with the
     inputs repeated num_generations times in a row, as TRL's RepeatSampler orders them.
  3. For the *_clipped scenarios the rollout policy's log-probs ("old", which TRL skips when num_iterations = 1) are
     set to the current policy's plus fixed per-token offsets (`old_logp_offsets`; RLOO: their sum per completion),
     so that the clipped ratio and the clip_ratio metrics are exercised.
  4. `_compute_loss(model, inputs)` gives the loss (gradient accumulation 1: no division); `loss.backward()` its
     gradient, whose global L2 norm (before clipping) is `grad_norm`.
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

PROMPTS = ["What is 2 + 3?", "Add 14 and 27.", "The sum of 5 and 5 is"]
NUM_GENERATIONS = 3
EOS = 0
# Nine distinct completions (ids < the tiny models' vocabulary of 1008), three per prompt in order; some end with eos.
COMPLETIONS = [
    [416, 20, EOS], [513, 642, 77, 101, 9], [88, EOS],
    [900, 12, 300, 45, 61, 7, EOS], [31], [250, 251, 252, EOS],
    [640, 17, EOS], [72, 73, 74, 75, 76, 77, 78, 79], [5, 6, EOS],
]
# Per-function rewards: the third group has equal weighted rewards (zero std).
REWARDS = {
    "exact": [1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    "format": [0.5, -0.25, 1.0, 0.75, 0.0, -1.0, 0.2, 0.2, 0.2],
}
REWARD_WEIGHTS = [1.0, 0.5]
TEMPERATURE = 0.7
MAX_COMPLETION_LENGTH = 8


def offsets():
    generator = torch.Generator().manual_seed(7)
    return [(torch.rand(len(ids), generator=generator) * 0.8 - 0.4).tolist() for ids in COMPLETIONS]


OFFSETS = offsets()


def reward_function(name):
    table = {tuple(ids): value for ids, value in zip(COMPLETIONS, REWARDS[name])}

    def reward(prompts, completions, completion_ids, **kwargs):
        return [table[tuple(ids)] for ids in completion_ids]

    reward.__name__ = name
    return reward


def padded_offsets(width):
    rows = [row + [0.0] * (width - len(row)) for row in OFFSETS]
    return torch.tensor(rows, dtype=torch.float32)


def gradient_norm(model):
    return float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in model.parameters() if p.grad is not None)))


def trainer_metrics(trainer):
    return {key: float(values[-1]) for key, values in trainer._metrics["train"].items() if values and key != "num_tokens"}


def build(kind, **kwargs):
    """A GRPOTrainer or RLOOTrainer on policy/ whose generation returns the fixed completions."""
    from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer
    from trl.trainer.utils import add_fused_lm_head

    base_config, base_trainer = (GRPOConfig, GRPOTrainer) if kind == "grpo" else (RLOOConfig, RLOOTrainer)

    class FixedCompletions(base_trainer):
        def _generate(self, prompts):
            prompt_ids = [tokenizer()(text)["input_ids"] for text in prompts]
            completion_ids = [list(ids) for ids in COMPLETIONS]
            completions = self.processing_class.batch_decode(completion_ids, skip_special_tokens=True)
            if kind == "grpo":  # prompt_ids, completion_ids, tool_mask, completions, logprobs, extra_fields, images, tool_images
                return prompt_ids, completion_ids, None, completions, None, {}, None, []
            return prompt_ids, completion_ids, completions

    policy = LlamaForCausalLM.from_pretrained(os.path.join(HERE, "policy"), torch_dtype=torch.float32)
    out = tempfile.mkdtemp()
    args = base_config(output_dir=out, per_device_train_batch_size=len(COMPLETIONS), gradient_accumulation_steps=1,
                       num_generations=NUM_GENERATIONS, max_completion_length=MAX_COMPLETION_LENGTH,
                       temperature=TEMPERATURE, reward_weights=REWARD_WEIGHTS, report_to=[], bf16=False, use_cpu=True,
                       logging_steps=1, save_strategy="no", dataloader_num_workers=0, **kwargs)
    trainer = FixedCompletions(model=policy, reward_funcs=[reward_function("exact"), reward_function("format")], args=args,
                               train_dataset=Dataset.from_list([{"prompt": p} for p in PROMPTS]), processing_class=tokenizer())
    if trainer.beta != 0.0:
        reference = LlamaForCausalLM.from_pretrained(os.path.join(HERE, "reference"), torch_dtype=torch.float32).eval()
        for parameter in reference.parameters():
            parameter.requires_grad_(False)
        add_fused_lm_head(reference, temperature=TEMPERATURE)
        trainer.ref_model = reference
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = 1
    return trainer


def one_step(kind, clipped=False, **kwargs):
    trainer = build(kind, **kwargs)
    inputs = [{"prompt": p} for p in PROMPTS for _ in range(NUM_GENERATIONS)]
    batch = trainer._generate_and_score_completions(inputs)
    if clipped:
        ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
        mask = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
        width = batch["completion_ids"].size(1)
        with torch.no_grad():
            current, _, _ = trainer._get_per_token_logps_and_entropies(trainer.model, ids, mask, width)
        shifted = current + padded_offsets(width)
        if kind == "grpo":
            batch["old_per_token_logps"] = shifted
        else:
            batch["old_logps"] = (shifted * batch["completion_mask"]).sum(1)
    trainer.model.zero_grad()
    loss = trainer._compute_loss(trainer.model, batch)
    loss.backward()
    return {"config": {key: value for key, value in kwargs.items()}, "clipped": clipped,
            "advantages": batch["advantages"].view(-1).tolist(), "loss": float(loss.detach()),
            "grad_norm": gradient_norm(trainer.model), "metrics": trainer_metrics(trainer)}


def main():
    torch.set_num_threads(1)
    expected = {"prompts": PROMPTS, "prompt_ids": [tokenizer()(p)["input_ids"] for p in PROMPTS],
                "num_generations": NUM_GENERATIONS, "completion_ids": COMPLETIONS, "rewards": REWARDS,
                "reward_weights": REWARD_WEIGHTS, "temperature": TEMPERATURE, "max_completion_length": MAX_COMPLETION_LENGTH,
                "old_logp_offsets": OFFSETS, "grpo": {}, "rloo": {}}
    for loss_type in ["grpo", "dr_grpo", "dapo", "bnpo"]:
        for beta in [0.0, 0.04]:
            expected["grpo"][f"{loss_type}_beta{beta:g}"] = one_step("grpo", loss_type=loss_type, beta=beta)
        expected["grpo"][f"{loss_type}_clipped"] = one_step("grpo", clipped=True, loss_type=loss_type, beta=0.04,
                                                            epsilon=0.2, epsilon_high=0.28)
    expected["grpo"]["scale_batch"] = one_step("grpo", loss_type="dapo", beta=0.0, scale_rewards="batch")
    expected["grpo"]["dapo_clipped_no_bias_correction"] = one_step("grpo", clipped=True, loss_type="dapo", beta=0.04, epsilon=0.2,
                                                                   epsilon_high=0.28, use_bias_correction_kl=False)
    expected["grpo"]["scale_none"] = one_step("grpo", loss_type="dapo", beta=0.0, scale_rewards="none")
    expected["rloo"]["beta0"] = one_step("rloo", beta=0.0)
    expected["rloo"]["beta0.05"] = one_step("rloo", beta=0.05)
    expected["rloo"]["normalized"] = one_step("rloo", beta=0.05, normalize_advantages=True)
    expected["rloo"]["clipped"] = one_step("rloo", clipped=True, beta=0.05, epsilon=0.2, epsilon_high=0.28)
    with open(os.path.join(HERE, "expected_grpo_rloo.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    for kind in ["grpo", "rloo"]:
        for name, result in expected[kind].items():
            print(kind, name, "loss", result["loss"], "grad_norm", result["grad_norm"])


if __name__ == "__main__":
    main()
