#!/usr/bin/env python3
"""Loads every folder Charter wrote (Tests/LanguageModelsTests/Fixtures/charter_saved/*) with transformers and checks
that its logits equal the logits Charter recorded in charter_logits.json (max abs difference < 1e-4).

    CHARTER_WRITE_FIXTURES=1 swift test --filter SavedCheckpointFixtureTests   # (re)write the folders
    python3 Tests/LanguageModelsTests/Fixtures/charter_saved/verify_with_transformers.py
"""
import json
import pathlib
import sys

import torch
from transformers import AutoModelForCausalLM

root = pathlib.Path(__file__).parent
failures = 0
for folder in sorted(p for p in root.iterdir() if p.is_dir()):
    record = json.loads((folder / "charter_logits.json").read_text())
    model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32).eval()
    with torch.no_grad():
        logits = model(torch.tensor([record["ids"]])).logits
    expected = torch.tensor(record["logits"], dtype=torch.float32).reshape(record["shape"])
    difference = (logits - expected).abs().max().item()
    status = "ok" if difference < 1e-4 else "MISMATCH"
    failures += status != "ok"
    print(f"{folder.name}: {type(model).__name__}, max |Δlogit| = {difference:.2e} {status}")
sys.exit(1 if failures else 0)
