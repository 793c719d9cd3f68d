"""The model's weights for sampling, straight from ``config.json`` + ``model.safetensors``.

Composing needs only the arithmetic of the decoder
(:mod:`composer.generators.transformer.decoder`), not the ``transformers`` library around it:
importing ``LlamaForCausalLM`` costs ~1.6 s per process and building it another ~0.3 s.
:func:`load_weights` reads the tensors with ``safetensors`` and the shape from ``config.json``;
:func:`from_model` takes them from a loaded ``LlamaForCausalLM`` (tests, benchmarks, training).
``transformers`` stays the training and HF-format side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch


@dataclass(frozen=True)
class Weights:
    """A float32 Llama decoder without biases: its shape and its tensors (HF names)."""

    hidden: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    ffn: int
    vocab: int
    eps: float
    rope_theta: float
    tensors: dict[str, torch.Tensor]

    def layer(self, i: int, name: str) -> torch.Tensor:
        return self.tensors[f"model.layers.{i}.{name}.weight"]

    @property
    def embed(self) -> torch.Tensor:
        return self.tensors["model.embed_tokens.weight"]

    @property
    def head(self) -> torch.Tensor:
        """The output table: ``lm_head``, or the embeddings when the two are tied."""
        return self.tensors.get("lm_head.weight", self.embed)


def unsupported(config: dict[str, Any]) -> str | None:
    """Why the decoder cannot run a model of this ``config.json`` (None: it can)."""
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    checks = {
        "model_type is not llama": config.get("model_type") != "llama",
        "attention_bias": bool(config.get("attention_bias", False)),
        "mlp_bias": bool(config.get("mlp_bias", False)),
        "hidden_act is not silu": config.get("hidden_act", "silu") != "silu",
        "rope_type is not default": rope.get("rope_type", "default") != "default",
    }
    for why, bad in checks.items():
        if bad:
            return why
    return None


def _shape(config: dict[str, Any], tensors: dict[str, torch.Tensor]) -> Weights:
    heads = int(config["num_attention_heads"])
    hidden = int(config["hidden_size"])
    rope = config.get("rope_parameters") or {}
    return Weights(
        hidden=hidden,
        layers=int(config["num_hidden_layers"]),
        heads=heads,
        kv_heads=int(config.get("num_key_value_heads") or heads),
        head_dim=int(config.get("head_dim") or hidden // heads),
        ffn=int(config["intermediate_size"]),
        vocab=int(config["vocab_size"]),
        eps=float(config["rms_norm_eps"]),
        rope_theta=float(rope.get("rope_theta", config.get("rope_theta", 10000.0))),
        tensors=tensors,
    )


def load_weights(folder: Path) -> Weights:
    """The checkpoint in ``folder`` (``config.json`` + ``model.safetensors``), float32.
    ValueError naming the problem when the decoder cannot run it or the weights do not match
    the config (every tensor there, of its shape, no other)."""
    from safetensors.torch import load_file

    config = json.loads((folder / "config.json").read_text())
    why = unsupported(config)
    if why is not None:
        raise ValueError(f"{folder / 'config.json'}: {why}")
    tensors = load_file(str(folder / "model.safetensors"))
    bad = sorted(k for k, t in tensors.items() if t.dtype != torch.float32)
    if bad:
        raise ValueError(f"{folder / 'model.safetensors'}: {bad[0]} is not float32")
    w = _shape(config, tensors)
    d, h = w.head_dim, w.hidden
    shapes = {"model.embed_tokens.weight": (w.vocab, h), "model.norm.weight": (h,)}
    for i in range(w.layers):
        shapes.update({
            f"model.layers.{i}.{name}.weight": shape
            for name, shape in (
                ("input_layernorm", (h,)), ("post_attention_layernorm", (h,)),
                ("self_attn.q_proj", (w.heads * d, h)), ("self_attn.k_proj", (w.kv_heads * d, h)),
                ("self_attn.v_proj", (w.kv_heads * d, h)), ("self_attn.o_proj", (h, w.heads * d)),
                ("mlp.gate_proj", (w.ffn, h)), ("mlp.up_proj", (w.ffn, h)),
                ("mlp.down_proj", (h, w.ffn)),
            )
        })  # fmt: skip
    if not config.get("tie_word_embeddings", True) or "lm_head.weight" in tensors:
        shapes["lm_head.weight"] = (w.vocab, h)
    wrong = {
        "missing": [k for k in shapes if k not in tensors],
        "unexpected": [k for k in tensors if k not in shapes],
        "mismatched": [k for k, s in shapes.items() if k in tensors and tensors[k].shape != s],
    }
    if any(wrong.values()):  # as load_model says it: random weights would be a model of noise
        counts = ", ".join(f"{len(v)} {k}" for k, v in wrong.items() if v)
        first = next(v[0] for v in wrong.values() if v)
        raise ValueError(f"its weights do not match the model ({counts}, e.g. {first})")
    return w


def from_model(model: Any) -> Weights | None:
    """The weights of a loaded ``LlamaForCausalLM`` (shared, not copied), or None when the
    decoder cannot run it (another architecture, or not float32)."""
    cfg = model.config.to_dict()
    if unsupported(cfg) is not None or next(model.parameters()).dtype != torch.float32:
        return None
    tensors = {k: v.detach() for k, v in model.state_dict().items()}
    if "rope_parameters" not in cfg and getattr(model.config, "rope_theta", None) is not None:
        cfg["rope_parameters"] = {"rope_theta": model.config.rope_theta}
    return _shape(cfg, tensors)
