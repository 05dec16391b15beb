#!/usr/bin/env python3
"""Token ids from Hugging Face `tokenizers` with the real Qwen vocabulary, for Glossa's
tokenizer parity test.

    .venv-fixtures/bin/pip install transformers==5.24.0 tokenizers==0.23.3 gguf==0.19.0 babel==2.18.0
    HF_HUB_OFFLINE=1 .venv-fixtures/bin/python Tests/GlossaEngineTests/Fixtures/tokenizer/make_tokenizer_fixture.py

Two tokenizers, both from the default model's GGUF (models/, installed by scripts/setup.sh):
- "gguf": exactly as transformers builds it from the GGUF (no normalizer, like llama.cpp);
- "qwen3": the same BPE with an NFC normalizer and Qwen3's added tokens <tool_response>
  151665, </tool_response> 151666, <think> 151667, </think> 151668 (as in Qwen3's
  tokenizer.json), loaded with `tokenizers` itself.
Strings (>= 1,000): CLDR text in ~110 locales (every script of Qwen3's languages), the sample
corpora, emoji, code, digits, whitespace and newline mixes, decomposed accents, and
special-token text inside ordinary text.
"""
import json, pathlib, random, subprocess, unicodedata
import babel
from tokenizers import Tokenizer, normalizers
from transformers import AutoTokenizer

ROOT = pathlib.Path(__file__).resolve().parents[4]
HERE = pathlib.Path(__file__).resolve().parent
GGUF = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"

LOCALES = """af am ar as ast az be bg bn bs ca ceb cs cy da de el en es et eu fa fi fo fr fur ga gl gu
he hi hr hu hy id is it ja jv ka kk km kn ko ky lb lo lt lv mk ml mn mr ms mt my nb ne nl nn
or pa pl ps pt ro ru sc sd si sk sl sq sr sr_Latn sv sw ta te tg th tr tt uk ur uz vi yi
yue zh zh_Hant zu bo dv ti ug chr""".split()

def strings():
    rng = random.Random(42)
    out = []
    for loc in LOCALES:
        try:
            l = babel.Locale.parse(loc)
        except Exception:
            continue
        words = [w for w in list(l.territories.values()) + list(l.languages.values()) if w]
        for _ in range(7):
            out.append(" ".join(rng.choice(words) for _ in range(rng.randint(1, 9))))
    raw = subprocess.run(["zstd", "-dc", str(ROOT / "corpora" / "sample-documents.jsonl.zst")],
                         check=True, capture_output=True).stdout.decode("utf-8")
    for line in raw.splitlines():
        out.append(json.loads(line)["text"])
    out += [
        "", " ", "  ", "\n", "\n\n", " \n", "\r\n", "a\r\nb", "\t\tindent", "x  \n  y", "trailing   ",
        "   leading", "a \t b", "\u00a0nbsp\u00a0", "\u3000全角\u3000", "1234567890", "3.14159", "1,000,000",
        "٠١٢٣٤٥٦٧٨٩", "०१२३", "①②③", "Ⅻ", "x²+y³", "don't I'll we've they're she'd It'S YOU'RE 'll 'ſ",
        "def f(x):\n    return x ** 2  # square\n", "for (int i = 0; i < n; i++) { a[i] = b[i]; }",
        "<div class=\"x\">&amp;</div>", "SELECT * FROM t WHERE id = 42;", "https://example.com/a?b=c&d=e#f",
        "user@example.org", "@mention #tag ABC-123", "```python\nprint('hi')\n```", "$ ls -la | grep \"x\"",
        "😀😃😄", "👩\u200d💻 👨\u200d👩\u200d👧\u200d👦", "🇺🇸🇯🇵", "👍🏽", "❤️‍🔥", "🏳️‍🌈", "a😀b",
        "e\u0301 vs é", "Cafe\u0301", "\u1112\u1161\u11ab\u1100\u1173\u11af", "ｶﾞ", "ﬁ", "Å Å",
        "<|im_start|>user\nhello<|im_end|>", "text <|endoftext|> more", "<think>\nreasoning\n</think>\n\nanswer",
        "<tool_call>{\"a\": 1}</tool_call>", "<|im_end|><|im_end|>", "<|im_start", "im_end|>", "<think",
        "[PAD151665]", "<|fim_prefix|>x<|fim_suffix|>", "<<|im_end|>>", "a<think>b</think>c",
        "ALL CAPS SENTENCE.", "MiXeD cAsE", "snake_case_name camelCaseName", "...", "!!!???", "—–-",
        "\u200b\u200c\u200d\ufeff", "\x00\x01\x7f", "tab\there", "\u2028line\u2029para", "a\u0085b",
        "Ελληνικά κείμενα", "עברית עם ניקוד: שָׁלוֹם", "العربية: مَرْحَبًا", "हिन्दी क्‍ष", "ไทย ภาษา",
        "ភាសាខ្មែរ", "မြန်မာ", "ລາວ", "ᏣᎳᎩ", "ꦧꦱꦗꦮ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𠀀𠀁", "\U0010ffff",
    ]
    # Random code points from many blocks, and random mixes of the pieces above.
    blocks = [(0x20, 0x7e), (0xa0, 0x24f), (0x370, 0x3ff), (0x400, 0x4ff), (0x590, 0x6ff), (0x900, 0xdff),
              (0xe00, 0xeff), (0x1000, 0x109f), (0x1100, 0x11ff), (0x3040, 0x30ff), (0x4e00, 0x9fff),
              (0xac00, 0xd7a3), (0x1f300, 0x1f64f), (0x2000, 0x206f)]
    for _ in range(150):
        s = []
        for _ in range(rng.randint(1, 20)):
            lo, hi = rng.choice(blocks)
            c = rng.randint(lo, hi)
            if 0xd800 <= c <= 0xdfff:
                continue
            s.append(chr(c))
        out.append("".join(s))
    for _ in range(100):
        out.append(rng.choice(["", " ", "\n", "  "]).join(rng.choice(out[:600]) for _ in range(rng.randint(2, 4))))
    return out

def main():
    hf = AutoTokenizer.from_pretrained(str(ROOT / "models"), gguf_file=GGUF)
    gguf = hf.backend_tokenizer
    spec = json.loads(gguf.to_str())
    qwen3_added = {151665: "<tool_response>", 151666: "</tool_response>", 151667: "<think>", 151668: "</think>"}
    vocab = spec["model"]["vocab"]
    for token_id, content in qwen3_added.items():
        old = next(k for k, v in vocab.items() if v == token_id)
        del vocab[old]
        vocab[content] = token_id
    spec["added_tokens"] = [t for t in spec["added_tokens"] if t["id"] not in qwen3_added]
    spec["added_tokens"] += [{"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False,
                              "normalized": False, "special": False} for i, c in qwen3_added.items()]
    spec["normalizer"] = {"type": "NFC"}
    qwen3 = Tokenizer.from_str(json.dumps(spec))
    texts = strings()
    rows = []
    for text in texts:
        a = gguf.encode(text, add_special_tokens=False).ids
        b = qwen3.encode(text, add_special_tokens=False).ids
        rows.append(json.dumps({"text": text, "gguf": a, "qwen3": b}, ensure_ascii=False))
    (HERE / "tokenizer-ids.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    subprocess.run(["zstd", "-19", "-q", "-f", "--rm", str(HERE / "tokenizer-ids.jsonl")], check=True)
    added = [(t["id"], t["content"], t["special"]) for t in spec["added_tokens"]]
    print(len(rows), "strings;", len(added), "added tokens; pre-tokenizer:", json.dumps(spec["pre_tokenizer"])[:300])

if __name__ == "__main__":
    main()
