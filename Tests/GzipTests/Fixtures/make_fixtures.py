#!/usr/bin/env python3
"""Makes the Gzip test fixtures with Python's gzip/zlib (the reference implementation), and verifies that the
gzip files Charter wrote (committed here by `CHARTER_REGENERATE_FIXTURES=1 swift test --filter GzipTests`)
decompress with Python's gzip to the expected bytes.

Usage (from this directory):  python3 make_fixtures.py            # regenerate + verify
                              python3 make_fixtures.py --verify   # verify Charter-written files only
"""
import gzip
import os
import random
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def sample_text(seed, words):
    rng = random.Random(seed)
    vocabulary = ["the", "model", "assistant", "human", "harmless", "helpful", "gradient", "tensor", "safety",
                  "preference", "reward", "policy", "\n", "{\"prompt\": ", "\u00e9t\u00e9", "\u4e2d\u6587", "42", "."]
    return " ".join(rng.choice(vocabulary) for _ in range(words)).encode("utf-8")


def raw_deflate(data, level=6, strategy=zlib.Z_DEFAULT_STRATEGY):
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
    return compressor.compress(data) + compressor.flush()


def member(data, flags=0, extra=b"", name=b"", comment=b"", level=6, strategy=zlib.Z_DEFAULT_STRATEGY):
    header = bytearray(b"\x1f\x8b\x08" + bytes([flags]) + struct.pack("<I", 1700000000) + b"\x00\x03")
    if flags & 0x04:
        header += struct.pack("<H", len(extra)) + extra
    if flags & 0x08:
        header += name + b"\x00"
    if flags & 0x10:
        header += comment + b"\x00"
    if flags & 0x02:
        header += struct.pack("<H", zlib.crc32(bytes(header)) & 0xFFFF)
    trailer = struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return bytes(header) + raw_deflate(data, level, strategy) + trailer


def make():
    rng = random.Random(7)
    random_bytes = bytes(rng.getrandbits(8) for _ in range(65536))
    text = sample_text(1, 20000)
    write("random.bin", random_bytes)
    write("text.txt", text)
    for level in (0, 1, 6, 9):
        write(f"random-L{level}.gz", gzip.compress(random_bytes, compresslevel=level, mtime=0))
        write(f"text-L{level}.gz", gzip.compress(text, compresslevel=level, mtime=0))
    write("empty.gz", gzip.compress(b"", mtime=0))
    # Fixed-Huffman-only and run-length streams exercise block type 1 and long overlapping matches.
    write("text-fixed.gz", member(text, strategy=zlib.Z_FIXED, level=9))
    runs = b"a" * 70000 + b"ab" * 3000 + bytes(range(256)) * 4
    write("runs.bin", runs)
    write("runs-rle.gz", member(runs, strategy=zlib.Z_RLE, level=9))
    write("runs-huffman-only.gz", member(runs, strategy=zlib.Z_HUFFMAN_ONLY, level=9))
    # Every optional header field, including the header CRC.
    write("flags.gz", member(text[:5000], flags=0x1F, extra=b"AB\x04\x00data", name=b"text.txt",
                              comment=b"fixture with FEXTRA, FNAME, FCOMMENT, FHCRC"))
    # Two members concatenated (what `cat a.gz b.gz` produces), one of them empty.
    write("multi.gz", gzip.compress(b"first member\n", mtime=0) + gzip.compress(b"", mtime=0)
          + member(b"second member\n", level=1))
    write("multi.txt", b"first member\nsecond member\n")
    # Python's writer with FNAME set (gzip.GzipFile always writes FNAME when it has a filename).
    with open(os.path.join(HERE, "named.gz"), "wb") as raw:
        with gzip.GzipFile(filename="named.txt", mode="wb", fileobj=raw, mtime=0) as f:
            f.write(text[:1000])
    write("lines.jsonl.gz", gzip.compress(b'{"a": 1}\r\n{"a": 2}\n\n{"a": "\xc3\xa9"}', mtime=0))


def charter_text():
    """The text GzipFixtureTests.charterText() writes; keep the two in sync."""
    lines = [f'{{"index": {i}, "text": "line {i} {"abc" * (i % 7)} \u00e9\u4e2d"}}' for i in range(3000)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def verify():
    expected = charter_text()
    for name in ("charter-default.jsonl.gz", "charter-fast.jsonl.gz", "charter-stored.jsonl.gz"):
        path = os.path.join(HERE, name)
        if not os.path.exists(path):
            print(f"{name} absent: run CHARTER_REGENERATE_FIXTURES=1 swift test --filter GzipTests")
            continue
        with gzip.open(path, "rb") as f:
            data = f.read()
        assert data == expected, f"{name}: decompressed bytes differ"
        with open(path, "rb") as f:
            raw = f.read()
        assert zlib.decompress(raw, 16 + 15) == expected, f"{name}: zlib disagrees"
        print(f"{name}: {len(raw)} bytes -> {len(data)} bytes, Python gzip reads it exactly")


if __name__ == "__main__":
    if "--verify" not in sys.argv:
        make()
    verify()
