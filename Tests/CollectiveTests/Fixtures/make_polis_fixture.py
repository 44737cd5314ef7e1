#!/usr/bin/env python3
"""Writes polis-planted/: a Polis-format export (comments.csv, participants-votes.csv, as Polis's openData exports
lay them out) of a planted two-group conversation, and expected.json with numpy's reference values for it.

Planted: 24 participants in two groups of 12; 10 statements. Statements 1-3 both groups agree with (consensus);
4-6 group A agrees and B disagrees; 7-9 the reverse; 10 everyone passes or skips. Each vote is flipped to a random
other value with probability 0.1 and left blank with probability 0.15 (seed 7). Statement 11 is rejected by the
moderator (moderated -1) and must be ignored.

expected.json holds what OpinionAnalysis must reproduce, computed here independently with numpy:
  - the PCA projections (blanks imputed with the statement's mean vote, centred, SVD; axis signs fixed so each
    axis's largest-magnitude entry is positive; each row scaled by sqrt(statements / statements voted)),
  - the explained-variance shares of the two components,
  - per statement, with the planted groups, the group agreements (agrees+1)/(votes+2) and their product.
Usage: python3 make_polis_fixture.py   (from this folder)
"""
import csv
import json
import os

import numpy as np

rng = np.random.default_rng(7)
GROUP = 12
STATEMENTS = [
    "The AI should tell the truth, even when it is unwelcome.",
    "The AI should not help anyone hurt other people.",
    "The AI should say when it is unsure, rather than guess.",
    "The AI should put the interests of the collective first.",
    "The AI should refuse to discuss politics.",
    "The AI should follow local laws, \"whatever they are\", without question.",
    "The AI should put the individual's freedom first.",
    "The AI should discuss any topic a user asks about, politics included.",
    "The AI should, above all, respect a user's own judgement.",
    "The AI should prefer British spelling.",
]
planted = {1: (1, 1), 2: (1, 1), 3: (1, 1), 4: (1, -1), 5: (1, -1), 6: (1, -1), 7: (-1, 1), 8: (-1, 1), 9: (-1, 1), 10: (0, 0)}

participants = list(range(2 * GROUP))
groups = [0] * GROUP + [1] * GROUP
votes = np.full((len(participants), len(STATEMENTS)), np.nan)
for p in participants:
    for s in range(len(STATEMENTS)):
        if rng.random() < 0.15:
            continue
        value = planted[s + 1][groups[p]]
        if rng.random() < 0.1:
            value = rng.choice([v for v in (1, -1, 0) if v != value])
        votes[p, s] = value

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "polis-planted")
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "comments.csv"), "w", newline="") as handle:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(["timestamp", "datetime", "comment-id", "author-id", "agrees", "disagrees", "moderated", "comment-body"])
    for s, text in enumerate(STATEMENTS):
        column = votes[:, s]
        writer.writerow([1700000000000 + s, "Tue Nov 14 2023", s + 1, s % 5, int((column == 1).sum()), int((column == -1).sum()), 1, text])
    writer.writerow([1700000000099, "Tue Nov 14 2023", 11, 3, 0, 0, -1, "A rejected statement, with a comma."])
with open(os.path.join(out, "participants-votes.csv"), "w", newline="") as handle:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(["participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree"] + [str(s + 1) for s in range(len(STATEMENTS))] + ["11"])
    for p in participants:
        row = votes[p]
        cells = ["" if np.isnan(v) else str(int(v)) for v in row]
        writer.writerow([p, "", 0, int((~np.isnan(row)).sum()), int((row == 1).sum()), int((row == -1).sum())] + cells + [""])

# Reference analysis.
means = np.nanmean(votes, axis=0)
imputed = np.where(np.isnan(votes), means, votes)
centred = imputed - means
_, singular, vt = np.linalg.svd(centred, full_matrices=False)
axes = vt[:2]
for i in range(2):
    if axes[i][np.argmax(np.abs(axes[i]))] < 0:
        axes[i] = -axes[i]
voted = (~np.isnan(votes)).sum(axis=1)
projection = (centred @ axes.T) * np.sqrt(len(STATEMENTS) / voted)[:, None]
total = (centred ** 2).sum()
statements = []
for s in range(len(STATEMENTS)):
    agreement = []
    for g in (0, 1):
        column = votes[np.array(groups) == g, s]
        cast = column[~np.isnan(column)]
        agreement.append(float(((cast == 1).sum() + 1) / (len(cast) + 2)))
    statements.append({"id": str(s + 1), "group_agreement": agreement, "consensus": float(np.prod(agreement))})
expected = {
    "planted_groups": groups,
    "projection": projection.tolist(),
    "explained_variance": (singular[:2] ** 2 / total).tolist(),
    "statements": statements,
    "consensus_statements": ["1", "2", "3"],
}
with open(os.path.join(out, "expected.json"), "w") as handle:
    json.dump(expected, handle, indent=1)
    handle.write("\n")
print("wrote", out)
