#!/usr/bin/env python3
"""Peer for `glossa bench detect`: fastText's own predictor (PyPI fasttext-predict) on the
same lines. Prints one JSON object: lines, seconds (best of N) and lines per second."""
import json, sys, time
import fasttext

model_path, lines_path, repetitions = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = fasttext.load_model(model_path)
lines = [l + "\n" for l in open(lines_path, encoding="utf-8").read().split("\n")[:-1]]
best = float("inf")
for _ in range(repetitions):
    start = time.perf_counter()
    # One call into C++ for all lines (the wrapper's list path unpacks this 0.9.2.4 result
    # wrongly, so the binding is called as the wrapper would, newline appended).
    result = model.f.multilinePredict(lines, 1, 0.0, "strict")
    best = min(best, time.perf_counter() - start)
assert len(result) == len(lines)
print(json.dumps({"lines": len(lines), "seconds": best, "lines_per_second": len(lines) / best}))
