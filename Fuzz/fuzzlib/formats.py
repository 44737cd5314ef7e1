"""Writers for the file formats Charter reads, able to write the malformed variants a fuzzer needs.

JSON and YAML are emitted by hand (not json.dumps / PyYAML) so that a document may hold duplicate keys (`Pairs`),
literal text the type system cannot express (`Raw`: `NaN`, `1e400`, `*alias`, `.inf`), and nesting deeper than
Python's recursion limit (`Raw` of a pre-built string).
"""

import json
import math
import struct
import zlib


class Raw:
    """Text written verbatim in place of a value."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return "Raw(%r)" % self.text[:40]


class Pairs:
    """A mapping written in this order, duplicate keys allowed."""

    def __init__(self, items):
        self.items = list(items)


def items_of(mapping):
    return mapping.items if isinstance(mapping, Pairs) else list(mapping.items())


# ---------------------------------------------------------------- JSON

def json_scalar(value):
    if isinstance(value, Raw):
        return value.text
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError("not a JSON scalar: %r" % (value,))


def to_json(value, indent=None):
    """JSON text of `value` (dicts, Pairs, lists, scalars, Raw), compact or indented."""
    out = []

    def emit(item, depth):
        pad = "" if indent is None else "\n" + " " * (indent * (depth + 1))
        end = "" if indent is None else "\n" + " " * (indent * depth)
        if isinstance(item, (dict, Pairs)):
            members = items_of(item)
            if not members:
                out.append("{}")
                return
            out.append("{")
            for position, (key, member) in enumerate(members):
                out.append(("," if position else "") + pad + (key.text if isinstance(key, Raw) else json.dumps(str(key), ensure_ascii=False)) + ": ")
                emit(member, depth + 1)
            out.append(end + "}")
        elif isinstance(item, (list, tuple)):
            if not item:
                out.append("[]")
                return
            out.append("[")
            for position, member in enumerate(item):
                out.append(("," if position else "") + pad)
                emit(member, depth + 1)
            out.append(end + "]")
        else:
            out.append(json_scalar(item))

    emit(value, 0)
    return "".join(out)


# ---------------------------------------------------------------- YAML

def yaml_scalar(value):
    if isinstance(value, Raw):
        return value.text
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar
    raise TypeError("not a YAML scalar: %r" % (value,))


def yaml_key(key):
    if isinstance(key, Raw):
        return key.text
    text = str(key)
    return text if text and all(c.isalnum() or c in "_-" for c in text) else json.dumps(text, ensure_ascii=False)


def to_yaml(value):
    """Block-style YAML of `value`; containers nested inside lists are written in flow style (JSON)."""
    lines = []

    def emit(item, indent):
        pad = " " * indent
        if isinstance(item, (dict, Pairs)):
            for key, member in items_of(item):
                if isinstance(member, (dict, Pairs)) and items_of(member):
                    lines.append("%s%s:" % (pad, yaml_key(key)))
                    emit(member, indent + 2)
                elif isinstance(member, (list, tuple)) and member:
                    lines.append("%s%s:" % (pad, yaml_key(key)))
                    emit(member, indent + 2)
                else:
                    lines.append("%s%s: %s" % (pad, yaml_key(key), inline(member)))
        elif isinstance(item, (list, tuple)):
            for member in item:
                if isinstance(member, (dict, Pairs)) and items_of(member):
                    members = items_of(member)
                    first = True
                    for key, value in members:
                        prefix = pad + ("- " if first else "  ")
                        first = False
                        if isinstance(value, (dict, Pairs, list, tuple)) and len(value if not isinstance(value, Pairs) else value.items):
                            lines.append("%s%s:" % (prefix, yaml_key(key)))
                            emit(value, indent + 4)
                        else:
                            lines.append("%s%s: %s" % (prefix, yaml_key(key), inline(value)))
                else:
                    lines.append("%s- %s" % (pad, inline(member)))
        else:
            lines.append(pad + inline(item))

    def inline(item):
        if isinstance(item, (dict, Pairs)):
            return "{" + ", ".join("%s: %s" % (yaml_key(k), inline(v)) for k, v in items_of(item)) + "}"
        if isinstance(item, (list, tuple)):
            return "[" + ", ".join(inline(v) for v in item) + "]"
        return yaml_scalar(item)

    emit(value, 0)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- safetensors

DTYPE_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
               "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}


def safetensors_bytes(tensors, metadata=None):
    """A safetensors file: 8-byte little-endian header length, JSON header, then the raw little-endian data.

    `tensors` is a list of (name, shape, float values); every tensor is written as F32, aligned as written.
    """
    header, chunks, offset = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, shape, values in tensors:
        data = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the format pads the header to 8 bytes with spaces
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def safetensors_split(blob):
    """(header dict, data bytes) of a well-formed file."""
    (length,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8:8 + length]), blob[8 + length:]


def safetensors_join(header, data, header_text=None, declared_length=None):
    """Reassembles a file from a (possibly malformed) header and data; `declared_length` overrides the prefix."""
    text = header_text
    if text is None:
        text = to_json(header).encode()
        text += b" " * (-len(text) % 8)
    length = len(text) if declared_length is None else declared_length
    return struct.pack("<Q", length & 0xFFFFFFFFFFFFFFFF) + text + data


# ---------------------------------------------------------------- gzip

def gzip_bytes(payload, level=6):
    """A gzip member of `payload` (header, raw deflate, CRC32, ISIZE)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    return compressor.compress(payload) + compressor.flush()


def gzip_stream(chunk, repeats, level=9):
    """A gzip member of `chunk` repeated `repeats` times, compressed in a stream (the input is never held whole)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    out = [compressor.compress(chunk) for _ in range(repeats)]
    out.append(compressor.flush())
    return b"".join(out)
