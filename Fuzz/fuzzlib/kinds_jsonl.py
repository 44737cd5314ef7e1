"""Case builder for JSONL inputs (plain and .gz): SFT data (both forms), DPO preferences, logprobs and generate input.

Besides line-level mutations this writes the inputs a data loader meets in the wild: lines of up to 20 MB, invalid
UTF-8, nesting a million levels deep, and gzip files that are corrupt, truncated, concatenated or bombs (1-3 MB
on disk, 1 GiB inflated; built from one compressed block repeated, so making one takes well under a second).
"""

import json
import struct
import threading
import zlib

from . import seeds
from .formats import Pairs, Raw, gzip_bytes, to_json
from .mutate import byte_mutation, deep, tree_mutation

# target file -> (records, command builder)
SFT = ["sft", "--model", "model", "--output-dir", "out", "--max-steps", "1", "--batch-size", "2", "--max-length", "32",
       "--chat-template", "chatml", "--save-steps", "0", "--threads", "1", "--dataset"]
DPO = ["dpo", "--model", "model", "--output-dir", "out", "--max-steps", "1", "--batch-size", "2", "--max-length", "32",
       "--lora-r", "2", "--save-steps", "0", "--threads", "1", "--dataset"]
LOGPROBS = ["logprobs", "--model", "model", "--threads", "1", "--input"]
GENERATE = ["generate", "--model", "model", "--max-new-tokens", "2", "--threads", "1", "--input"]
FIELDS = ("prompt", "completion", "messages", "role", "content", "chosen", "rejected", "text", "id")

BOMB_LOCK = threading.Lock()
BOMBS = {}


def targets():
    plain, chat = seeds.sft_records()
    return [("data.jsonl", plain, SFT), ("chat.jsonl", chat, SFT), ("prefs.jsonl", seeds.preference_records(), DPO),
            ("score.jsonl", [{"text": "hello world"}, {"prompt": "say 1:", "completion": " 1 and 1"}], LOGPROBS),
            ("prompts.jsonl", [{"prompt": "hello there"}, {"prompt": "say one"}], GENERATE)]


def gzip_bomb(variant):
    """A gzip member inflating to 1 GiB: one full-flushed deflate block of a 1 MiB chunk, repeated 1024 times."""
    with BOMB_LOCK:
        if variant not in BOMBS:
            line = b'{"prompt": "say 1:", "completion": " 1 and 1"}\n'
            chunk = {"zeros": b"\x00" * (1 << 20), "newlines": b"\n" * (1 << 20),
                     "records": (line * ((1 << 20) // len(line) + 1))[:1 << 20],
                     "one-line": b"a" * (1 << 20)}[variant]
            compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
            block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
            crc = 0
            for _ in range(1024):
                crc = zlib.crc32(chunk, crc)
            prefix = b'{"prompt": "' if variant == "one-line" else b""
            head = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
            if prefix:
                # The first bytes are stored in their own block so that the line starts a JSON string.
                stored = b"\x00" + struct.pack("<HH", len(prefix), len(prefix) ^ 0xFFFF) + prefix
                crc = zlib.crc32(prefix)
                for _ in range(1024):
                    crc = zlib.crc32(chunk, crc)
                BOMBS[variant] = head + stored + block * 1024 + b"\x03\x00" + struct.pack("<II", crc, (len(prefix) + (len(chunk) << 10)) & 0xFFFFFFFF)
            else:
                BOMBS[variant] = head + block * 1024 + b"\x03\x00" + struct.pack("<II", crc, (len(chunk) << 10) & 0xFFFFFFFF)
        return BOMBS[variant]


def lines_of(records):
    return [to_json(record).encode() for record in records]


def joined(lines, newline=b"\n"):
    return newline.join(lines) + newline


def jsonl_case(case):
    rng = case.rng
    name, records, command = rng.choice(targets())
    lines = lines_of(records)
    choice = rng.randrange(11)
    case.key = None
    if choice == 0:
        index = rng.randrange(len(records))
        record, case.description, case.key = tree_mutation(rng, records[index], focus_keys=FIELDS)
        lines[index] = to_json(record).encode()
        case.description = "line %d: %s" % (index + 1, case.description)
        blob = joined(lines)
    elif choice == 1:
        blob, case.description = byte_mutation(rng, joined(lines), [joined(lines_of(seeds.preference_records()))])
    elif choice == 2:
        size = rng.choice([1 << 20, 5 << 20, 20 << 20])
        filler = rng.choice([b"a", b"ab ", b"\xc3\xa9", b"<|im_end|>", b"\\n", b" "])
        # The first string of line 1 (a message's content in conversational data) grows to `size` bytes.
        field = "content" if "messages" in records[0] else next(key for key in records[0] if isinstance(records[0][key], str))
        marker = b'"%s": "' % field.encode()
        long = lines[0].replace(marker, marker + filler * (size // len(filler)), 1)
        unterminated = rng.random() < 0.2
        lines[0] = long[:-2] if unterminated else long  # an unterminated string runs to the end of the line
        blob = joined(lines)
        case.key = field
        case.description = "line 1 %s of %d MB (%r)%s" % (field, size >> 20, filler, ", unterminated" if unterminated else "")
    elif choice == 3:
        count = rng.choice([1000, 3000])
        blob = joined(lines * (count // len(lines)))
        case.description = "%d lines" % count
    elif choice == 4:
        bad = rng.choice([b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xc0\x80", b"\xe2\x82"])
        index = rng.randrange(len(lines))
        at = lines[index].find(b'": "') + 4
        lines[index] = lines[index][:at] + bad + lines[index][at:]
        blob = joined(lines)
        case.description = "invalid UTF-8 %r in line %d" % (bad, index + 1)
    elif choice == 5:
        depth = rng.choice([1000, 100000, 1000000])
        nested = deep(depth, rng.choice(["list", "object"])).text.encode()
        field = rng.choice(list(records[0]))
        lines[0] = nested if rng.random() < 0.5 else ('{"%s": ' % field).encode() + nested + b"}"
        blob = joined(lines)
        case.description = "line 1 nested %d deep" % depth
    elif choice == 6:
        field = rng.choice(list(records[0]))
        value = rng.choice([Raw('"\\ud800"'), Raw('"\\udc00\\ud800x"'), Raw('"\\u0000"'), Raw("NaN"), Raw("1e400"), Raw("-"),
                            Raw('"\\x41"'), Raw('"\\'), Raw("tru"), Raw("01"), Raw('"a\tb"'), Raw("[1,]"), Raw("{,}")])
        record = Pairs(list(records[0].items()) + [(field, value)]) if rng.random() < 0.5 else dict(records[0], **{field: value})
        lines[0] = to_json(record).encode()
        blob = joined(lines)
        case.key = field
        case.description = "%s = %s" % (field, value.text)
    elif choice == 7:
        blob, case.description = rng.choice([
            (b"", "empty file"), (b"\n\n\n", "only newlines"), (b"   \t \n", "only whitespace"), (b"[]\n", "a JSON array line"),
            (b"null\n", "null line"), (b"1\n", "number line"), (b'"x"\n', "string line"), (b"{}\n" * 4, "empty objects"),
            (b"[" + b",".join(lines) + b"]\n", "a JSON array of records"), (lines[0] + b" " + lines[1] + b"\n", "two objects on one line"),
            (lines[0] + b" trailing\n", "garbage after an object"), (joined(lines)[:-1], "no final newline"),
            (b"\n".join(lines[:1] + [b""] * 1000 + lines[1:]) + b"\n", "a thousand blank lines"),
            (lines[0] + b"\x00\n", "NUL after an object")])
    elif choice == 8:
        index = rng.randrange(len(records))
        record = dict(records[index])
        field = rng.choice(list(record))
        record[field] = rng.choice([5, None, "", [], {}, [{}], [{"role": 5, "content": "x"}], [{"role": "wizard", "content": "hi"}],
                                    [{"role": "user", "content": None}], [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
                                    [{"role": "assistant", "content": "x"}] * 5000, [{"role": "user"}], "x" * 100000,
                                    [{"role": "user", "content": "hi", "tool_calls": [{"a": 1}]}]])
        lines[index] = to_json(record).encode()
        blob = joined(lines)
        case.key = field
        case.description = "line %d %s = %s" % (index + 1, field, to_json(record[field])[:50])
    else:
        blob = None
    gzipped = choice >= 9 or rng.random() < 0.2
    if choice >= 9:
        blob, case.description = gzip_mutation(rng, joined(lines))
    elif gzipped:
        blob = gzip_bytes(blob)
        case.description += " (gzip)"
    path = name + (".gz" if gzipped else "")
    case.files[path] = blob
    case.argv = command + [path]
    case.mutated = [path]


def gzip_mutation(rng, payload):
    """A corrupt, odd or explosive gzip file around `payload`."""
    good = gzip_bytes(payload)
    choice = rng.randrange(9)
    if choice <= 1:
        variant = rng.choice(["zeros", "newlines", "records", "one-line"])
        return gzip_bomb(variant), "gzip bomb (%s, 1 GiB inflated)" % variant
    if choice == 2:
        cut = rng.choice([0, 5, 10, len(good) // 2, len(good) - 8, len(good) - 1])
        return good[:cut], "gzip truncated to %d of %d bytes" % (cut, len(good))
    if choice == 3:
        data = bytearray(good)
        data[-8 + rng.randrange(8)] ^= 0x55
        return bytes(data), "gzip CRC32/ISIZE corrupted"
    if choice == 4:
        blob, what = byte_mutation(rng, good)
        return blob, "gzip " + what
    if choice == 5:
        return good + gzip_bytes(payload), "two gzip members"
    if choice == 6:
        return good + rng.choice([b"\x00" * 8, b"garbage", b"\x1f\x8b"]), "gzip with trailing bytes"
    if choice == 7:
        # FEXTRA/FNAME/FCOMMENT flags with lengths that overrun the file.
        flags = rng.choice([0x04, 0x08, 0x10, 0x02, 0xE0, 0x1E])
        extra = struct.pack("<H", rng.choice([0, 0xFFFF, 10])) if flags & 0x04 else b""
        return good[:3] + bytes([flags]) + good[4:10] + extra + good[10:], "gzip header flags 0x%02x" % flags
    return payload, "plain text in a .gz file"


def roundtrip_check():
    """Self-test: every bomb inflates to exactly 1 GiB and a mutated plain file is still bytes."""
    for variant in ("zeros", "records", "one-line"):
        blob = gzip_bomb(variant)
        decompressor, total = zlib.decompressobj(31), 0
        for start in range(0, len(blob), 1 << 16):
            total += len(decompressor.decompress(blob[start:start + (1 << 16)]))
        assert total - (1 << 30) in (0, 12) and decompressor.eof, (variant, total)
    return json.dumps({"bomb_bytes": len(gzip_bomb("zeros"))})
