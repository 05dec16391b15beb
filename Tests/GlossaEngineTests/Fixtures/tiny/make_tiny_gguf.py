#!/usr/bin/env python3
"""The tiny Qwen3 / Qwen3-MoE / Qwen2 checkpoints (make_tiny_models.py) rewritten as GGUF files
with llama.cpp's tensor names and metadata keys (F32 and F16 tensors), so the GGUF loading path
is checked against the same transformers logits.

    .venv-fixtures/bin/pip install gguf==0.19.0 safetensors==0.8.0 numpy
    .venv-fixtures/bin/python Tests/GlossaEngineTests/Fixtures/tiny/make_tiny_gguf.py
"""
import json, pathlib
import numpy as np
from gguf import GGUFWriter
from safetensors.numpy import load_file

HERE = pathlib.Path(__file__).resolve().parent
NAMES = [("model.embed_tokens", "token_embd"), ("model.norm", "output_norm"), ("lm_head", "output"),
         ("model.layers.", "blk."), ("input_layernorm", "attn_norm"), ("post_attention_layernorm", "ffn_norm"),
         ("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"), ("self_attn.v_proj", "attn_v"),
         ("self_attn.o_proj", "attn_output"), ("self_attn.q_norm", "attn_q_norm"), ("self_attn.k_norm", "attn_k_norm"),
         ("mlp.gate_proj", "ffn_gate"), ("mlp.up_proj", "ffn_up"), ("mlp.down_proj", "ffn_down"), ("mlp.gate.", "ffn_gate_inp.")]

def main():
    for name, arch in [("qwen3", "qwen3"), ("qwen3moe", "qwen3moe"), ("qwen2", "qwen2")]:
        cfg = json.loads((HERE / name / "config.json").read_text())
        tensors = load_file(str(HERE / name / "model.safetensors"))
        w = GGUFWriter(str(HERE / f"{name}.gguf"), arch)
        w.add_block_count(cfg["num_hidden_layers"])
        w.add_context_length(cfg["max_position_embeddings"])
        w.add_embedding_length(cfg["hidden_size"])
        w.add_feed_forward_length(cfg["intermediate_size"])
        w.add_head_count(cfg["num_attention_heads"])
        w.add_head_count_kv(cfg["num_key_value_heads"])
        w.add_rope_freq_base(cfg["rope_parameters"]["rope_theta"])
        w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
        if "head_dim" in cfg:
            w.add_key_length(cfg["head_dim"])
            w.add_value_length(cfg["head_dim"])
        if arch == "qwen3moe":
            w.add_expert_count(cfg["num_local_experts"] if "num_local_experts" in cfg else cfg["num_experts"])
            w.add_expert_used_count(cfg["num_experts_per_tok"])
            w.add_expert_feed_forward_length(cfg["moe_intermediate_size"])
        w.add_tokenizer_model("gpt2")
        w.add_token_list([f"t{i}" for i in range(cfg["vocab_size"])])
        experts = {}
        for key, value in tensors.items():
            parts = key.split(".")
            if "experts" in parts:
                layer, e, kind = int(parts[2]), int(parts[5]), parts[6].replace("_proj", "")
                experts.setdefault((layer, kind), {})[e] = value
                continue
            gname = key
            for a, b in NAMES:
                gname = gname.replace(a, b)
            # 2-D weights alternate F16 / F32 to cover both storage types.
            data = value.astype(np.float16) if value.ndim == 2 and sum(map(ord, gname)) % 2 == 0 and "token_embd" not in gname else value
            w.add_tensor(gname, np.ascontiguousarray(data))
        for (layer, kind), by_expert in sorted(experts.items()):
            stacked = np.stack([by_expert[e] for e in sorted(by_expert)])
            w.add_tensor(f"blk.{layer}.ffn_{kind}_exps.weight", np.ascontiguousarray(stacked))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        print(name, (HERE / f"{name}.gguf").stat().st_size, "bytes")

if __name__ == "__main__":
    main()
