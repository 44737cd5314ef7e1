"""Checks that transformers loads what `charter merge` writes with the logits of PEFT's merge_and_unload.

For each PEFT adapter in peft/ (made by make_lora.py), runs

    charter merge --model ../checkpoints/<base> --lora peft/<name> --output <tmp>/<name>

loads the folder with transformers' AutoModelForCausalLM (float32) and compares its logits for the fixture's
input_ids with reference.json's merged_logits (PEFT's merge_and_unload of the same adapter). The Swift test
CLITests.testMergingPEFTAdaptersGivesPEFTMergedLogits checks the same folders with Charter's own loader.

    swift build --product charter
    python3 Tests/LanguageModelsTests/Fixtures/lora/check_merge_in_transformers.py [--charter .build/debug/charter]

Needs torch and transformers (not PEFT: its merged logits are in reference.json).
"""
import argparse
import json
import pathlib
import subprocess
import tempfile

import torch
from transformers import AutoModelForCausalLM

HERE = pathlib.Path(__file__).resolve().parent
TOLERANCE = 1e-4  # as make_lora.py's merged-vs-adapted check

parser = argparse.ArgumentParser()
parser.add_argument("--charter", default=str(HERE.parents[3] / ".build/debug/charter"))
arguments = parser.parse_args()

with tempfile.TemporaryDirectory() as directory:
    for adapter in sorted((HERE / "peft").iterdir()):
        reference = json.loads((adapter / "reference.json").read_text())
        output = pathlib.Path(directory) / adapter.name
        subprocess.run([arguments.charter, "merge", "--model", str(HERE.parent / "checkpoints" / reference["base"]),
                        "--lora", str(adapter), "--output", str(output)], check=True, capture_output=True)
        model = AutoModelForCausalLM.from_pretrained(output, dtype=torch.float32).eval()
        with torch.no_grad():
            logits = model(torch.tensor(reference["input_ids"])).logits.flatten()
        difference = (logits - torch.tensor(reference["merged_logits"]["data"])).abs().max().item()
        print(f"{adapter.name}: max |transformers(charter merge) - PEFT merge_and_unload| = {difference:.2e}")
        assert difference < TOLERANCE, adapter.name
