"""TRL parity fixtures for Charter's DPO and reward trainers.

Run from the repository root (CPU, float32; TRL 1.16, transformers 5.x):

    python3 Tests/AlignmentTests/Fixtures/trl/make_fixtures.py

Writes, next to this script:
  policy/, reference/          tiny random Llama causal LMs (different seeds) with the GPT-2 fixture tokenizer
                               (eos = pad = <|endoftext|>, a ChatML chat template)
  reward/, reward_gpt2/        tiny sequence-classification models (num_labels = 1): Llama initialised from policy/
                               with a seeded score head, and a GPT-2
  *.jsonl                      the preference datasets
  expected.json                TRL's DPOTrainer.evaluate() / RewardTrainer.evaluate() metrics per scenario, and
                               transformers' scores of fixed texts under both reward models

`--check-charter-folder DIR` instead loads a reward folder written by Charter (`charter reward`) with
AutoModelForSequenceClassification and prints its scores of the fixture texts as JSON (compare with Charter's).
"""
import json
import os
import shutil
import sys
import tempfile

import torch
from datasets import Dataset
from transformers import (AutoModelForSequenceClassification, GPT2Config, GPT2ForSequenceClassification, LlamaConfig,
                          LlamaForCausalLM, PreTrainedTokenizerFast)
from trl import DPOConfig, DPOTrainer, RewardConfig, RewardTrainer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../../../.."))
TOKENIZER_JSON = os.path.join(ROOT, "Tests/TokenizersTests/Fixtures/gpt2/tokenizer.json")
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")

SCORE_TEXTS = [
    "The sky is blue.<|endoftext|>",
    "The sky is green",
    "Question: what is two plus two? Answer: four<|endoftext|>",
    "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello there!<|im_end|>\n",
]


def tokenizer():
    t = PreTrainedTokenizerFast(tokenizer_file=TOKENIZER_JSON, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    t.chat_template = CHATML
    return t


def llama(seed):
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=1008, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, max_position_embeddings=256, tie_word_embeddings=True,
                         eos_token_id=0, pad_token_id=0, bos_token_id=None)
    model = LlamaForCausalLM(config)
    # Larger weights than the 0.02 default, so policy and reference differ clearly.
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() == 2:
                parameter.normal_(0, 0.2)
    return model.float().eval()


def standard_pairs():
    prompts = ["The sky is", "Two plus two is", "My favourite animal is the", "Water boils at",
               "The capital of France is", "A haiku about rain:"]
    chosen = [" blue.", " four.", " cat, because it purrs.", " one hundred degrees Celsius at sea level.", " Paris.",
              " soft rain on the roof / the garden drinks it slowly / puddles hold the sky"]
    rejected = [" green and made of cheese.", " five.", " dog", " cold.", " London, obviously, as everyone knows.", " rain rain rain"]
    return [{"prompt": p, "chosen": c, "rejected": r} for p, c, r in zip(prompts, chosen, rejected)]


def implicit_pairs():
    return [{"chosen": x["prompt"] + x["chosen"], "rejected": x["prompt"] + x["rejected"]} for x in standard_pairs()]


def conversational_pairs():
    result = []
    for x in standard_pairs():
        result.append({"prompt": [{"role": "user", "content": "Complete: " + x["prompt"]}],
                       "chosen": [{"role": "assistant", "content": x["chosen"].strip()}],
                       "rejected": [{"role": "assistant", "content": x["rejected"].strip()}]})
    result[1]["prompt"] = [{"role": "system", "content": "Be brief."}] + result[1]["prompt"]
    return result


def write_jsonl(name, rows):
    with open(os.path.join(HERE, name), "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def metrics(result):
    return {k: float(v) for k, v in result.items() if k.startswith("eval_") and not k.endswith(("runtime", "per_second", "preparation_time"))}


def dpo_metrics(policy_dir, reference_dir, rows, **kwargs):
    tok = tokenizer()
    policy = LlamaForCausalLM.from_pretrained(policy_dir, torch_dtype=torch.float32)
    reference = LlamaForCausalLM.from_pretrained(reference_dir, torch_dtype=torch.float32)
    with tempfile.TemporaryDirectory() as out:
        args = DPOConfig(output_dir=out, per_device_eval_batch_size=4, report_to=[], bf16=False, use_cpu=True,
                         gradient_checkpointing=False, dataloader_num_workers=0, **kwargs)
        data = Dataset.from_list(rows)
        trainer = DPOTrainer(model=policy, ref_model=reference, args=args, train_dataset=data, eval_dataset=data,
                             processing_class=tok)
        return metrics(trainer.evaluate())


def reward_metrics(reward_dir, rows, **kwargs):
    tok = tokenizer()
    model = AutoModelForSequenceClassification.from_pretrained(reward_dir, torch_dtype=torch.float32)
    with tempfile.TemporaryDirectory() as out:
        args = RewardConfig(output_dir=out, per_device_eval_batch_size=4, report_to=[], bf16=False, use_cpu=True,
                            gradient_checkpointing=False, dataloader_num_workers=0, **kwargs)
        data = Dataset.from_list(rows)
        trainer = RewardTrainer(model=model, args=args, train_dataset=data, eval_dataset=data, processing_class=tok)
        return metrics(trainer.evaluate())


def scores(model_dir):
    tok = tokenizer()
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, torch_dtype=torch.float32).eval()
    with torch.no_grad():
        return [float(model(**tok(text, return_tensors="pt")).logits[0, 0]) for text in SCORE_TEXTS]


def save(model, name):
    path = os.path.join(HERE, name)
    shutil.rmtree(path, ignore_errors=True)
    model.save_pretrained(path, safe_serialization=True)
    tokenizer().save_pretrained(path)
    return path


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check-charter-folder":
        print(json.dumps({"texts": SCORE_TEXTS, "scores": scores(sys.argv[2])}))
        return
    torch.set_num_threads(1)
    policy_dir = save(llama(1), "policy")
    reference_dir = save(llama(2), "reference")
    torch.manual_seed(3)
    reward = AutoModelForSequenceClassification.from_pretrained(policy_dir, num_labels=1, torch_dtype=torch.float32)
    with torch.no_grad():
        reward.score.weight.normal_(0, 0.5)
    reward.config.pad_token_id = 0
    reward_dir = save(reward, "reward")
    torch.manual_seed(4)
    gpt2 = GPT2ForSequenceClassification(GPT2Config(vocab_size=1008, n_positions=64, n_embd=32, n_layer=2, n_head=4,
                                                    num_labels=1, pad_token_id=0, eos_token_id=0, bos_token_id=0))
    gpt2_dir = save(gpt2.float().eval(), "reward_gpt2")

    write_jsonl("preference_standard.jsonl", standard_pairs())
    write_jsonl("preference_implicit.jsonl", implicit_pairs())
    write_jsonl("preference_conversational.jsonl", conversational_pairs())

    expected = {"dpo": {}, "reward": {}, "scores": {}}
    expected["dpo"]["standard_sigmoid"] = dpo_metrics(policy_dir, reference_dir, standard_pairs(), beta=0.1, loss_type=["sigmoid"])
    expected["dpo"]["standard_ipo_truncated"] = dpo_metrics(policy_dir, reference_dir, standard_pairs(), beta=0.5,
                                                            loss_type=["ipo"], max_length=12)
    expected["dpo"]["implicit_robust"] = dpo_metrics(policy_dir, reference_dir, implicit_pairs(), beta=0.2, loss_type=["robust"],
                                                     label_smoothing=0.1)
    expected["dpo"]["conversational_sigmoid"] = dpo_metrics(policy_dir, reference_dir, conversational_pairs(), beta=0.1,
                                                            loss_type=["sigmoid"])
    expected["dpo"]["standard_hinge_sft"] = dpo_metrics(policy_dir, reference_dir, standard_pairs(), beta=0.1,
                                                        loss_type=["hinge", "sft"], loss_weights=[1.0, 0.5])
    expected["reward"]["standard"] = reward_metrics(reward_dir, standard_pairs())
    expected["reward"]["standard_centered"] = reward_metrics(reward_dir, standard_pairs(), center_rewards_coefficient=0.01)
    expected["reward"]["conversational"] = reward_metrics(reward_dir, conversational_pairs())
    expected["scores"] = {"texts": SCORE_TEXTS, "reward": scores(reward_dir), "reward_gpt2": scores(gpt2_dir)}
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
    print(json.dumps(expected, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
