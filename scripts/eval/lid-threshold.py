#!/usr/bin/env python3
"""How detect-language's min_score trades recall for safety, on texts of known language.

Reads the held-out parallel set (scripts/eval/make-parallel-set.py; both sides of every pair
are texts of known language), runs `glossa detect` on them with min_score 0 and prints, for
each candidate threshold, how many texts become `und` and how many wrong languages remain.

    python3 scripts/eval/lid-threshold.py --set /work/eval/parallel/parallel.jsonl \
        --glossa .build/release/glossa --work /work/eval/lid
"""
import argparse, json, os, subprocess

ap = argparse.ArgumentParser()
ap.add_argument("--set", required=True)
ap.add_argument("--glossa", required=True)
ap.add_argument("--work", required=True)
a = ap.parse_args()
os.makedirs(a.work, exist_ok=True)
texts = {}
for line in open(a.set, encoding="utf-8"):
    r = json.loads(line)
    texts[r["text"]] = r["source_lang"]
    texts[r["reference"]] = r["target_lang"]
inp = os.path.join(a.work, "texts.jsonl")
with open(inp, "w", encoding="utf-8") as f:
    for i, (t, lang) in enumerate(sorted(texts.items())):
        f.write(json.dumps({"id": i, "text": t, "truth": lang}, ensure_ascii=False) + "\n")
out = os.path.join(a.work, "detected.jsonl")
subprocess.run([a.glossa, "detect", inp, "-o", out, "--min-score", "0", "--quiet"], check=True)

def same(found, truth):
    found, truth = found.lower(), truth.lower()
    return found == truth or found.startswith(truth + "-") or truth.startswith(found + "-")

rows = []
for line in open(out, encoding="utf-8"):
    r = json.loads(line)
    m = r["metadata"]
    rows.append((float(m["language_score"]), same(m["language"], r["truth"]), len(r["text"])))
print(f"{len(rows)} texts, {sum(1 for r in rows if r[1])} detected right at min_score 0")
print("min_score  und(right)  und(wrong)  wrong-kept")
for t in [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]:
    und_right = sum(1 for s, ok, _ in rows if s < t and ok)
    und_wrong = sum(1 for s, ok, _ in rows if s < t and not ok)
    kept_wrong = sum(1 for s, ok, _ in rows if s >= t and not ok)
    print(f"{t:9.1f}  {und_right:10d}  {und_wrong:10d}  {kept_wrong:10d}")
