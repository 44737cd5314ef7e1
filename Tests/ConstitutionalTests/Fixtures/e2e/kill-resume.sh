#!/bin/sh
# Recorded end-to-end run of `charter pipeline` on two tiny random Llamas, with kill -9 in the middle of
# `critique` and of `label`; the resumed run's outputs must equal an uninterrupted run's byte for byte.
# Usage (from the package root, after `swift build --product charter`):
#   sh Tests/ConstitutionalTests/Fixtures/e2e/kill-resume.sh /tmp/cai-e2e
# Needs python3 with torch and transformers (only to write the tiny model folders).
set -eu
ROOT=$(pwd); HERE=$ROOT/Tests/ConstitutionalTests/Fixtures/e2e; WORK=${1:-/tmp/cai-e2e}; C=$ROOT/.build/debug/charter
rm -rf "$WORK"; mkdir -p "$WORK"; cp "$HERE/recipe.yaml" "$HERE/red-team.jsonl" "$WORK/"; cd "$WORK"
python3 "$HERE/make_tiny.py" helpful 1 "$ROOT/Tests/TokenizersTests/Fixtures/gpt2/tokenizer.json" >/dev/null 2>&1
python3 "$HERE/make_tiny.py" feedback 2 "$ROOT/Tests/TokenizersTests/Fixtures/gpt2/tokenizer.json" >/dev/null 2>&1
quiet() { tr '\r' '\n' | grep -Ev '^[a-z]+ [0-9]+/[0-9]+( ·|$)' || true; }
echo "== uninterrupted reference run"; $C pipeline recipe.yaml --run-directory runs/reference 2>&1 | quiet
echo "== run killed (SIGKILL) once critique has written an item"
$C pipeline recipe.yaml --run-directory runs/killed >/dev/null 2>&1 & P=$!
while [ ! -s runs/killed/critique/revisions.jsonl ]; do sleep 0.2; done; sleep 1; kill -9 $P; wait $P 2>/dev/null || true
echo "finished revisions at the kill: $(wc -l < runs/killed/critique/revisions.jsonl) of 4"
echo "== resumed, killed again once label has written an item"
$C pipeline recipe.yaml --run-directory runs/killed > resume.log 2>&1 & P=$!
while [ ! -s runs/killed/label/preferences.jsonl ]; do sleep 0.2; done; kill -9 $P; wait $P 2>/dev/null || true
quiet < resume.log
echo "finished labels at the kill: $(wc -l < runs/killed/label/preferences.jsonl) of 4"
echo "== resumed to the end"; $C pipeline recipe.yaml --run-directory runs/killed 2>&1 | quiet
for f in critique/revisions.jsonl critique/sft.jsonl sft/model/model.safetensors pairs/pairs.jsonl label/preferences.jsonl; do
  cmp "runs/reference/$f" "runs/killed/$f" && echo "identical to the uninterrupted run: $f"
done
python3 -c "import json; [print(s['name'], s['status'], 'attempts', s['attempts'], 'already_done', s['counts'].get('already_done')) for s in json.load(open('runs/killed/manifest.json'))['stages']]"
