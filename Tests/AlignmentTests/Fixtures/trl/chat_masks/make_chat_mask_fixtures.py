"""Golden ids and assistant masks for built-in chat formats on a tokenizer that is not the family's.

Run from the repository root after `swift build` (transformers 5.x, TRL 1.16):

    python3 Tests/AlignmentTests/Fixtures/trl/chat_masks/make_chat_mask_fixtures.py .build/debug/charter

For each format, `charter export trl sft` writes the chat_template.jinja TRL trains conversational SFT with
(assistant_only_loss: the training copy, `{% generation %}` around each assistant turn); transformers'
`apply_chat_template(..., return_assistant_tokens_mask=True)` with that file and the tiny policy's tokenizer (which has
none of the formats' special tokens, so tokens can straddle a turn's boundaries) gives the ids and masks TRL trains
on. TRLExportChatTemplateTests encodes the same conversations with Charter's native formats and must get the same.
Writes expected_masks.json.
"""
import json
import os
import subprocess
import sys
import tempfile

from transformers import AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
POLICY = os.path.join(HERE, "..", "policy")
FORMATS = ["chatml", "qwen2.5", "llama3", "llama3.1", "mistral", "mistral-v1", "gemma", "gemma2", "llama2", "hh"]
CONVERSATIONS = [
    [{"role": "user", "content": "Complete: The sky is"}, {"role": "assistant", "content": "blue."}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Two plus two?"},
     {"role": "assistant", "content": "four."}],
    [{"role": "user", "content": "Hi!\n"}, {"role": "assistant", "content": "\n\nHello there.\n"},
     {"role": "user", "content": "  A joke?"}, {"role": "assistant", "content": " No, sorry."}],
]


def main():
    charter = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/charter")
    tokenizer = AutoTokenizer.from_pretrained(POLICY)
    cases = []
    with tempfile.TemporaryDirectory() as folder:
        chats = os.path.join(folder, "chats.jsonl")
        with open(chats, "w") as out:
            out.write(json.dumps({"messages": CONVERSATIONS[0]}) + "\n")
        for name in FORMATS:
            export = os.path.join(folder, name)
            subprocess.run([charter, "export", "trl", "sft", "--model", os.path.abspath(POLICY), "--dataset", chats,
                            "--chat-template", name, "--output", export], check=True, capture_output=True)
            source = open(os.path.join(export, "chat_template.jinja")).read()
            assert "generation %}" in source, name
            for index, messages in enumerate(CONVERSATIONS):
                if name in ("gemma2", "hh", "llama2") and messages[0]["role"] == "system":
                    continue  # the format refuses a system message
                out = tokenizer.apply_chat_template(messages, chat_template=source, tokenize=True, return_dict=True,
                                                    return_assistant_tokens_mask=True)
                cases.append({"format": name, "conversation": index, "ids": out["input_ids"],
                              "mask": "".join(str(bit) for bit in out["assistant_masks"])})
    with open(os.path.join(HERE, "expected_masks.json"), "w") as handle:
        json.dump({"conversations": CONVERSATIONS, "cases": cases}, handle)
        handle.write("\n")
    print(f"wrote expected_masks.json ({len(cases)} cases)")


if __name__ == "__main__":
    main()
