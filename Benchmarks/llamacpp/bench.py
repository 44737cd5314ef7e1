"""Charter's quantized decoding against llama.cpp on the same GGUF files, alternating, 2 threads, medians.

The reference is llama.cpp as PyPI's llama-cpp-python builds it from source:

    python3 -m venv /tmp/llamacpp-venv
    CMAKE_ARGS="-DGGML_NATIVE=ON" /tmp/llamacpp-venv/bin/pip install llama-cpp-python   # compiles llama.cpp (10+ min)
    swift build -c release --product charter
    /tmp/llamacpp-venv/bin/python Benchmarks/llamacpp/make_files.py SmolLM2-135M-Instruct.Q4_1.gguf --output /tmp/smollm2
    /tmp/llamacpp-venv/bin/python Benchmarks/llamacpp/bench.py --charter .build/release/charter \
        --file Q4_1=/tmp/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --file Q8_0=/tmp/smollm2/SmolLM2-135M-Instruct.Q8_0.gguf ...

Each round runs, for every file, Charter (`charter bench generate --model FILE --repeats 1`: one warm-up, one timed run,
weights as stored) and then llama.cpp (this script's --worker mode: the same warm-up and timed run) in fresh
processes; the table gives per-file medians over rounds of prefill tokens/s (a prompt of --prompt-length random
token ids), greedy decode tokens/s (--new-tokens, KV cache), peak RSS, and Charter ÷ llama.cpp. `--float32 FILE` adds
Charter with that file's weights dequantised to float32 (`--dtype f32`); `--batch 8` adds, per file and round, Charter
decoding 8 sequences at once (`--batch 8`; tokens/s counts every sequence's tokens), divided by the same round's
llama.cpp single-sequence rate (the issue's batch target). `--kv-cache f16` gives Charter llama.cpp's default KV
cache, half floats (Charter's default is float32). The load average is printed before and after:
on a shared machine only ratios from the same rounds mean anything.
"""
import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time


def worker(path, threads, prompt_length, new_tokens):
    """llama.cpp's side: load, one warm-up, one timed prefill + greedy decode; prints one JSON line."""
    import numpy as np
    from llama_cpp import Llama

    model = Llama(model_path=path, n_ctx=prompt_length + new_tokens + 8, n_batch=512, n_ubatch=512, n_threads=threads,
                  n_threads_batch=threads, verbose=False)
    rng = random.Random(0)
    prompt = [3 + rng.randrange(model.n_vocab() - 3) for _ in range(prompt_length)]

    def next_token():
        # Without logits_all, Llama.eval keeps no scores (its `scores` rows stay zero and number only n_batch), so the
        # greedy token comes from llama.cpp's logits of the batch's last position.
        return int(np.argmax(np.ctypeslib.as_array(model._ctx.get_logits(), shape=(model.n_vocab(),))))

    def measure():
        model.reset()
        start = time.perf_counter()
        model.eval(prompt)
        token = next_token()
        prefilled = time.perf_counter()
        for _ in range(new_tokens - 1):
            model.eval([token])
            token = next_token()
        end = time.perf_counter()
        return prefilled - start, end - prefilled

    measure()
    prefill, decode = measure()
    print(json.dumps({"impl": "llama.cpp", "prefill_tokens_per_s": prompt_length / prefill,
                      "decode_tokens_per_s": (new_tokens - 1) / decode,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


def run(command):
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--charter", default=".build/release/charter")
    parser.add_argument("--file", action="append", default=[], help="NAME=PATH of a GGUF file (repeatable)")
    parser.add_argument("--float32", help="also run Charter on this file's weights dequantised to float32")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--prompt-length", type=int, default=512)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--batch", type=int, default=0,
                        help="also run Charter decoding this many sequences together (`--batch N`) right after each "
                             "file's pair, and report its decode rate ÷ llama.cpp's single-sequence rate of the same round")
    parser.add_argument("--kv-cache", default="f32", choices=["f32", "f16"],
                        help="Charter's KV cache (`charter bench generate --kv-cache`); llama.cpp keeps its default, "
                             "f16 keys and values (llama-cpp-python's type_k and type_v)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.threads, args.prompt_length, args.new_tokens)

    files = [entry.split("=", 1) for entry in args.file]
    shape = ["--threads", str(args.threads), "--prompt-length", str(args.prompt_length), "--new-tokens", str(args.new_tokens)]
    charter_flags = shape + ["--kv-cache", args.kv_cache]  # the worker (llama.cpp) does not take it
    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    results = {}
    for round_index in range(args.rounds):
        for name, path in files:
            charter = run([args.charter, "bench", "generate", "--model", path, "--repeats", "1"] + charter_flags)
            reference = run([sys.executable, __file__, "--worker", path] + shape)
            results.setdefault(name, []).append((charter, reference))
            print(f"round {round_index} {name}: charter {charter['decode_tokens_per_s']:.1f} tok/s "
                  f"({charter['quantized_kernels']}), llama.cpp {reference['decode_tokens_per_s']:.1f} tok/s", file=sys.stderr)
            if args.batch > 1:
                batched = run([args.charter, "bench", "generate", "--model", path, "--repeats", "1", "--batch", str(args.batch)] + charter_flags)
                results.setdefault(f"{name}, Charter batch {args.batch}", []).append((batched, reference))
                print(f"round {round_index} {name}: charter batch {args.batch} {batched['decode_tokens_per_s']:.1f} tok/s", file=sys.stderr)
        if args.float32:
            charter = run([args.charter, "bench", "generate", "--model", args.float32, "--repeats", "1", "--dtype", "f32"] + charter_flags)
            results.setdefault("F32 (Charter --dtype f32)", []).append((charter, None))
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)

    def median(runs, key):
        return statistics.median(run[key] for run in runs)

    # A batch row's ratios divide by llama.cpp's single-sequence run of the same round (the batch target's baseline).
    print("| file | impl | prefill tok/s | decode tok/s | peak RSS MB | Charter ÷ llama.cpp (prefill, decode, RSS) |")
    print("|---|---|---|---|---|---|")
    for name, pairs in results.items():
        ours = [pair[0] for pair in pairs]
        theirs = [pair[1] for pair in pairs if pair[1] is not None]
        row = [median(ours, "prefill_tokens_per_s"), median(ours, "decode_tokens_per_s"), median(ours, "peak_rss_bytes") / 1e6]
        if theirs:
            reference = [median(theirs, "prefill_tokens_per_s"), median(theirs, "decode_tokens_per_s"),
                         median(theirs, "peak_rss_bytes") / 1e6]
            # Ratios of the rounds' own pairs, then the median: each pair ran back to back under the same load.
            ratios = [statistics.median(pair[0][key] / pair[1][key] for pair in pairs)
                      for key in ("prefill_tokens_per_s", "decode_tokens_per_s", "peak_rss_bytes")]
            print(f"| {name} | Charter ({ours[0]['quantized_kernels']}) | {row[0]:.0f} | {row[1]:.1f} | {row[2]:.0f} | "
                  f"{ratios[0]:.2f}, {ratios[1]:.2f}, {ratios[2]:.2f} |")
            if ", Charter batch" not in name:
                print(f"| {name} | llama.cpp | {reference[0]:.0f} | {reference[1]:.1f} | {reference[2]:.0f} | |")
        else:
            print(f"| {name} | Charter | {row[0]:.0f} | {row[1]:.1f} | {row[2]:.0f} | |")
    print(json.dumps({name: pairs for name, pairs in results.items()}))


if __name__ == "__main__":
    main()
