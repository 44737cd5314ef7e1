"""Valid inputs Charter accepts, built in pure Python: the seeds every mutation starts from.

Two tiny model folders (Llama and GPT-2: hidden size 16, 2 layers, a 300-token byte-level BPE tokenizer), SFT data
(prompt/completion and messages, plain and gzip), DPO preference data, `charter sft`/`charter dpo` recipes, a
pipeline recipe and a constitution. Everything is deterministic: the same call writes the same bytes.
"""

import json
import random

from .formats import gzip_bytes, safetensors_bytes, to_json, to_yaml

HIDDEN = 16
LAYERS = 2
HEADS = 2
INTERMEDIATE = 32
VOCAB = 300
POSITIONS = 128
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CORPUS = ("the cat sat on the mat. the dog ate the bone. say hello to the world, then say it again. "
          "what is one and one? one and one is two. the assistant answers the question politely.")


def byte_alphabet():
    """GPT-2's byte → printable character table (bytes_to_unicode)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    characters, extra = printable[:], 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            characters.append(256 + extra)
            extra += 1
    return {byte: chr(code) for byte, code in zip(printable, characters)}


def tokenizer_json(merge_count=40):
    """A byte-level BPE tokenizer.json: <|endoftext|>, the 256 byte symbols, `merge_count` merges learnt on CORPUS,
    then <|im_start|> and <|im_end|> as added tokens (ids 297, 298)."""
    alphabet = byte_alphabet()
    vocab = {SPECIAL[0]: 0}
    for byte in range(256):
        vocab[alphabet[byte]] = len(vocab)
    words = [[alphabet[b] for b in (word if index == 0 else " " + word).encode()] for index, word in enumerate(CORPUS.split(" "))]
    merges = []
    while len(merges) < merge_count:
        counts = {}
        for word in words:
            for pair in zip(word, word[1:]):
                counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            break
        best = max(sorted(counts), key=lambda pair: counts[pair])
        merges.append([best[0], best[1]])
        vocab.setdefault(best[0] + best[1], len(vocab))
        for word in words:
            index = 0
            while index < len(word) - 1:
                if (word[index], word[index + 1]) == best:
                    word[index:index + 2] = [best[0] + best[1]]
                index += 1
    added = [{"id": 0, "content": SPECIAL[0], "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}]
    for name in SPECIAL[1:]:
        added.append({"id": len(vocab), "content": name, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True})
        vocab[name] = len(vocab)
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False, "vocab": vocab, "merges": merges},
    }


def _weights(rng, count, scale=0.05):
    return [rng.uniform(-scale, scale) for _ in range(count)]


def llama_files(rng):
    """config.json (dict) and tensors [(name, shape, values)] of a tiny tied-embedding Llama."""
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": VOCAB, "hidden_size": HIDDEN,
              "intermediate_size": INTERMEDIATE, "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
              "num_key_value_heads": 1, "head_dim": HIDDEN // HEADS, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
              "attention_bias": False, "mlp_bias": False, "tie_word_embeddings": True, "max_position_embeddings": POSITIONS,
              "hidden_act": "silu", "bos_token_id": 0, "eos_token_id": 0, "torch_dtype": "float32"}
    head = HIDDEN // HEADS
    tensors = [("model.embed_tokens.weight", [VOCAB, HIDDEN], _weights(rng, VOCAB * HIDDEN))]
    for layer in range(LAYERS):
        prefix = "model.layers.%d" % layer
        tensors += [
            (prefix + ".input_layernorm.weight", [HIDDEN], [1.0] * HIDDEN),
            (prefix + ".self_attn.q_proj.weight", [HEADS * head, HIDDEN], _weights(rng, HEADS * head * HIDDEN)),
            (prefix + ".self_attn.k_proj.weight", [head, HIDDEN], _weights(rng, head * HIDDEN)),
            (prefix + ".self_attn.v_proj.weight", [head, HIDDEN], _weights(rng, head * HIDDEN)),
            (prefix + ".self_attn.o_proj.weight", [HIDDEN, HEADS * head], _weights(rng, HIDDEN * HEADS * head)),
            (prefix + ".post_attention_layernorm.weight", [HIDDEN], [1.0] * HIDDEN),
            (prefix + ".mlp.gate_proj.weight", [INTERMEDIATE, HIDDEN], _weights(rng, INTERMEDIATE * HIDDEN)),
            (prefix + ".mlp.up_proj.weight", [INTERMEDIATE, HIDDEN], _weights(rng, INTERMEDIATE * HIDDEN)),
            (prefix + ".mlp.down_proj.weight", [HIDDEN, INTERMEDIATE], _weights(rng, HIDDEN * INTERMEDIATE)),
        ]
    tensors.append(("model.norm.weight", [HIDDEN], [1.0] * HIDDEN))
    return config, tensors


def gpt2_files(rng):
    """config.json (dict) and tensors of a tiny GPT-2 (Conv1D weights stored (in, out), q/k/v fused in c_attn)."""
    config = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": VOCAB, "n_positions": POSITIONS,
              "n_ctx": POSITIONS, "n_layer": LAYERS, "n_head": HEADS, "n_embd": HIDDEN, "layer_norm_epsilon": 1e-5,
              "activation_function": "gelu_new", "tie_word_embeddings": True, "bos_token_id": 0, "eos_token_id": 0}
    tensors = [("transformer.wte.weight", [VOCAB, HIDDEN], _weights(rng, VOCAB * HIDDEN)),
               ("transformer.wpe.weight", [POSITIONS, HIDDEN], _weights(rng, POSITIONS * HIDDEN))]
    for layer in range(LAYERS):
        prefix = "transformer.h.%d" % layer
        for norm in ("ln_1", "ln_2"):
            tensors += [(prefix + "." + norm + ".weight", [HIDDEN], [1.0] * HIDDEN), (prefix + "." + norm + ".bias", [HIDDEN], [0.0] * HIDDEN)]
        for name, rows, columns in (("attn.c_attn", HIDDEN, 3 * HIDDEN), ("attn.c_proj", HIDDEN, HIDDEN),
                                    ("mlp.c_fc", HIDDEN, 4 * HIDDEN), ("mlp.c_proj", 4 * HIDDEN, HIDDEN)):
            tensors += [(prefix + "." + name + ".weight", [rows, columns], _weights(rng, rows * columns)),
                        (prefix + "." + name + ".bias", [columns], _weights(rng, columns, 0.01))]
    tensors += [("transformer.ln_f.weight", [HIDDEN], [1.0] * HIDDEN), ("transformer.ln_f.bias", [HIDDEN], [0.0] * HIDDEN)]
    return config, tensors


def model_folder(architecture):
    """{file name: bytes} of a complete model folder ('llama' or 'gpt2')."""
    rng = random.Random("charter-fuzz-weights-" + architecture)
    config, tensors = (llama_files if architecture == "llama" else gpt2_files)(rng)
    return {
        "config.json": (json.dumps(config, indent=2) + "\n").encode(),
        "model.safetensors": safetensors_bytes(tensors, metadata={"format": "pt"}),
        "tokenizer.json": json.dumps(tokenizer_json(), ensure_ascii=False).encode(),
        "tokenizer_config.json": json.dumps({"eos_token": SPECIAL[0], "pad_token": SPECIAL[0], "bos_token": None}).encode(),
    }


def sft_records():
    """SFT examples in both of TRL's forms the fuzz commands read: prompt/completion and messages."""
    plain = [{"prompt": "say %d:" % n, "completion": " %d and %d" % (n, n)} for n in range(4)]
    chat = [{"messages": [{"role": "user", "content": "hello %d" % n}, {"role": "assistant", "content": "hi %d" % n}]} for n in range(4)]
    return plain, chat


def jsonl(records):
    return ("\n".join(to_json(record) for record in records) + "\n").encode()


def preference_records():
    return [{"prompt": "say %d:" % n, "chosen": " %d" % n, "rejected": " no"} for n in range(4)]


def sft_recipe():
    """A `charter sft --config` recipe that trains one step on the tiny Llama (paths relative to the case folder)."""
    return {"model_name_or_path": "model", "dataset_name": "data.jsonl", "output_dir": "out", "max_steps": 1,
            "per_device_train_batch_size": 2, "gradient_accumulation_steps": 1, "learning_rate": 1.0e-3,
            "lr_scheduler_type": "cosine", "warmup_steps": 0, "max_length": 32, "logging_steps": 1, "save_steps": 0,
            "weight_decay": 0.0, "max_grad_norm": 1.0, "seed": 3, "completion_only_loss": True, "packing": False}


def dpo_recipe():
    """A `charter dpo --config` recipe: one step with LoRA (so no reference copy is needed)."""
    return {"model_name_or_path": "model", "dataset_name": "prefs.jsonl", "output_dir": "out", "max_steps": 1,
            "per_device_train_batch_size": 2, "learning_rate": 1.0e-3, "beta": 0.1, "max_length": 32, "max_prompt_length": 16,
            "logging_steps": 1, "save_steps": 0, "seed": 3, "use_peft": True, "lora_r": 2, "lora_alpha": 4.0,
            "lora_dropout": 0.0, "loss_type": "sigmoid", "warmup_steps": 0, "weight_decay": 0.0, "max_grad_norm": 1.0}


def pipeline_recipe():
    """A two-stage pipeline (sample 1 response of 2 tokens per prompt, then one SFT step) that runs in about a second."""
    return {"name": "fuzz", "seed": 5, "constitution": "constitution.yaml", "stages": [
        {"name": "samples", "type": "sample", "model": "model", "prompts": "prompts.jsonl", "k": 1,
         "sampling": {"max_tokens": 2, "temperature": 0.7}, "concurrency": 1, "retries": 0, "retry_delay": 0, "progress": False},
        {"name": "tuned", "type": "sft", "model": "model", "dataset": "data.jsonl",
         "training": {"max_steps": 1, "per_device_train_batch_size": 2, "learning_rate": 1.0e-3, "logging_steps": 1,
                      "max_length": 32, "save_steps": 0}},
    ]}


def constitution():
    """A small valid constitution: two principles and one example of each kind."""
    return {
        "name": "fuzz", "version": "1.0", "description": "A constitution for fuzzing.",
        "principles": [
            {"id": "kind", "category": "harmlessness", "critique_request": "Point out anything unkind.",
             "revision_request": "Rewrite it kindly.", "comparison": "Which reply is kinder?", "source": "fuzz", "weight": 2},
            {"id": "true", "category": "honesty", "critique_request": "Point out anything false.",
             "revision_request": "Rewrite it truthfully.", "comparison": "Which reply is more honest?"},
        ],
        "critique_examples": [{"conversation": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "go away"}],
                               "critique_request": "Point out anything unkind.", "critique": "It is rude.",
                               "revision_request": "Rewrite it kindly.", "revision": "Hello! How can I help?"}],
        "comparison_examples": [{"conversation": [{"role": "user", "content": "hi"}], "principle": "Which reply is kinder?",
                                 "response_a": "hello", "response_b": "go away", "preferred": "A", "reasoning": "(A) is polite."}],
    }


def prompts_jsonl():
    return jsonl([{"id": "p%d" % n, "prompt": text} for n, text in enumerate(["hello there", "say one", "the cat"])])


def common_files():
    """Files every case folder starts with besides the model: data, prompts, recipes, constitution."""
    plain, chat = sft_records()
    return {
        "data.jsonl": jsonl(plain),
        "chat.jsonl": jsonl(chat),
        "data.jsonl.gz": gzip_bytes(jsonl(plain)),
        "prefs.jsonl": jsonl(preference_records()),
        "prompts.jsonl": prompts_jsonl(),
        "score.jsonl": jsonl([{"text": "hello world"}, {"prompt": "say 1:", "completion": " 1 and 1"}]),
        "recipe.yaml": to_yaml(sft_recipe()).encode(),
        "dpo.yaml": to_yaml(dpo_recipe()).encode(),
        "pipeline.yaml": to_yaml(pipeline_recipe()).encode(),
        "constitution.yaml": to_yaml(constitution()).encode(),
    }
