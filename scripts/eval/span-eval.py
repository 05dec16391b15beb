#!/usr/bin/env python3
"""Held-out tickets with protected spans: are they all kept, and what do the checks say?

Builds tickets from the non-English side of the held-out parallel set
(scripts/eval/make-parallel-set.py, kept outside the repository) with spans inserted where
small models lose them: a URL, a ticket id, an @mention, inline code and an e-mail address,
at the start, in the middle and at the end, one of them twice. Runs `glossa run` (normalize,
detect-language, translate to English) and counts, per variant: records out / rejected by
reason, fields whose spans all survived (counted as the constraint counts them: exact text,
as often as in the source), QA flags by check, and seconds.

    python3 scripts/eval/span-eval.py --set /work/eval/parallel/parallel.jsonl \
        --glossa .build/release/glossa --work /work/eval/spans [--extra-yaml 'enforce: false']
"""
import argparse, collections, json, os, random, re, shutil, subprocess, time

ap = argparse.ArgumentParser()
ap.add_argument("--set", required=True)
ap.add_argument("--glossa", required=True)
ap.add_argument("--work", required=True)
ap.add_argument("--variant", default="base")
ap.add_argument("--extra-yaml", default="")
ap.add_argument("--per-language", type=int, default=6)
a = ap.parse_args()

rng = random.Random(16)
items = [json.loads(l) for l in open(a.set, encoding="utf-8")]
by_lang = collections.defaultdict(list)
for r in items:
    if r["target_lang"] == "en":
        by_lang[r["source_lang"]].append(r["text"])
tickets = []
for lang in sorted(by_lang):
    for k, text in enumerate(by_lang[lang][: a.per_language]):
        n = len(tickets)
        spans = [f"https://tracker.example.com/issues/{4000 + n}", f"OPS-{100 + n}", f"@dev{n}.ops",
                 f"`retry_{n}.sh --force`", f"team{n}@example.org"]
        rng.shuffle(spans)
        words = text.split(" ")
        mid = len(words) // 2
        where = k % 3
        if where == 0:   # start, middle, end
            body = " ".join([spans[0]] + words[:mid] + [spans[1], spans[2]] + words[mid:] + [spans[3], spans[4]])
        elif where == 1:  # one span twice, adjacent spans
            body = " ".join(words[:mid] + [spans[0], spans[1]] + words[mid:]) + " " + spans[0] + " " + spans[2]
        else:             # inside the sentence, without spaces where the script has none
            glue = "" if lang in ("ja", "zh-Hans") else " "
            body = glue.join([" ".join(words[:mid]), spans[0], " ".join(words[mid:]), spans[3]])
        tickets.append({"id": f"{lang}-{k}", "lang": lang, "body": body})

variant = os.path.join(a.work, a.variant)
shutil.rmtree(variant, ignore_errors=True)
os.makedirs(variant)
inp = os.path.join(variant, "tickets.jsonl")
with open(inp, "w", encoding="utf-8") as f:
    for t in tickets:
        f.write(json.dumps(t, ensure_ascii=False) + "\n")
extra = "".join(f"\n      {line}" for line in a.extra_yaml.splitlines() if line.strip())
with open(os.path.join(variant, "pipeline.yaml"), "w") as f:
    f.write(f"""name: span-eval
input:
  paths: [{inp}]
  fields: [body]
stages:
  - normalize: {{}}
  - detect-language: {{}}
  - translate:
      target: en
      max_tokens: 256{extra}
output:
  dir: {variant}/out
engine:
  model: default
  batch_records: 64
""")
started = time.time()
subprocess.run([a.glossa, "run", os.path.join(variant, "pipeline.yaml")], check=True, cwd=os.getcwd())
seconds = time.time() - started

SPAN = re.compile(r"https://tracker\.example\.com/issues/\d+|OPS-\d+|@dev\d+\.ops|`retry_\d+\.sh --force`|team\d+@example\.org")
def count(span, text):
    # As the constraint counts: overlapping, and a span ending in a word character only where
    # none follows.
    n, i = 0, text.find(span)
    while i >= 0:
        end = i + len(span)
        if not (re.match(r"\w", span[-1], re.A) and end < len(text) and re.match(r"\w", text[end], re.A)):
            n += 1
        i = text.find(span, i + 1)
    return n

kept = intact = 0
flags = collections.Counter()
rejects = collections.Counter()
lost_examples = []
for root, _, files in os.walk(os.path.join(variant, "out")):
    for name in files:
        if not name.endswith(".zst") or "/.glossa" in root:
            continue
        lines = subprocess.run(["zstd", "-dcq", os.path.join(root, name)], capture_output=True, check=True).stdout.decode().splitlines()
        for line in lines:
            r = json.loads(line)
            if "rejects" in root.split(os.sep):
                rejects[r.get("reject", {}).get("reason", r.get("reason", "?"))] += 1
                continue
            kept += 1
            src, out = r["body"], r["translation"]["body"]
            ok = all(count(s, out) == count(s, src) for s in set(SPAN.findall(src)))
            intact += ok
            if not ok and len(lost_examples) < 3:
                lost_examples.append((r["id"], out[:200]))
            for flag in r.get("metadata", {}).get("qa", {}).get("flags", []):
                flags[flag] += 1
summary = {"variant": a.variant, "tickets": len(tickets), "languages": len(by_lang), "kept": kept, "rejected": dict(rejects),
           "spans_intact": intact, "qa_flags": dict(flags), "seconds": round(seconds, 1), "lost_examples": lost_examples}
print(json.dumps(summary, ensure_ascii=False, indent=1))
with open(os.path.join(a.work, f"summary-{a.variant}.json"), "w") as f:
    json.dump(summary, f, ensure_ascii=False, indent=1)
