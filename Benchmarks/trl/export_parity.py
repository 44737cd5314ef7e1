"""One recipe, two trainers: a Charter recipe runs in Charter, is exported with `charter export trl`, runs in TRL 1.16
from the exported folder (its own launch.sh), and the exported config runs in Charter again; the per-step training
losses (read from the TensorBoard event files both write with `report_to: tensorboard`) must agree within 1e-4
relative, for SFT, DPO and the reward model, with `train_sampling_strategy: sequential` in both. Then a pipeline
whose DPO stage has `backend: trl` runs TRL as a subprocess, its next stage samples from the model TRL saved, and a
GRPO stage with `backend: trl` trains that model further in TRL, rewarded by exact-match and the reward model folder.

Chat templates: every built-in `chat_template_name` is exported (chat_template.jinja) and transformers'
`apply_chat_template` with that file must give the texts Charter's native renderer gives (the texts of
Tests/LanguageModelsTests/Fixtures/chat/expected.json, which ChatTemplateTests holds Charter to), with a tokenizer that
defines no special tokens of the family; and conversational SFT (llama3: TRL reads chat_template_path) and DPO (gemma:
TRL's DPOConfig has no chat_template_path, so the export's model/ folder carries the template) train with equal losses.

GRPO and RLOO: a recipe with Charter's exact-match and length rewards is exported (charter_rewards.py) and TRL trains
it for a few steps on the CPU; the run must complete and log the rewards under Charter's metric names, and the exported
config must run in Charter too. The losses are not compared: the completions are sampled, and Charter's sampler is
not torch's.

Uses the tiny TRL parity fixtures of Tests/AlignmentTests/Fixtures/trl (random Llama policy, its sequence-classifier
reward model, six preference pairs; the SFT rows are the pairs' prompt and chosen completion). CPU, float32.

    pip install "trl==1.16.0" tensorboard
    swift build --product charter
    python3 Benchmarks/trl/export_parity.py --charter .build/debug/charter --workdir /tmp/charter-export
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../.."))
FIXTURES = os.path.join(ROOT, "Tests/AlignmentTests/Fixtures/trl")
TOLERANCE = 1e-4


def losses(folder):
    """train/loss by step from the one event file under folder."""
    files = glob.glob(os.path.join(folder, "**", "events.out.tfevents.*"), recursive=True)
    if len(files) != 1:
        sys.exit(f"expected one event file under {folder}, found {files}")
    events = EventAccumulator(files[0])
    events.Reload()
    return {event.step: event.value for event in events.Scalars("train/loss")}


def run(command, cwd, log, tensorboard):
    environment = dict(os.environ, TENSORBOARD_LOGGING_DIR=tensorboard, TOKENIZERS_PARALLELISM="false")
    with open(log, "w") as out:
        status = subprocess.run(command, cwd=cwd, env=environment, stdout=out, stderr=subprocess.STDOUT).returncode
    if status != 0:
        sys.exit(f"{' '.join(command)} failed ({status}); see {log}")


def check_templates(charter, workdir):
    """Each built-in format's exported chat_template.jinja, run by transformers, renders the fixture's conversations
    as Charter does, with the policy's tokenizer (which defines no bos_token: the export's preamble supplies the
    family's, as Charter's native renderer does)."""
    from transformers import AutoTokenizer

    expected = json.load(open(os.path.join(ROOT, "Tests/LanguageModelsTests/Fixtures/chat/expected.json")))
    tokenizer = AutoTokenizer.from_pretrained(os.path.join(FIXTURES, "policy"))
    work = os.path.join(workdir, "templates")
    os.makedirs(work)
    chats = os.path.join(work, "chats.jsonl")
    with open(chats, "w") as out:
        out.write(json.dumps({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]}) + "\n")
    compared, mismatches, names = 0, [], []
    for family in expected["families"]:
        name = family["family"]
        export = os.path.join(work, name)
        if not os.path.exists(export):
            run([charter, "export", "trl", "sft", "--model", os.path.join(FIXTURES, "policy"), "--dataset", chats,
                 "--chat-template", name, "--output", export], work, os.path.join(work, f"{name}.log"), os.path.join(work, "unused"))
            names.append(name)
        source = open(os.path.join(export, "chat_template.jinja")).read()
        kwargs = {key: family[key] for key in ["date_string", "enable_thinking"] if family.get(key) is not None}
        # The policy's tokenizer has an eos_token of its own (Charter would use it too): give the family's, which the
        # fixture texts hold. Its bos_token stays undefined, so the export's preamble supplies the family's.
        if family.get("eos"):
            kwargs["eos_token"] = family["eos"]
        for conversation, cases in family["cases"].items():
            messages = expected["conversations"][conversation]
            for generation_prompt, case in zip([False, True], cases * 2 if len(cases) == 1 else cases):
                if case.get("text") is None:
                    continue
                text = tokenizer.apply_chat_template(messages, chat_template=source, tokenize=False,
                                                     add_generation_prompt=generation_prompt, **kwargs)
                compared += 1
                if text != case["text"]:
                    mismatches.append(f"{name} {conversation} add_generation_prompt={generation_prompt}: {text!r} != {case['text']!r}")
    for line in mismatches[:10]:
        print("  " + line)
    ok = not mismatches and compared > 0
    print(f"templates  {len(names)} built-in formats exported; transformers renders {compared - len(mismatches)}/{compared} "
          f"conversations as Charter does [{'ok' if ok else 'FAIL'}]")
    return ok


def check_rollout(charter, trainer, workdir):
    """A GRPO/RLOO recipe with Charter's exact-match and length rewards runs in TRL from its export."""
    work = os.path.join(workdir, trainer)
    os.makedirs(work)
    prompts = os.path.join(work, "arithmetic.jsonl")
    with open(prompts, "w") as out:
        for a, b in [(2, 3), (4, 1), (7, 5), (6, 6), (9, 2), (3, 8), (5, 5), (1, 9)]:
            out.write(json.dumps({"prompt": f"{a} + {b} =", "answer": a + b}) + "\n")
    recipe = os.path.join(work, "recipe.yaml")
    with open(recipe, "w") as out:
        out.write(f"""model_name_or_path: {os.path.join(FIXTURES, "policy")}
dataset_name: {prompts}
reward_funcs: [exact-match, length]
num_generations: 4
max_completion_length: 8
per_device_train_batch_size: 4
max_steps: 3
learning_rate: 1.0e-3
logging_steps: 1
save_strategy: "no"
seed: 42
report_to: tensorboard
""")
    export = os.path.join(work, "export")
    run([charter, "export", "trl", trainer, "--config", recipe, "--output", export, "--cpu"], work,
        os.path.join(work, "export.log"), os.path.join(work, "unused"))
    run(["bash", os.path.join(export, "launch.sh")], work, os.path.join(work, "trl.log"), os.path.join(work, "tb-trl"))
    # The exported config runs in Charter too (charter_rewards.exact_match and .length are its own rewards).
    run([charter, trainer, "--config", "config.yaml", "--output-dir", "charter-output"], export,
        os.path.join(work, "charter-exported.log"), os.path.join(work, "tb-charter-exported"))
    files = glob.glob(os.path.join(work, "tb-trl", "**", "events.out.tfevents.*"), recursive=True)
    events = EventAccumulator(files[0])
    events.Reload()
    tags = events.Tags()["scalars"]
    wanted = ["train/rewards/exact_match/mean", "train/rewards/length/mean", "train/loss"]
    steps = len(events.Scalars("train/loss")) if "train/loss" in tags else 0
    ok = all(tag in tags for tag in wanted) and os.path.exists(os.path.join(export, "output", "model.safetensors"))
    rewards = {tag.split("/")[2]: events.Scalars(tag)[-1].value for tag in wanted[:2] if tag in tags}
    ok &= os.path.exists(os.path.join(export, "charter-output", "model.safetensors"))
    print(f"{trainer:10} TRL ran the export: {steps} logged steps, last rewards {rewards}, model saved; Charter ran the exported config "
          f"[{'ok' if ok else 'FAIL: missing ' + str([tag for tag in wanted if tag not in tags])}]")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--charter", default=os.path.join(ROOT, ".build/debug/charter"))
    parser.add_argument("--workdir", default="/tmp/charter-export")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=2,
                        help="per_device_train_batch_size; 4 makes every epoch's last batch short (6 examples)")
    parser.add_argument("--accumulation", type=int, default=1, help="gradient_accumulation_steps")
    parser.add_argument("--trainers", default="sft,dpo,reward,sft-llama3,dpo-gemma,templates,grpo,rloo")
    parser.add_argument("--no-pipeline", action="store_true")
    args = parser.parse_args()
    charter = os.path.abspath(args.charter)
    shutil.rmtree(args.workdir, ignore_errors=True)
    os.makedirs(args.workdir)
    pairs = [json.loads(line) for line in open(os.path.join(FIXTURES, "preference_standard.jsonl"))]
    sft_data = os.path.join(args.workdir, "sft.jsonl")
    with open(sft_data, "w") as out:
        for pair in pairs:
            out.write(json.dumps({"prompt": pair["prompt"], "completion": pair["chosen"]}) + "\n")
    conversations = [json.loads(line) for line in open(os.path.join(FIXTURES, "preference_conversational.jsonl"))]
    chat_data = os.path.join(args.workdir, "sft-chat.jsonl")
    with open(chat_data, "w") as out:
        for pair in conversations:
            out.write(json.dumps({"messages": pair["prompt"] + pair["chosen"]}) + "\n")
    # name: (trainer, model, data, chat_template_name)
    trainers = {
        "sft": ("sft", os.path.join(FIXTURES, "policy"), sft_data, None),
        "dpo": ("dpo", os.path.join(FIXTURES, "policy"), os.path.join(FIXTURES, "preference_standard.jsonl"), None),
        "reward": ("reward", os.path.join(FIXTURES, "reward"), os.path.join(FIXTURES, "preference_standard.jsonl"), None),
        "sft-llama3": ("sft", os.path.join(FIXTURES, "policy"), chat_data, "llama3"),
        "dpo-gemma": ("dpo", os.path.join(FIXTURES, "policy"), os.path.join(FIXTURES, "preference_conversational.jsonl"), "gemma"),
    }
    selected = args.trainers.split(",")
    failed = False
    if "templates" in selected:
        failed |= not check_templates(charter, args.workdir)
    for rollout in ["grpo", "rloo"]:
        if rollout in selected:
            failed |= not check_rollout(charter, rollout, args.workdir)
    for name, (trainer, model, data, template) in trainers.items():
        if name not in selected:
            continue
        work = os.path.join(args.workdir, name)
        os.makedirs(work)
        recipe = os.path.join(work, "recipe.yaml")
        with open(recipe, "w") as out:
            out.write(f"""model_name_or_path: {model}
dataset_name: {data}
max_steps: {args.steps}
per_device_train_batch_size: {args.batch_size}
gradient_accumulation_steps: {args.accumulation}
learning_rate: 1.0e-3
lr_scheduler_type: linear
logging_steps: 1
save_strategy: "no"
seed: 42
train_sampling_strategy: sequential
report_to: tensorboard
""" + (f"chat_template_name: {template}\n" if template else ""))
        run([charter, trainer, "--config", recipe, "--output-dir", os.path.join(work, "charter")], work,
            os.path.join(work, "charter.log"), os.path.join(work, "tb-charter"))
        export = os.path.join(work, "export")
        run([charter, "export", "trl", trainer, "--config", recipe, "--output", export, "--cpu"], work,
            os.path.join(work, "export.log"), os.path.join(work, "unused"))
        run(["bash", os.path.join(export, "launch.sh")], work, os.path.join(work, "trl.log"), os.path.join(work, "tb-trl"))
        run([charter, trainer, "--config", "config.yaml", "--output-dir", "charter-output"], export,
            os.path.join(work, "charter-exported.log"), os.path.join(work, "tb-charter-exported"))
        reference = losses(os.path.join(work, "tb-trl"))
        label = name
        for name in ["charter", "charter-exported"]:
            ours = losses(os.path.join(work, "tb-" + name))
            if sorted(ours) != sorted(reference):
                print(f"{label} {name}: logged steps {sorted(ours)} but TRL logged {sorted(reference)}")
                failed = True
                continue
            worst = max(abs(ours[step] - reference[step]) / max(abs(reference[step]), 1e-12) for step in reference)
            verdict = "ok" if worst <= TOLERANCE else "FAIL"
            failed |= worst > TOLERANCE
            print(f"{label:10} {name:16} {len(reference)} steps, loss {reference[1]:.6f} → {reference[max(reference)]:.6f} (TRL), "
                  f"largest relative difference {worst:.2e} [{verdict}]")
    if args.no_pipeline or "dpo" not in selected:
        sys.exit(1 if failed else 0)
    # A pipeline whose DPO stage TRL trains; the next stage samples from TRL's model.
    work = os.path.join(args.workdir, "pipeline")
    os.makedirs(work)
    with open(os.path.join(work, "prompts.jsonl"), "w") as out:
        for pair in pairs:
            out.write(json.dumps({"prompt": pair["prompt"]}) + "\n")
    with open(os.path.join(work, "arithmetic.jsonl"), "w") as out:
        for a, b in [(2, 3), (4, 1), (7, 5), (6, 6)]:
            out.write(json.dumps({"prompt": f"{a} + {b} =", "answer": a + b}) + "\n")
    with open(os.path.join(work, "pipeline.yaml"), "w") as out:
        out.write(f"""name: trl-backend
seed: 3
stages:
  - {{name: dpo, type: dpo, model: {trainers['dpo'][1]}, dataset: {trainers['dpo'][2]}, backend: trl,
     training: {{max_steps: 3, per_device_train_batch_size: 2, logging_steps: 1, use_cpu: true, bf16: false}}}}
  - {{name: samples, type: sample, model: "stage:dpo", prompts: prompts.jsonl, sampling: {{max_tokens: 8}}}}
  - {{name: grpo, type: grpo, model: "stage:dpo", prompts: arithmetic.jsonl, reward_model: {os.path.join(FIXTURES, "reward")}, backend: trl,
     training: {{reward_funcs: [exact-match], reward_weights: [1.0, 0.5], num_generations: 2, per_device_train_batch_size: 2,
                max_completion_length: 8, max_steps: 2, logging_steps: 1, use_cpu: true, bf16: false}}}}
""")
    run([charter, "pipeline", "pipeline.yaml", "--run-directory", "run"], work, os.path.join(work, "pipeline.log"), os.path.join(work, "unused"))
    manifest = json.load(open(os.path.join(work, "run/manifest.json")))
    stages = {stage["name"]: stage for stage in manifest["stages"]}
    samples = sum(1 for _ in open(os.path.join(work, "run/samples/samples.jsonl")))
    pipeline_ok = all(stage["status"] == "complete" for stage in stages.values()) and samples == len(pairs)
    failed |= not pipeline_ok
    grpo = stages["grpo"]["counts"]
    print(f"pipeline: dpo stage trained by TRL ({int(stages['dpo']['counts']['steps'])} steps, loss {stages['dpo']['counts']['loss']:.6f}), "
          f"{samples} samples from its model; grpo stage trained by TRL from the dpo stage's model ({int(grpo['steps'])} steps, "
          f"reward {grpo.get('reward', float('nan')):.4f}) [{'ok' if pipeline_ok else 'FAIL'}]")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
