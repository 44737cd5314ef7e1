#!/bin/sh
# Release-build Dataset.load time on the HH-RLHF file, against Python's gzip + json.loads in the same run
# (Python does no validation or prompt extraction, so it is a lower bound, not a like-for-like reference).
# Usage: sh Tests/DatasetsTests/Fixtures/benchmark.sh   (from the package root)
set -e
FILE="${1:-../shared/data/hh-rlhf/harmless-base-test.jsonl.gz}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/main.swift" <<'SWIFT'
import Foundation
let url = URL(fileURLWithPath: CommandLine.arguments[1])
for options in [DatasetOptions(), DatasetOptions(convertHHTranscripts: true)] {
    var best = Double.infinity, count = 0
    for _ in 0..<5 {
        let start = DispatchTime.now().uptimeNanoseconds
        count = try Dataset.load(url, options: options).examples.count
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    print(String(format: "charter Dataset.load (convertHHTranscripts=%@): %d examples, %.1f ms", options.convertHHTranscripts ? "true" : "false", count, best * 1e3))
}
SWIFT
# One module holding Gzip and Datasets (their `import Gzip` then refers to the module itself).
swiftc -O -module-name Gzip -o "$WORK/bench" Sources/Gzip/*.swift Sources/Datasets/*.swift "$WORK/main.swift" 2>/dev/null
"$WORK/bench" "$FILE"
python3 - "$FILE" <<'PY'
import gzip, json, sys, time
best = float("inf")
for _ in range(5):
    t = time.perf_counter()
    rows = [json.loads(line) for line in gzip.open(sys.argv[1])]
    best = min(best, time.perf_counter() - t)
print(f"python  gzip + json.loads: {len(rows)} rows, {best*1e3:.1f} ms")
PY
