#!/bin/sh
# Release-build gzip decode throughput on the HH-RLHF file, against Python's gzip (zlib) in the same run.
# Usage: sh Tests/GzipTests/Fixtures/benchmark.sh   (from the package root)
set -e
FILE="${1:-../shared/data/hh-rlhf/harmless-base-test.jsonl.gz}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/main.swift" <<'SWIFT'
import Foundation
let url = URL(fileURLWithPath: CommandLine.arguments[1])
let compressed = try Data(contentsOf: url)
var best = Double.infinity, size = 0, lines = 0
for _ in 0..<10 {
    let start = DispatchTime.now().uptimeNanoseconds
    size = try Gzip.decompress(compressed).count
    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}
var bestLines = Double.infinity
for _ in 0..<5 {
    let start = DispatchTime.now().uptimeNanoseconds
    lines = 0
    try LineReader(url: url).forEachLine { _, _ in lines += 1 }
    bestLines = min(bestLines, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}
let text = try Gzip.decompress(compressed)
var bestCompress = Double.infinity, packedSize = 0
for _ in 0..<3 {
    let start = DispatchTime.now().uptimeNanoseconds
    packedSize = Gzip.compress(text).count
    bestCompress = min(bestCompress, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}
print(String(format: "charter  decompress: %.2f ms  %.0f MB/s  (%d bytes)", best * 1e3, Double(size) / best / 1e6, size))
print(String(format: "charter  compress (.default): %.2f ms  %.0f MB/s  (%d -> %d bytes, %.1f%%)", bestCompress * 1e3,
             Double(size) / bestCompress / 1e6, size, packedSize, 100 * Double(packedSize) / Double(size)))
print(String(format: "charter  LineReader: %.2f ms  %.0f MB/s  (%d lines)", bestLines * 1e3, Double(size) / bestLines / 1e6, lines))
SWIFT
swiftc -O -module-name GzipBench -I Sources/CZlib -o "$WORK/bench" Sources/Gzip/*.swift "$WORK/main.swift"
"$WORK/bench" "$FILE"
python3 - "$FILE" <<'PY'
import gzip, sys, time
data = open(sys.argv[1], "rb").read()
best = min((lambda t: (gzip.decompress(data), time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(10))
size = len(gzip.decompress(data))
print(f"python   gzip.decompress: {best*1e3:.2f} ms  {size/best/1e6:.0f} MB/s  ({size} bytes)")
text = gzip.decompress(data)
for level in (1, 6):
    best = min((lambda t: (gzip.compress(text, compresslevel=level), time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(3))
    packed = len(gzip.compress(text, compresslevel=level))
    print(f"python   gzip.compress(level {level}): {best*1e3:.2f} ms  {size/best/1e6:.0f} MB/s  ({size} -> {packed} bytes, {100*packed/size:.1f}%)")
PY
