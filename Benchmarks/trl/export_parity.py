"""One recipe, two trainers: a Charter recipe runs in Charter, is exported with `charter export trl`, runs in TRL 1.16
from the exported folder (its own launch.sh), and the exported config runs in Charter again; the per-step training
losses (read from the TensorBoard event files both write with `report_to: tensorboard`) must agree within 1e-4
relative, for SFT, DPO and the reward model, with `train_sampling_strategy: sequential` in both. Then a pipeline
whose DPO stage has `backend: trl` runs TRL as a subprocess, and its next stage samples from the model TRL saved.

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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--charter", default=os.path.join(ROOT, ".build/debug/charter"))
    parser.add_argument("--workdir", default="/tmp/charter-export")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=2,
                        help="per_device_train_batch_size; 4 makes every epoch's last batch short (6 examples)")
    parser.add_argument("--accumulation", type=int, default=1, help="gradient_accumulation_steps")
    parser.add_argument("--trainers", default="sft,dpo,reward")
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
    trainers = {
        "sft": (os.path.join(FIXTURES, "policy"), sft_data),
        "dpo": (os.path.join(FIXTURES, "policy"), os.path.join(FIXTURES, "preference_standard.jsonl")),
        "reward": (os.path.join(FIXTURES, "reward"), os.path.join(FIXTURES, "preference_standard.jsonl")),
    }
    failed = False
    for trainer, (model, data) in trainers.items():
        if trainer not in args.trainers.split(","):
            continue
        work = os.path.join(args.workdir, trainer)
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
""")
        run([charter, trainer, "--config", recipe, "--output-dir", os.path.join(work, "charter")], work,
            os.path.join(work, "charter.log"), os.path.join(work, "tb-charter"))
        export = os.path.join(work, "export")
        run([charter, "export", "trl", trainer, "--config", recipe, "--output", export, "--cpu"], work,
            os.path.join(work, "export.log"), os.path.join(work, "unused"))
        run(["bash", os.path.join(export, "launch.sh")], work, os.path.join(work, "trl.log"), os.path.join(work, "tb-trl"))
        run([charter, trainer, "--config", "config.yaml", "--output-dir", "charter-output"], export,
            os.path.join(work, "charter-exported.log"), os.path.join(work, "tb-charter-exported"))
        reference = losses(os.path.join(work, "tb-trl"))
        for name in ["charter", "charter-exported"]:
            ours = losses(os.path.join(work, "tb-" + name))
            if sorted(ours) != sorted(reference):
                print(f"{trainer} {name}: logged steps {sorted(ours)} but TRL logged {sorted(reference)}")
                failed = True
                continue
            worst = max(abs(ours[step] - reference[step]) / max(abs(reference[step]), 1e-12) for step in reference)
            verdict = "ok" if worst <= TOLERANCE else "FAIL"
            failed |= worst > TOLERANCE
            print(f"{trainer:6} {name:16} {len(reference)} steps, loss {reference[1]:.6f} → {reference[max(reference)]:.6f} (TRL), "
                  f"largest relative difference {worst:.2e} [{verdict}]")
    if args.no_pipeline:
        sys.exit(1 if failed else 0)
    # A pipeline whose DPO stage TRL trains; the next stage samples from TRL's model.
    work = os.path.join(args.workdir, "pipeline")
    os.makedirs(work)
    with open(os.path.join(work, "prompts.jsonl"), "w") as out:
        for pair in pairs:
            out.write(json.dumps({"prompt": pair["prompt"]}) + "\n")
    with open(os.path.join(work, "pipeline.yaml"), "w") as out:
        out.write(f"""name: trl-backend
seed: 3
stages:
  - {{name: dpo, type: dpo, model: {trainers['dpo'][0]}, dataset: {trainers['dpo'][1]}, backend: trl,
     training: {{max_steps: 3, per_device_train_batch_size: 2, logging_steps: 1, use_cpu: true, bf16: false}}}}
  - {{name: samples, type: sample, model: "stage:dpo", prompts: prompts.jsonl, sampling: {{max_tokens: 8}}}}
""")
    run([charter, "pipeline", "pipeline.yaml", "--run-directory", "run"], work, os.path.join(work, "pipeline.log"), os.path.join(work, "unused"))
    manifest = json.load(open(os.path.join(work, "run/manifest.json")))
    stages = {stage["name"]: stage for stage in manifest["stages"]}
    samples = sum(1 for _ in open(os.path.join(work, "run/samples/samples.jsonl")))
    pipeline_ok = all(stage["status"] == "complete" for stage in stages.values()) and samples == len(pairs)
    failed |= not pipeline_ok
    print(f"pipeline: dpo stage trained by TRL ({int(stages['dpo']['counts']['steps'])} steps, loss {stages['dpo']['counts']['loss']:.6f}), "
          f"{samples} samples from its model [{'ok' if pipeline_ok else 'FAIL'}]")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
