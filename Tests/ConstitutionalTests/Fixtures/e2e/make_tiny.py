# A tiny random Llama with the gpt2 tokenizer fixture (for exercising the CLI; it writes gibberish).
import json, shutil, sys, torch
from transformers import LlamaConfig, LlamaForCausalLM
out = sys.argv[1]
torch.manual_seed(int(sys.argv[2]))
config = LlamaConfig(vocab_size=1008, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=2, max_position_embeddings=4096, tie_word_embeddings=True)
model = LlamaForCausalLM(config)
model.save_pretrained(out, safe_serialization=True)
shutil.copy(sys.argv[3], f"{out}/tokenizer.json")
json.dump({"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "bos_token": None}, open(f"{out}/tokenizer_config.json", "w"))
