#!/usr/bin/env python3
"""Renders every chat template in templates/ on a fixed set of conversations with transformers, the reference
TemplatesTests compares Charter's Jinja interpreter against byte for byte.

Run from anywhere:  python3 Tests/TemplatesTests/Fixtures/make_references.py
Needs: transformers (5.x) and jinja2 (>= 3.1.6).  Writes references.json next to this script:

  {"transformers": version, "jinja2": version, "now": "...", "context": {special tokens},
   "conversations": {name: {"messages": [...], "tools": [...] (optional)}},
   "cases": [{"template": family, "conversation": name, "add_generation_prompt": bool,
              "text": rendered text}  or  {..., "error": str(exception), "error_type": class name}]}

Rendering goes through transformers' own render_jinja_template (its sandboxed jinja2 environment with
trim_blocks, lstrip_blocks, loop controls, raise_exception, strftime_now, namespace, dict and its tojson), exactly as
tokenizer.apply_chat_template calls it, with the tokenizer's special tokens as extra variables. strftime_now reads a
fixed clock (NOW below, UTC) so that date-stamped templates (Llama 3.2, Granite, SmolLM3) are reproducible.
"""
import datetime as real_datetime
import json
import os

import jinja2
import transformers
import transformers.utils.chat_template_utils as chat_template_utils
from transformers.utils.chat_template_utils import render_jinja_template

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "templates")

NOW = real_datetime.datetime(2024, 7, 26, 10, 30, 0)


class FixedClock(real_datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW


chat_template_utils.datetime = FixedClock

# What apply_chat_template adds from the tokenizer (its special_tokens_map); the same for every family here, since
# the test is about the interpreter, not about any one tokenizer.
CONTEXT = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city"],
        },
    },
}

CONVERSATIONS = {
    "single-turn": {"messages": [{"role": "user", "content": "Hello, how are you?"}]},
    "system-multi-turn": {"messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is 2 + 2?"},
        {"role": "assistant", "content": "2 + 2 = 4."},
        {"role": "user", "content": "And times 3?"},
    ]},
    "ends-with-assistant": {"messages": [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "  Hello! How can I help?  "},
        {"role": "user", "content": "Tell me a joke.\n"},
        {"role": "assistant", "content": "Why did the chicken cross the road?"},
    ]},
    "unicode-and-quotes": {"messages": [
        {"role": "system", "content": "Réponds en français. 🙂"},
        {"role": "user", "content": "Qu'est-ce que \"Jinja\" ?\nRéponds\ten une ligne \\ merci."},
        {"role": "assistant", "content": "Un moteur de gabarits — «Jinja» <b>&</b>."},
    ]},
    "tool-call": {
        "tools": [WEATHER_TOOL],
        "messages": [
            {"role": "user", "content": "What's the weather in Paris?"},
            {"role": "assistant", "content": "", "tool_calls": [{
                "id": "call12345", "type": "function",
                "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}]},
            {"role": "tool", "tool_call_id": "call12345", "name": "get_weather", "content": "22°C and sunny"},
            {"role": "assistant", "content": "It is 22°C and sunny in Paris."},
        ],
    },
}


def render(template, conversation, add_generation_prompt):
    rendered, _ = render_jinja_template(
        conversations=[conversation["messages"]],
        tools=conversation.get("tools"),
        chat_template=template,
        add_generation_prompt=add_generation_prompt,
        **CONTEXT,
    )
    return rendered[0]


def main():
    cases = []
    for file in sorted(os.listdir(TEMPLATES)):
        if not file.endswith(".jinja"):
            continue
        with open(os.path.join(TEMPLATES, file), encoding="utf-8") as handle:
            template = handle.read()
        for name, conversation in CONVERSATIONS.items():
            for add_generation_prompt in (False, True):
                case = {"template": file[:-len(".jinja")], "conversation": name,
                        "add_generation_prompt": add_generation_prompt}
                try:
                    case["text"] = render(template, conversation, add_generation_prompt)
                except Exception as error:  # the reference records what transformers raises
                    case["error"] = str(error)
                    case["error_type"] = type(error).__name__
                cases.append(case)
    references = {
        "transformers": transformers.__version__, "jinja2": jinja2.__version__, "now": NOW.isoformat(),
        "context": CONTEXT, "conversations": CONVERSATIONS, "cases": cases,
    }
    with open(os.path.join(HERE, "references.json"), "w", encoding="utf-8") as handle:
        json.dump(references, handle, ensure_ascii=False, indent=1)
        handle.write("\n")
    errors = sum("error" in case for case in cases)
    print(f"{len(cases)} cases ({errors} raise) from {len(cases) // (2 * len(CONVERSATIONS))} templates")


if __name__ == "__main__":
    main()
