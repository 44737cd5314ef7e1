#!/usr/bin/env python3
"""Writes a randomly initialised ~3M-parameter Llama folder (transformers' LlamaForCausalLM, save_pretrained) with the
test suite's GPT-2 byte-level tokenizer, as the starting model for timing `charter audit --ensemble` per 1,000 pairs.

Usage: python3 scripts/make_reward_base.py --output /tmp/rm-base-3m
"""
import argparse
import os
import shutil

import torch
from transformers import LlamaConfig, LlamaForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKENIZER = os.path.join(ROOT, "Tests", "TokenizersTests", "Fixtures", "gpt2", "tokenizer.json")

parser = argparse.ArgumentParser()
parser.add_argument("--output", required=True)
parser.add_argument("--seed", type=int, default=1)
args = parser.parse_args()

torch.manual_seed(args.seed)
config = LlamaConfig(vocab_size=1008, hidden_size=256, intermediate_size=512, num_hidden_layers=4, num_attention_heads=4,
                     num_key_value_heads=4, max_position_embeddings=1024, tie_word_embeddings=True,
                     bos_token_id=None, eos_token_id=0, pad_token_id=0)
model = LlamaForCausalLM(config)
model.save_pretrained(args.output)
shutil.copy(TOKENIZER, os.path.join(args.output, "tokenizer.json"))
with open(os.path.join(args.output, "tokenizer_config.json"), "w") as f:
    f.write('{"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>"}\n')
print(f"{args.output}: {sum(p.numel() for p in model.parameters()):,} parameters")
