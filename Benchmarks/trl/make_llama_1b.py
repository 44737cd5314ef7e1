#!/usr/bin/env python3
"""Writes a 1B-class Llama with random weights (issue 21's memory check): TinyLlama-1.1B's shape (hidden 2048, 22
layers, 32 heads, 4 key/value heads, MLP 5632, untied output head) over another model folder's tokenizer, float32
safetensors, so that `charter sft --model OUT` can train it. Needs torch and transformers (PyPI); nothing in
`swift build` or `swift test` uses it.

    python3 Benchmarks/trl/make_llama_1b.py --tokenizer-from /tmp/smolmodel --output /tmp/llama1b
"""
import argparse
import json
import pathlib
import shutil

import torch
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokenizer-from", required=True, help="a model folder whose tokenizer files are copied (its vocabulary size is used)")
    parser.add_argument("--output", required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    source, output = pathlib.Path(args.tokenizer_from), pathlib.Path(args.output)
    vocabulary = json.loads((source / "config.json").read_text())["vocab_size"]
    config = LlamaConfig(vocab_size=vocabulary, hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
                         num_attention_heads=32, num_key_value_heads=4, max_position_embeddings=2048,
                         rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False,
                         bos_token_id=1, eos_token_id=2, pad_token_id=2)
    torch.manual_seed(args.seed)
    model = LlamaForCausalLM(config).to(torch.float32)
    parameters = sum(p.numel() for p in model.parameters())
    model.save_pretrained(output, safe_serialization=True, max_shard_size="20GB")
    for name in ["tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json", "generation_config.json"]:
        if (source / name).exists():
            shutil.copy(source / name, output / name)
    print(f"{output}: {parameters / 1e9:.3f}B parameters, vocabulary {vocabulary}")


if __name__ == "__main__":
    main()
