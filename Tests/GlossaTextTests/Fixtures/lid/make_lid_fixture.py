#!/usr/bin/env python3
"""Reference predictions of fastText itself on lid.176.ftz, for Glossa's parity test.

Run once (outputs are committed next to this script):
    python3 -m venv .venv-fixtures
    .venv-fixtures/bin/pip install fasttext-predict==0.9.2.4 babel==2.18.0
    .venv-fixtures/bin/python Tests/GlossaTextTests/Fixtures/lid/make_lid_fixture.py

Lines: words from Unicode CLDR (via Babel: territory, language, month and day names in each
locale, shuffled into pseudo-sentences) for ~100 locales, the project's sample corpora, and
edge cases (empty, digits, emoji, tabs, NUL, label-like tokens, mixed scripts, long lines).
Each line gets fastText's top-5 labels and probabilities (k=5, threshold 0).
"""
import json, random, subprocess, sys, pathlib
import babel
import fasttext

ROOT = pathlib.Path(__file__).resolve().parents[4]
HERE = pathlib.Path(__file__).resolve().parent
MODEL = ROOT / "models" / "lid.176.ftz"

LOCALES = """af am ar as ast az be bg bn bs ca ceb cs cy da de el en es et eu fa fi fo fr fur ga gl gu
ha he hi hr hu hy id ig is it ja jv ka kk km kn ko ky lb lo lt lv mk ml mn mr ms mt my nb ne nl nn
or pa pl ps pt ro ru sc sd si sk sl so sq sr sr_Latn sv sw ta te tg th tk tr tt uk ur uz vi wo
yi yo yue zh zh_Hant zu br kw gd eo qu rm ku ckb ba ce cv os sa""".split()

def cldr_lines(rng, locale_id, count):
    loc = babel.Locale.parse(locale_id)
    words = list(loc.territories.values()) + list(loc.languages.values())
    words += list(loc.months["format"]["wide"].values()) + list(loc.days["format"]["wide"].values())
    words = [w for w in words if w and "\n" not in w]
    lines = []
    for _ in range(count):
        n = rng.randint(3, 14)
        lines.append(" ".join(rng.choice(words) for _ in range(n)))
    return lines

def corpus_lines():
    out = []
    for name in ["sample-documents.jsonl.zst"]:
        raw = subprocess.run(["zstd", "-dc", str(ROOT / "corpora" / name)], check=True, capture_output=True).stdout
        for line in raw.decode("utf-8").splitlines():
            text = json.loads(line)["text"]
            out.append(("corpus", text.replace("\n", " ")))
            for part in text.split("\n"):
                if part.strip():
                    out.append(("corpus-line", part))
    return out

EDGE = [
    "", " ", "\t\t", "12345", "3.14159 2.71828", "🙂🙃😀", "👩\u200d💻 👨\u200d👩\u200d👧", "__label__en", "__label__fr hello",
    "hello\x00world", "tab\tseparated\tvalues", "a\x0bb\x0cc\rd", "UPPERCASE TEXT IS HARD TO CLASSIFY",
    "Hello мир 世界 مرحبا שלום", "x" * 3000, ("Ceci est une phrase. " * 200).strip(),
    "\ufeffbom at start", "é", "ß", "ı", "ꙮ", "\udcff".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    "https://example.com/path?q=1 user@example.org @mention ABC-123",
]

def main():
    rng = random.Random(20261129)
    items = []
    for loc in LOCALES:
        try:
            items += [("cldr:" + loc, l) for l in cldr_lines(rng, loc, 22)]
        except Exception as e:  # a locale Babel lacks is skipped, not guessed
            print("skip", loc, e, file=sys.stderr)
    items += corpus_lines()
    items += [("edge", t) for t in EDGE]
    model = fasttext.load_model(str(MODEL))
    out = []
    for source, text in items:
        assert "\n" not in text
        labels, probs = model.predict(text, k=5)
        out.append(json.dumps({"source": source, "text": text,
                               "labels": [l.replace("__label__", "") for l in labels],
                               "probs": [float(p) for p in probs]}, ensure_ascii=False))
    path = HERE / "lid176-predictions.jsonl"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    subprocess.run(["zstd", "-19", "-q", "-f", "--rm", str(path)], check=True)
    sources = {s for s, _ in items if s.startswith("cldr:")}
    print(f"{len(out)} lines, {len(sources)} CLDR locales, {len({json.loads(o)['labels'][0] for o in out})} distinct top-1 labels")

if __name__ == "__main__":
    main()
