#!/usr/bin/env python3
"""Tiny supervised fastText models for the format and loss variants lid.176 does not use, and
fastText's own predictions for them.

    python3 -m venv .venv-fasttext && .venv-fasttext/bin/pip install fasttext==0.9.3 "numpy<2"
    .venv-fasttext/bin/python Tests/GlossaTextTests/Fixtures/fasttext/make_fasttext_fixtures.py

fastText 0.9.3's trainer reports NaN on this machine, so the models are written directly in
fastText's file format with seeded random weights (a vocabulary and labels taken from the
sample corpus); fastText itself then loads them (it validates the layout) and predicts. That
is what parity needs: the same bytes in, fastText's labels and probabilities out.

Variants: softmax + word bigrams + no subwords (dense), one-vs-all + trigrams + 1-3 char
n-grams (dense), negative sampling + 2-4 char n-grams (dense), hierarchical softmax with a
pruned dictionary, product-quantized input with quantized norms and a quantized output (.ftz).
"""
import json, pathlib, random, struct, subprocess
import fasttext

ROOT = pathlib.Path(__file__).resolve().parents[4]
HERE = pathlib.Path(__file__).resolve().parent
LOSS = {"hs": 1, "ns": 2, "softmax": 3, "ova": 4}

def corpus():
    raw = subprocess.run(["zstd", "-dc", str(ROOT / "corpora" / "sample-documents.jsonl.zst")],
                         check=True, capture_output=True).stdout.decode("utf-8")
    return [(json.loads(l)["meta"]["lang_hint"], " ".join(json.loads(l)["text"].split())) for l in raw.splitlines()]

def write_model(path, rng, rows, loss, dim, word_ngrams, minn, maxn, bucket, quantized=False):
    counts = {}
    labels = {}
    for lang, text in rows:
        labels[lang] = labels.get(lang, 0) + 1
        for w in text.split():
            counts[w] = counts.get(w, 0) + 1
    words = ["</s>"] + [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:300]]
    label_list = sorted(labels.items(), key=lambda kv: (-kv[1], kv[0]))
    out = bytearray()
    i32 = lambda v: out.extend(struct.pack("<i", v))
    i64 = lambda v: out.extend(struct.pack("<q", v))
    f32s = lambda vs: out.extend(struct.pack("<%df" % len(vs), *vs))
    i32(793712314); i32(12)
    for v in [dim, 5, 1, 1, 5, word_ngrams, LOSS[loss], 3, bucket, minn, maxn, 100]:
        i32(v)
    out.extend(struct.pack("<d", 1e-4))
    size = len(words) + len(label_list)
    i32(size); i32(len(words)); i32(len(label_list)); i64(12345)
    pruned = sorted(rng.sample(range(bucket), bucket // 3)) if quantized else None
    i64(len(pruned) if pruned is not None else -1)
    for k, w in enumerate(words):
        out.extend(w.encode("utf-8") + b"\0"); i64(1000 - k); out.extend(b"\0")
    for name, count in label_list:
        out.extend(("__label__" + name).encode("utf-8") + b"\0"); i64(count); out.extend(b"\1")
    if pruned is not None:
        for row, b in enumerate(pruned):
            i32(b); i32(row)
    rows_in = len(words) + (len(pruned) if pruned is not None else bucket)

    def pq(dim, dsub):
        nsubq = (dim + dsub - 1) // dsub
        lastdsub = dim - (nsubq - 1) * dsub
        i32(dim); i32(nsubq); i32(dsub); i32(lastdsub)
        f32s([rng.gauss(0, 0.5) for _ in range(dim * 256)])
        return nsubq

    def quant_matrix(m, n, dsub=2):
        out.extend(b"\1")  # qnorm
        i64(m); i64(n)
        nsubq = (n + dsub - 1) // dsub
        i32(m * nsubq)
        out.extend(bytes(rng.randrange(256) for _ in range(m * nsubq)))
        pq(n, dsub)
        out.extend(bytes(rng.randrange(256) for _ in range(m)))
        i32(1); i32(1); i32(1); i32(1)
        f32s([abs(rng.gauss(1, 0.3)) for _ in range(256)])

    out.extend(b"\1" if quantized else b"\0")
    if quantized:
        quant_matrix(rows_in, dim, dsub=3)  # dim 8 with dsub 3: a shorter last sub-vector
    else:
        i64(rows_in); i64(dim); f32s([rng.gauss(0, 0.5) for _ in range(rows_in * dim)])
    out.extend(b"\1" if quantized else b"\0")
    if quantized:
        quant_matrix(len(label_list), dim)
    else:
        i64(len(label_list)); i64(dim); f32s([rng.gauss(0, 0.5) for _ in range(len(label_list) * dim)])
    path.write_bytes(bytes(out))

def main():
    rng = random.Random(20261129)
    rows = corpus()
    specs = {
        "softmax-bigrams.bin": dict(loss="softmax", dim=8, word_ngrams=2, minn=0, maxn=0, bucket=1000),
        "ova-trigrams.bin": dict(loss="ova", dim=8, word_ngrams=3, minn=1, maxn=3, bucket=1000),
        "ns-subwords.bin": dict(loss="ns", dim=6, word_ngrams=1, minn=2, maxn=4, bucket=500),
        "hs-quantized.ftz": dict(loss="hs", dim=8, word_ngrams=2, minn=2, maxn=4, bucket=1000, quantized=True),
    }
    for name, spec in specs.items():
        write_model(HERE / name, rng, rows, **spec)
    lines = [text for _, text in rows] + [
        "", "12345", "unknownword xyzzy", "__label__en is not a word", "hello\tworld", "é ß ı",
        "Bonjour à tous", "这是简体中文", "The retry loop never backs off",
    ]
    out = []
    for name in sorted(specs):
        model = fasttext.load_model(str(HERE / name))
        for text in lines:
            labels, probs = model.predict(text, k=3)
            out.append(json.dumps({"model": name, "text": text,
                                   "labels": [l.replace("__label__", "") for l in labels],
                                   "probs": [float(p) for p in probs]}, ensure_ascii=False))
    (HERE / "predictions.jsonl").write_text("\n".join(out) + "\n", encoding="utf-8")
    subprocess.run(["zstd", "-19", "-q", "-f", "--rm", str(HERE / "predictions.jsonl")], check=True)
    print(len(out), "predictions;", ", ".join(f"{n} {(HERE / n).stat().st_size} B" for n in sorted(specs)))

if __name__ == "__main__":
    main()
