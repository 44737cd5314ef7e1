#!/usr/bin/env python3
"""transformers reference for `charter bench generate`: greedy generation with a KV cache on a ~30M-parameter
Llama-shape model (random weights, seeded), CPU, eager attention, the same threads.

    python3 Benchmarks/transformers/bench_generate.py --save-model /tmp/charter-llama30m   # once: writes the model
    python3 Benchmarks/transformers/bench_generate.py --model /tmp/charter-llama30m --threads 2
    .build/release/charter bench generate --model /tmp/charter-llama30m --threads 2

Model: hidden 512, 8 layers, 8 heads / 4 key-value heads (GQA), MLP 1408, vocab 16000, tied embeddings
(31.8M parameters). Prompt: 64 random ids (seed 0), batch 1; 128 new tokens, greedy, no early stop.
prefill_tokens_per_s = prompt length / time of the prompt's forward pass (generate with max_new_tokens=1);
decode_tokens_per_s = 127 / (time of generating 128 tokens − prefill time). Medians over --repeats runs after a
warm-up. Prints one JSON line.
"""
import argparse
import json
import statistics
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

CONFIG = dict(vocab_size=16000, hidden_size=512, intermediate_size=1408, num_hidden_layers=8, num_attention_heads=8,
              num_key_value_heads=4, max_position_embeddings=2048, rms_norm_eps=1e-5, tie_word_embeddings=True,
              bos_token_id=1, eos_token_id=2, pad_token_id=0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model")
    parser.add_argument("--save-model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--prompt-length", type=int, default=64)
    parser.add_argument("--new-tokens", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.save_model:
        model = LlamaForCausalLM(LlamaConfig(**CONFIG))
        model.save_pretrained(args.save_model, safe_serialization=True)
        print(json.dumps({"saved": args.save_model, "params": sum(p.numel() for p in model.parameters())}))
        return
    model = LlamaForCausalLM.from_pretrained(args.model, attn_implementation="eager", torch_dtype=torch.float32).eval()
    prompt = torch.randint(3, CONFIG["vocab_size"], (1, args.prompt_length), generator=torch.Generator().manual_seed(0))

    def timed(new_tokens):
        start = time.perf_counter()
        with torch.no_grad():
            model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                           do_sample=False, use_cache=True, pad_token_id=0)
        return time.perf_counter() - start

    timed(args.new_tokens)  # warm-up
    prefill = statistics.median(timed(1) for _ in range(args.repeats))
    full = statistics.median(timed(args.new_tokens) for _ in range(args.repeats))
    print(json.dumps({
        "impl": "transformers", "bench": "generate", "threads": args.threads, "prompt_len": args.prompt_length,
        "new_tokens": args.new_tokens, "prefill_tokens_per_s": args.prompt_length / prefill,
        "decode_tokens_per_s": (args.new_tokens - 1) / (full - prefill), "params": sum(p.numel() for p in model.parameters()),
    }))


if __name__ == "__main__":
    main()
