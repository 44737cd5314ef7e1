#!/usr/bin/env python3
"""PEFT LoRA adapters with reference logits for Charter's LoRA tests, and the reverse check.

Run (from the repository root):

    python3 Tests/LanguageModelsTests/Fixtures/lora/make_lora.py

Versions used: peft 0.21.2, transformers 5.24.0, torch 2.15 (CPU, float32, eager attention).

PEFT -> Charter (always)
------------------------
For each adapter in ADAPTERS this loads the tiny base checkpoint from ../checkpoints/<base>, wraps it with
get_peft_model(LoraConfig(...)), redraws every lora_A and lora_B from a seeded generator (PEFT's default B = 0
would make the adapter a no-op and the test unable to fail):
    lora_A ~ N(0, 1/in),  lora_B ~ N(0, 1/r)       (torch.manual_seed(SEED) right before, in named_parameters order)
and writes peft/<name>/ with exactly what PeftModel.save_pretrained writes (adapter_config.json,
adapter_model.safetensors; the generated model card README.md is removed; base_model_name_or_path is set to the
checkpoint's folder name instead of this machine's path; target_modules is sorted, as PEFT writes a set in hash
order) plus reference.json:
    input_ids      (1, T) = the "single" input of ../make_checkpoints.py (SEQ_A, 16 ids, no padding)
    logits         (1, T, vocab) of the adapted model in eval mode (dropout off)
    merged_logits  (1, T, vocab) of merge_and_unload() of a fresh copy (asserted close to `logits`: atol 1e-4, rtol 1e-5)
    base_logits    (1, T, vocab) with the adapter disabled (PeftModel.disable_adapter())
    loss           model(input_ids, labels=input_ids).loss: mean next-token cross-entropy over the T-1 shifted
                   positions, in eval mode (dropout off)
    gradients      {saved tensor name: {shape, data}}: d loss / d every lora_A and lora_B, keyed like
                   adapter_model.safetensors (for GPT-2's c_attn, lora_B's gradient spans q, k, v)
Floats are the shortest decimal that round-trips to the float32 value (parse as Float).

Charter -> PEFT (when a Charter-written adapter is committed)
-------------------------------------------------------------
charter_written/<name>/ holds an adapter folder written by Charter (adapter_config.json +
adapter_model.safetensors) and charter_logits.json ({"base": ..., "input_ids": [[...]], "logits": {shape, data}})
with the logits Charter computed for the adapted model. It is (re)written by the Swift test helper

    CHARTER_WRITE_LORA_FIXTURES=1 swift test --filter LoRATests/testWriteCharterAdapterFixtures

and this script then loads each folder with PeftModel.from_pretrained(base, folder) and asserts PEFT's logits
equal Charter's within 1e-4 (absolute, scaled by max(1, |x|)), printing the maximum difference.
"""

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import peft
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import AutoModelForCausalLM

HERE = Path(__file__).resolve().parent
CHECKPOINTS = HERE.parent / "checkpoints"
SEQ_A = [1, 17, 42, 5, 88, 23, 61, 9, 33, 70, 14, 51, 27, 90, 3, 46]
SEED = 1234

# name -> (base checkpoint, LoraConfig arguments)
ADAPTERS = {
    # Every linear layer of a GQA Llama (q/k/v of different widths), plain alpha / r scaling.
    "llama_gqa": ("llama_gqa", dict(r=4, lora_alpha=8, lora_dropout=0.05,
                                    target_modules=["q_proj", "k_proj", "v_proj", "o_proj",
                                                    "gate_proj", "up_proj", "down_proj"])),
    # A regex target (full match) on a subset of modules.
    "llama_gqa_regex": ("llama_gqa", dict(r=2, lora_alpha=4, lora_dropout=0.0,
                                          target_modules=r".*\.(q_proj|v_proj)")),
    # GPT-2 Conv1D: fused c_attn (lora_B spans q, k, v), both c_proj (attention and MLP), c_fc; rsLoRA scaling.
    "gpt2": ("gpt2", dict(r=4, lora_alpha=8, lora_dropout=0.1, use_rslora=True, fan_in_fan_out=True,
                          target_modules=["c_attn", "c_proj", "c_fc"])),
}


def floats(tensor):
    return [float(str(np.float32(v))) for v in tensor.detach().reshape(-1).tolist()]


def stored(tensor):
    return {"shape": list(tensor.shape), "data": floats(tensor)}


def dump(path, value):
    # Python's json writes repr(float), the shortest decimal for the double, which equals the float32 string here.
    path.write_text(json.dumps(value, separators=(",", ":")) + "\n")


def base_model(name):
    model = AutoModelForCausalLM.from_pretrained(CHECKPOINTS / name, attn_implementation="eager",
                                                 dtype=torch.float32)
    return model.eval()


@torch.no_grad()
def logits_of(model, ids):
    return model(input_ids=torch.tensor(ids)).logits.float()


def make_peft_adapter(name, base, arguments):
    model = get_peft_model(base_model(base), LoraConfig(task_type="CAUSAL_LM", **arguments))
    torch.manual_seed(SEED)
    with torch.no_grad():
        for parameter_name, parameter in model.named_parameters():
            if "lora_A" in parameter_name:
                parameter.copy_(torch.randn_like(parameter) / parameter.shape[1] ** 0.5)
            elif "lora_B" in parameter_name:
                parameter.copy_(torch.randn_like(parameter) / parameter.shape[1] ** 0.5)
    model.eval()
    ids = [SEQ_A]
    logits = logits_of(model, ids)
    with model.disable_adapter():
        base_logits = logits_of(model, ids)
    assert (logits - base_logits).abs().max() > 1e-2, "adapter changes nothing: the test could not fail"
    model.zero_grad()
    loss = model(input_ids=torch.tensor(ids), labels=torch.tensor(ids)).loss
    loss.backward()
    gradients = {parameter_name.replace(".default.", "."): stored(parameter.grad)
                 for parameter_name, parameter in model.named_parameters() if parameter.requires_grad}
    model.zero_grad()

    folder = HERE / "peft" / name
    shutil.rmtree(folder, ignore_errors=True)
    model.peft_config["default"].base_model_name_or_path = base
    model.save_pretrained(folder)
    (folder / "README.md").unlink(missing_ok=True)
    # PEFT keeps target_modules as a set, written in hash order; sort it so reruns give identical files.
    config_path = folder / "adapter_config.json"
    config = json.loads(config_path.read_text())
    if isinstance(config["target_modules"], list):
        config["target_modules"] = sorted(config["target_modules"])
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True))

    merged = copy.deepcopy(model).merge_and_unload().eval()
    merged_logits = logits_of(merged, ids)
    assert torch.allclose(merged_logits, logits, atol=1e-4, rtol=1e-5), (merged_logits - logits).abs().max()

    # The saved folder reloads in PEFT with the same logits.
    reloaded = PeftModel.from_pretrained(base_model(base), folder).eval()
    assert torch.allclose(logits_of(reloaded, ids), logits, atol=1e-6)

    dump(folder / "reference.json", {"base": base, "input_ids": ids, "logits": stored(logits),
                                     "merged_logits": stored(merged_logits), "base_logits": stored(base_logits),
                                     "loss": float(str(np.float32(loss.item()))), "gradients": gradients})
    print(f"peft/{name}: {sorted(p.name for p in folder.iterdir())}, "
          f"max |adapted - base| = {(logits - base_logits).abs().max():.4f}")


def check_charter_adapter(folder):
    recorded = json.loads((folder / "charter_logits.json").read_text())
    model = PeftModel.from_pretrained(base_model(recorded["base"]), folder).eval()
    logits = logits_of(model, recorded["input_ids"])
    expected = torch.tensor(recorded["logits"]["data"]).reshape(recorded["logits"]["shape"])
    with model.disable_adapter():
        base_logits = logits_of(model, recorded["input_ids"])
    assert (expected - base_logits).abs().max() > 1e-2, f"{folder.name}: Charter's adapter changes nothing"
    difference = ((logits - expected).abs() / expected.abs().clamp(min=1)).max().item()
    assert difference <= 1e-4, f"{folder.name}: PEFT and Charter logits differ by {difference}"
    print(f"charter_written/{folder.name}: PEFT matches Charter's logits, max scaled difference {difference:.2e}")


def main():
    print(f"peft {peft.__version__}, torch {torch.__version__}")
    for name, (base, arguments) in ADAPTERS.items():
        make_peft_adapter(name, base, arguments)
    written = HERE / "charter_written"
    for folder in sorted(written.iterdir()) if written.exists() else []:
        if (folder / "charter_logits.json").exists():
            check_charter_adapter(folder)


if __name__ == "__main__":
    main()
