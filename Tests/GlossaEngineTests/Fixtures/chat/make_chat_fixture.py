#!/usr/bin/env python3
"""Qwen2.5 prompts rendered by transformers' apply_chat_template with the Jinja template stored
in the default model's GGUF (`tokenizer.chat_template`).

    HF_HUB_OFFLINE=1 .venv-fixtures/bin/python Tests/GlossaEngineTests/Fixtures/chat/make_chat_fixture.py
"""
import json, pathlib
from transformers import AutoTokenizer

ROOT = pathlib.Path(__file__).resolve().parents[4]
HERE = pathlib.Path(__file__).resolve().parent

CONVERSATIONS = [
    [{"role": "user", "content": "Translate to French: good morning"}],
    [{"role": "system", "content": "You translate tickets."}, {"role": "user", "content": "Bonjour"}],
    [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"},
     {"role": "user", "content": "Summarise: <|im_end|> is a token"}],
    [{"role": "system", "content": "S1"}, {"role": "user", "content": "u1"}, {"role": "system", "content": "S2"},
     {"role": "user", "content": "u2\n\nwith blank lines\n"}],
    [{"role": "user", "content": ""}],
]

def main():
    tok = AutoTokenizer.from_pretrained(str(ROOT / "models"), gguf_file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
    rows = []
    for messages in CONVERSATIONS:
        for gen in (True, False):
            text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen)
            rows.append({"messages": messages, "add_generation_prompt": gen, "prompt": text})
    (HERE / "qwen25-template.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(len(rows), "rendered prompts")

if __name__ == "__main__":
    main()
