#!/usr/bin/env python3
"""Tiny random Qwen3, Qwen3-MoE and Qwen2 checkpoints with Hugging Face transformers' own
logits and greedy tokens, for the engine's parity tests.

    python3 -m venv .venv-fixtures
    .venv-fixtures/bin/pip install "torch==2.13.0+cpu" transformers==5.24.0 safetensors==0.8.0
    .venv-fixtures/bin/python Tests/GlossaEngineTests/Fixtures/tiny/make_tiny_models.py

Each model directory holds config.json and model.safetensors (F32), a BF16 copy, and
reference.safetensors: for every prompt, its ids, the logits at every position, and 16 greedy
tokens, from the F32 model; and for the BF16 copy the logits of the BF16 weights computed in
F32 (what an engine that widens BF16 weights computes). Seeded; eager attention; 1 thread.
Norm weights are 1 + 0.25 N(0,1) and biases 0.5 N(0,1) so those code paths matter.
"""
import json, pathlib, shutil
import torch
from safetensors.torch import save_file
from transformers import (Qwen2Config, Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM,
                          Qwen3MoeConfig, Qwen3MoeForCausalLM)

HERE = pathlib.Path(__file__).resolve().parent
torch.set_num_threads(1)

COMMON = dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, rope_theta=1e6, rms_norm_eps=1e-6,
              initializer_range=0.2, max_position_embeddings=256, bos_token_id=1, eos_token_id=2,
              pad_token_id=0)

MODELS = {
    "qwen3": (Qwen3ForCausalLM, Qwen3Config(head_dim=16, tie_word_embeddings=True, **COMMON)),
    "qwen3moe": (Qwen3MoeForCausalLM, Qwen3MoeConfig(head_dim=16, tie_word_embeddings=True, num_experts=4,
                                                     num_experts_per_tok=2, moe_intermediate_size=32,
                                                     norm_topk_prob=True, decoder_sparse_step=1, **COMMON)),
    "qwen2": (Qwen2ForCausalLM, Qwen2Config(tie_word_embeddings=False, **COMMON)),
}

PROMPTS = [
    [1, 17, 300, 5, 42],
    [3, 511, 7, 7, 7, 100, 250, 9, 64, 128, 256, 33, 12, 480, 6, 91, 2, 77, 150, 401, 8, 19, 23, 5],
]

def perturb(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1 + 0.25 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.5 * torch.randn(p.shape, generator=g))

def reference(model):
    tensors = {}
    with torch.no_grad():
        for i, ids in enumerate(PROMPTS):
            x = torch.tensor([ids])
            tensors[f"prompt{i}.ids"] = x[0].to(torch.int32)
            tensors[f"prompt{i}.logits"] = model(x).logits[0].float().contiguous()
            out = model.generate(x, max_new_tokens=16, min_new_tokens=16, do_sample=False,
                                 eos_token_id=None, pad_token_id=0)
            tensors[f"prompt{i}.greedy"] = out[0, len(ids):].to(torch.int32).contiguous()
    return tensors

def main():
    for seed, (name, (cls, config)) in enumerate(MODELS.items()):
        torch.manual_seed(seed)
        config._attn_implementation = "eager"
        model = cls(config).eval()
        perturb(model, 1000 + seed)
        out = HERE / name
        shutil.rmtree(out, ignore_errors=True)
        model.save_pretrained(out)
        save_file(reference(model), str(out / "reference.safetensors"))
        # BF16 weights, and the logits those weights give when computed in F32.
        bf16 = HERE / (name + "-bf16")
        shutil.rmtree(bf16, ignore_errors=True)
        model.to(torch.bfloat16).save_pretrained(bf16)
        widened = cls.from_pretrained(bf16, dtype=torch.float32, attn_implementation="eager").eval()
        save_file(reference(widened), str(bf16 / "reference.safetensors"))
        for d in (out, bf16):
            for extra in d.glob("generation_config.json"):
                pass
        print(name, sum(p.numel() for p in model.parameters()), "parameters")

if __name__ == "__main__":
    main()
