"""Generic mutators: bytes (flips, truncation, splicing, insertions) and value trees (keys, types, boundary numbers).

Every function takes a `random.Random` and returns a new value plus a short description; none mutates its input.
Sizes are bounded so that generating a case stays cheap (the largest single input is about 20 MB).
"""

import copy

from .formats import Pairs, Raw

BOUNDARY_INTS = [0, -1, 1, 2, 3, 7, 255, 256, 65535, 2 ** 31 - 1, 2 ** 31, -2 ** 31, 2 ** 32, 2 ** 53 + 1, 2 ** 63 - 1,
                 2 ** 63, 2 ** 64, -2 ** 63, 10 ** 9, 10 ** 12, 10 ** 30]
BOUNDARY_FLOATS = [0.0, -0.0, 1e-45, 1e-308, 5e-324, 1e9, 1e30, 1e308, -1e308, 0.5, -0.5, 1.5, float("nan"),
                   float("inf"), float("-inf")]
BOUNDARY_RAW = ["1e400", "-1e400", "NaN", "Infinity", "-Infinity", "1e-400", "0x10", "1_000", "00012", "-0", "1.",
                ".5", "+1", "9" * 400, "1e", "--1", "0.1e309"]
WEIRD_STRINGS = ["", " ", "\u0000", "\uFFFD", "é" * 3, "🙂", "\n", "\t", "a" * 10000, "../x",
                 "/abs", "a/b", "..", ".", "~", "null", "true", "1", "%s%n", "\u202e", "\\", "\"", "'", "#", ":", "- x",
                 "{", "[", "*a", "&a", "!!binary", "<|endoftext|>", "<|im_start|>"]


def flip_bytes(rng, blob, count=None):
    data = bytearray(blob)
    if not data:
        return bytes([rng.randrange(256)]), "byte insert into empty"
    count = count or rng.choice([1, 1, 2, 4, 16])
    for _ in range(count):
        position = rng.randrange(len(data))
        data[position] ^= 1 << rng.randrange(8) if rng.random() < 0.7 else rng.randrange(1, 256)
    return bytes(data), "flip %d byte(s)" % count


def truncate(rng, blob):
    if not blob:
        return blob, "truncate empty"
    cut = rng.choice([0, 1, len(blob) // 2, len(blob) - 1, rng.randrange(len(blob))])
    return blob[:cut], "truncate to %d of %d bytes" % (cut, len(blob))


def splice(rng, blob, donors):
    """A slice of another valid input inserted (or overwritten) at a random place."""
    donor = rng.choice(donors) if donors else blob
    if not donor:
        return blob, "splice nothing"
    start = rng.randrange(len(donor))
    piece = donor[start:start + rng.choice([1, 8, 64, 512, 4096])]
    at = rng.randrange(len(blob) + 1)
    if rng.random() < 0.5:
        return blob[:at] + piece + blob[at:], "splice %d bytes in at %d" % (len(piece), at)
    return blob[:at] + piece + blob[at + len(piece):], "overwrite %d bytes at %d" % (len(piece), at)


def insert_bytes(rng, blob):
    """Invalid UTF-8, NULs, a BOM, CR, or a repeated region."""
    at = rng.randrange(len(blob) + 1)
    choice = rng.randrange(7)
    if choice == 0:
        piece, what = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\x80\x80"]), "invalid UTF-8"
    elif choice == 1:
        piece, what = b"\x00" * rng.choice([1, 3, 100]), "NUL bytes"
    elif choice == 2:
        return b"\xef\xbb\xbf" + blob, "UTF-8 BOM prefix"
    elif choice == 3:
        return blob.replace(b"\n", b"\r\n"), "CRLF line ends"
    elif choice == 4:
        return blob.replace(b"\n", b"\r"), "CR line ends"
    elif choice == 5:
        end = min(len(blob), at + rng.choice([4, 32, 256]))
        piece, what = blob[at:end] * rng.choice([2, 100, 1000]), "repeated region"
    else:
        piece, what = bytes(rng.randrange(256) for _ in range(rng.choice([1, 16, 256]))), "random bytes"
    return blob[:at] + piece + blob[at:], "%s at %d" % (what, at)


def byte_mutation(rng, blob, donors=()):
    """One random byte-level mutation."""
    choice = rng.randrange(4)
    if choice == 0:
        return flip_bytes(rng, blob)
    if choice == 1:
        return truncate(rng, blob)
    if choice == 2:
        return splice(rng, blob, list(donors))
    return insert_bytes(rng, blob)


# ---------------------------------------------------------------- value trees

def paths(tree, prefix=()):
    """Every (path, value) in a tree of dicts/lists; a path is a tuple of keys and indices."""
    out = [(prefix, tree)]
    if isinstance(tree, dict):
        for key, value in tree.items():
            out += paths(value, prefix + (key,))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            out += paths(value, prefix + (index,))
    return out


def get(tree, path):
    for step in path:
        tree = tree[step]
    return tree


def replace(tree, path, value):
    """A copy of `tree` with the value at `path` replaced (the root when `path` is empty)."""
    if not path:
        return value
    tree = copy.deepcopy(tree)
    parent = get(tree, path[:-1])
    parent[path[-1]] = value
    return tree


def path_text(path):
    return "".join("[%d]" % step if isinstance(step, int) else ("." if index else "") + str(step) for index, step in enumerate(path)) or "<root>"


def last_key(path):
    for step in reversed(path):
        if isinstance(step, str):
            return step
    return None


def deep(depth, kind="list"):
    """A value nested `depth` levels, as text (written verbatim, so no recursion limit applies)."""
    if kind == "list":
        return Raw("[" * depth + "1" + "]" * depth)
    return Raw('{"a":' * depth + "1" + "}" * depth)


def swapped_value(rng, value):
    """A value of another type, or a boundary number, or a weird string."""
    choice = rng.randrange(8)
    if choice == 0:
        return rng.choice(BOUNDARY_INTS)
    if choice == 1:
        return rng.choice(BOUNDARY_FLOATS)
    if choice == 2:
        return Raw(rng.choice(BOUNDARY_RAW))
    if choice == 3:
        return rng.choice(WEIRD_STRINGS)
    if choice == 4:
        return rng.choice([None, True, False, [], {}, [value], {"value": value}])
    if choice == 5:
        return str(value) if not isinstance(value, str) else (int(value) if value.isdigit() else len(value))
    if choice == 6:
        return deep(rng.choice([64, 1000, 10000]), rng.choice(["list", "object"]))
    return [value] * rng.choice([2, 1000])


def tree_mutation(rng, tree, focus_keys=()):
    """One structural mutation of a JSON/YAML value tree; returns (tree, description, key touched or None).

    With `focus_keys`, half of the mutations target one of those keys wherever it occurs.
    """
    candidates = paths(tree)
    focused = [(p, v) for p, v in candidates if p and last_key(p) in focus_keys]
    if focused and rng.random() < 0.5:
        path, value = rng.choice(focused)
    else:
        path, value = rng.choice(candidates)
    key = last_key(path)
    where = path_text(path)
    choice = rng.randrange(6)
    if choice <= 1 or not isinstance(value, (dict, list)):
        new = swapped_value(rng, value)
        return replace(tree, path, new), "%s = %s" % (where, describe(new)), key
    if isinstance(value, dict) and value:
        names = list(value)
        name = rng.choice(names)
        if choice == 2:
            smaller = {k: v for k, v in value.items() if k != name}
            return replace(tree, path, smaller), "remove %s.%s" % (where, name), name
        if choice == 3:
            pairs = Pairs(list(value.items()) + [(name, swapped_value(rng, value[name]))])
            return replace(tree, path, pairs), "duplicate key %s.%s" % (where, name), name
        if choice == 4:
            bigger = dict(value)
            bigger[rng.choice(["unknown_key", "", " ", "é", "__proto__", name + "_"])] = 1
            return replace(tree, path, bigger), "unknown key in %s" % where, key
        return replace(tree, path, {}), "%s emptied" % where, key
    if isinstance(value, list) and value:
        if choice == 2:
            return replace(tree, path, value[:rng.randrange(len(value))]), "%s shortened" % where, key
        if choice == 3:
            return replace(tree, path, value + [copy.deepcopy(rng.choice(value))] * rng.choice([1, 100])), "%s lengthened" % where, key
        if choice == 4:
            return replace(tree, path, list(reversed(value))), "%s reversed" % where, key
        return replace(tree, path, []), "%s emptied" % where, key
    return replace(tree, path, swapped_value(rng, value)), "%s replaced" % where, key


def describe(value):
    if isinstance(value, Raw):
        text = value.text
    else:
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
