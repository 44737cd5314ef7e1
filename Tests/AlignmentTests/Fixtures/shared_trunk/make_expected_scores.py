#!/usr/bin/env python3
"""Loads the three-head reward folder Charter wrote (reward_k3: the TRL fixture's trunk with a score layer of
num_labels 3) with transformers and records its logits for a few right-padded sequences in expected_scores.json,
which SharedTrunkEnsembleTests compares Charter's scores with (|Δ| < 1e-5).

    CHARTER_WRITE_FIXTURES=1 swift test --filter SharedTrunkEnsembleTests   # (re)write reward_k3
    /tmp/ptvenv/bin/python Tests/AlignmentTests/Fixtures/shared_trunk/make_expected_scores.py
"""
import json
import pathlib

import torch
from transformers import AutoModelForSequenceClassification

root = pathlib.Path(__file__).parent
# The same sequences as SharedTrunkEnsembleTests.sequences; 0 is the pad token.
sequences = [[5, 17, 42, 99, 3], [7, 8], [300, 2, 11, 12, 13, 14, 15], [1000]]

model = AutoModelForSequenceClassification.from_pretrained(root / "reward_k3", attn_implementation="eager", dtype=torch.float32).eval()
assert model.config.num_labels == 3, model.config.num_labels
assert model.config.id2label == {0: "member-1", 1: "member-2", 2: "member-3"}, model.config.id2label
pad = model.config.pad_token_id
width = max(len(s) for s in sequences)
ids = torch.tensor([s + [pad] * (width - len(s)) for s in sequences])
with torch.no_grad():
    # No attention mask, as Charter scores: right padding cannot reach the pooled (last non-pad) token.
    logits = model(input_ids=ids).logits
assert logits.shape == (len(sequences), 3), logits.shape
# Each sequence alone gives the same row (the pooling rule picks the last non-pad token).
for index, sequence in enumerate(sequences):
    with torch.no_grad():
        alone = model(input_ids=torch.tensor([sequence])).logits[0]
    assert torch.allclose(alone, logits[index], atol=1e-6), (index, alone, logits[index])
(root / "expected_scores.json").write_text(json.dumps({
    "ids": sequences,
    "scores": logits.tolist(),
    "transformers": __import__("transformers").__version__,
}, indent=1) + "\n")
print(f"{type(model).__name__}: logits {tuple(logits.shape)}, written to expected_scores.json")
