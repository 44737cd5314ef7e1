#!/bin/sh
# Release-build throughput of SafeTensorsFile.floats / withFloats on a large checkpoint, against
# safetensors+torch (load_file + .float()) in the same run. Writes a temporary ~200 MB file.
# Usage: sh Tests/SafeTensorsTests/Fixtures/benchmark.sh   (from the package root)
set -e
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 - "$WORK/big.safetensors" <<'PY'
import sys, torch
from safetensors.torch import save_file
torch.manual_seed(0)
n = 1 << 24  # 16M elements per tensor
x = torch.randn(n)
save_file({"bf16": x.to(torch.bfloat16), "f16": x.to(torch.float16), "f32": x}, sys.argv[1])
PY
cat > "$WORK/main.swift" <<'SWIFT'
import Foundation
let file = try SafeTensorsFile(url: URL(fileURLWithPath: CommandLine.arguments[1]))
func time(_ label: String, bytes: Int, _ body: () throws -> Float) rethrows {
    var best = Double.infinity, sink: Float = 0
    for _ in 0..<5 {
        let start = DispatchTime.now().uptimeNanoseconds
        sink += try body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    print(String(format: "charter %-22@ %7.2f ms  %6.2f GB/s of output   (checksum %g)", label as NSString, best * 1e3, Double(bytes) / best / 1e9, sink))
}
let count = try file.info("f32").elementCount
try time("floats(bf16)", bytes: count * 4) { try file.floats("bf16")[7] }
try time("floats(f16)", bytes: count * 4) { try file.floats("f16")[7] }
try time("floats(f32)", bytes: count * 4) { try file.floats("f32")[7] }
try time("withFloats(f32) sum", bytes: count * 4) { try file.withFloats("f32") { $0.reduce(0, +) } }
var values = [Float](repeating: 0, count: count)
for index in 0..<count { values[index] = Float(index % 1000) * 0.001 }
time("encode bf16", bytes: count * 4) { Float(SafeTensorsWriter.encode(values, as: .bfloat16).count) }
time("encode f16", bytes: count * 4) { Float(SafeTensorsWriter.encode(values, as: .float16).count) }
SWIFT
swiftc -O -module-name SafeTensorsBench -o "$WORK/bench" Sources/SafeTensors/*.swift "$WORK/main.swift"
"$WORK/bench" "$WORK/big.safetensors"
python3 - "$WORK/big.safetensors" <<'PY'
import sys, time, torch
from safetensors.torch import load_file
torch.set_num_threads(1)
for name in ("bf16", "f16", "f32"):
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        y = load_file(sys.argv[1])[name].float().clone() if name == "f32" else load_file(sys.argv[1])[name].float()
        best = min(best, time.perf_counter() - t)
    print(f"torch   load_file+float ({name}) {best*1e3:8.2f} ms  {y.numel()*4/best/1e9:6.2f} GB/s of output (1 thread)")
PY
