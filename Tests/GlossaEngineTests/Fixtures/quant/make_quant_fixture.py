#!/usr/bin/env python3
"""Dequantization references from the `gguf` Python package (gguf.quants.dequantize) for every
block format Glossa reads: real blocks from the default model and generated blocks.

    .venv-fixtures/bin/pip install gguf==0.19.0 numpy safetensors==0.8.0
    .venv-fixtures/bin/python Tests/GlossaEngineTests/Fixtures/quant/make_quant_fixture.py

Output: quant-blocks.safetensors with, per case, `NAME.type` (I32, the ggml type id),
`NAME.raw` (U8 block bytes) and `NAME.expected` (F32).
"""
import pathlib
import numpy as np
from gguf import GGUFReader, GGMLQuantizationType as T
from gguf.quants import dequantize
from gguf.constants import GGML_QUANT_SIZES
from safetensors.numpy import save_file

ROOT = pathlib.Path(__file__).resolve().parents[4]
HERE = pathlib.Path(__file__).resolve().parent
TYPES = [T.F32, T.F16, T.BF16, T.Q4_0, T.Q5_0, T.Q8_0, T.Q4_K, T.Q5_K, T.Q6_K]

def main():
    rng = np.random.default_rng(7)
    out = {}
    # Generated blocks: random bytes, with the half-precision scales set to sane values.
    for t in TYPES:
        block, size = GGML_QUANT_SIZES[t]
        nblocks = 12
        raw = rng.integers(0, 256, size=nblocks * size, dtype=np.uint8)
        if t == T.F32:
            raw = rng.standard_normal(nblocks * block).astype(np.float32).view(np.uint8)
        elif t in (T.F16,):
            raw = (rng.standard_normal(nblocks * block) * 3).astype(np.float16).view(np.uint8)
        elif t == T.BF16:
            raw = ((rng.standard_normal(nblocks * block).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)).view(np.uint8)
        else:
            blocks = raw.reshape(nblocks, size)
            halves = (rng.standard_normal((nblocks, 2)) * 0.05).astype(np.float16).view(np.uint8)
            if t in (T.Q4_0, T.Q5_0, T.Q8_0):
                blocks[:, 0:2] = halves[:, 0:2]
            elif t in (T.Q4_K, T.Q5_K):
                blocks[:, 0:4] = halves
            elif t == T.Q6_K:
                blocks[:, size - 2:size] = halves[:, 0:2]
            raw = blocks.reshape(-1)
        expected = dequantize(raw, t).reshape(-1).astype(np.float32)
        name = f"generated_{t.name}"
        out[name + ".type"] = np.array([int(t)], dtype=np.int32)
        out[name + ".raw"] = raw.astype(np.uint8)
        out[name + ".expected"] = expected
    # Real blocks: the first 16 blocks of the first tensor of each type in the default model.
    reader = GGUFReader(str(ROOT / "models" / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"))
    seen = set()
    for tensor in reader.tensors:
        t = T(tensor.tensor_type)
        if t in seen:
            continue
        seen.add(t)
        block, size = GGML_QUANT_SIZES[t]
        raw = np.asarray(tensor.data).view(np.uint8).reshape(-1)[: 16 * size].copy()
        name = f"model_{t.name}_{tensor.name}"
        out[name + ".type"] = np.array([int(t)], dtype=np.int32)
        out[name + ".raw"] = raw
        out[name + ".expected"] = dequantize(raw, t).reshape(-1).astype(np.float32)
    save_file(out, str(HERE / "quant-blocks.safetensors"))
    print(sorted(k[:-5] for k in out if k.endswith(".type")))

if __name__ == "__main__":
    main()
