"""`fuzz.py --self-test`: checks the harness itself, without charter.

1. Cases are deterministic: building kind:seed:index twice gives the same files and command.
2. The seeds are well-formed: JSON parses, safetensors headers match their data, gzip bombs declare 1 GiB.
3. The runner classifies what it claims to: stand-in executables that crash, hang, grow past the RSS limit, write
   outside the case folder, fail cleanly or vaguely, and succeed each get the expected class.
"""

import json
import os
import shutil
import struct
import tempfile
import zlib

from .case import Case, base_files
from .formats import safetensors_split
from .kinds_jsonl import gzip_bomb
from .runner import Limits, run_case

STAND_INS = {
    # name: (shell script, expected class, expected warning or None)
    "success": ("exit 0", "ok-success", None),
    "clean": ("echo 'Error: recipe.yaml: max_steps must be a whole number' >&2; exit 1", "ok-clean-error", None),
    "vague": ("echo 'Error: something went wrong' >&2; exit 1", "ok-clean-error", "vague-error"),
    "crash": ("echo 'Fatal error: Index out of range' >&2; kill -ILL $$", "CRASH", None),
    "segv": ("kill -SEGV $$", "CRASH", None),
    "hang": ("sleep 30", "HANG", None),
    "grow": ("exec python3 -c 'b = b\"x\" * (120 << 20)'", "RUNAWAY", None),
    "capped": ("echo 'Fatal error: failed to allocate 17179869184 bytes of memory' >&2; kill -ABRT $$", "RUNAWAY", None),
    "escape": ("touch ../escaped; exit 0", "ESCAPE", None),
    "sentinel": ("rm -rf ../sentinel; exit 1", "ESCAPE", None),
    "marked": ("mkdir -p ../../$FUZZ_TOKEN; exit 0", "ESCAPE", None),
}


def check_determinism(kinds, build, count=12):
    for kind in kinds:
        for index in range(count):
            first, second = build(kind, 9, index), build(kind, 9, index)
            assert first.argv == second.argv and first.all_files() == second.all_files(), "%s:9:%d is not deterministic" % (kind, index)


def check_seeds():
    for architecture in ("llama", "gpt2"):
        files = base_files(architecture)
        json.loads(files["model/config.json"])
        tokenizer = json.loads(files["model/tokenizer.json"])
        assert max(tokenizer["model"]["vocab"].values()) < json.loads(files["model/config.json"])["vocab_size"]
        header, data = safetensors_split(files["model/model.safetensors"])
        end = max(entry["data_offsets"][1] for name, entry in header.items() if name != "__metadata__")
        assert end == len(data), "safetensors data section does not match its header"
        for name, entry in header.items():
            if name != "__metadata__":
                count = 1
                for size in entry["shape"]:
                    count *= size
                assert entry["data_offsets"][1] - entry["data_offsets"][0] == 4 * count, name
    for variant in ("zeros", "newlines", "records", "one-line"):
        blob = gzip_bomb(variant)
        assert len(blob) < 4 << 20, variant
        assert struct.unpack("<I", blob[-4:])[0] in (1 << 30, (1 << 30) + 12), variant  # ISIZE: 1 GiB (+ the JSON prefix)
        assert zlib.decompressobj(31).decompress(blob[:1 << 16], 1 << 20), variant


def check_runner():
    failures = []
    scratch = tempfile.mkdtemp(prefix="charter-fuzz-selftest-")
    try:
        work = os.path.join(scratch, "w")
        os.makedirs(work)
        limits = Limits(timeout=2.0, rss_limit=100 << 20, memory_cap=2 << 30)
        for index, (name, (script, expected, warning)) in enumerate(sorted(STAND_INS.items()), 1):
            case = Case("selftest", 0, index)
            case.argv = []
            case.mutated = ["recipe.yaml"]
            case.key = "max_steps"
            executable = os.path.join(scratch, name + ".sh")
            with open(executable, "w") as handle:
                handle.write("#!/bin/sh\nFUZZ_TOKEN=%s\n%s\n" % (case.token, script))
            os.chmod(executable, 0o755)
            result, case_dir, _ = run_case(case, executable, work, scratch, limits)
            shutil.rmtree(case_dir, ignore_errors=True)
            if result["class"] != expected or (warning and warning not in result["warnings"]):
                failures.append("%s: expected %s%s, got %s %s" % (name, expected, " + " + warning if warning else "",
                                                                result["class"], result["warnings"]))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert not failures, "; ".join(failures)


def run(kinds, build):
    check_determinism(kinds, build)
    check_seeds()
    check_runner()
    return "self-test passed: %d kinds deterministic, seeds well-formed, %d runner classifications" % (len(kinds), len(STAND_INS))
