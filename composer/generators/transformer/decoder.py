"""One-token decoding steps of a ``LlamaForCausalLM``, compiled, without its per-module overhead.

At this model size a decoding step is ~17 small matrix products; ``forward`` spends most of
its time around them (module calls, cache bookkeeping, mask building, a ``cat`` of the whole
cache per layer, ~60 small tensor ops). :class:`FastDecoder` takes the same weights into
NumPy arrays allocated once, fuses q/k/v and gate/up into one product each, and runs a layer as
four matrix products and the SwiGLU in torch (into preallocated buffers, so
``torch.set_num_threads`` governs them) and two compiled kernels
(:mod:`composer.generators.transformer.jit`:
RMSNorm with the residual; rotary embedding + cache write + attention, rows spread over
threads). Rows that have finished leave the batch (``step(tokens, active)``). The prompt is
still run through the model itself (with a ``DynamicCache``), then copied into the caches. The
arithmetic is the model's (RMSNorm, rotary ``rotate_half``, softmax attention scaled by
``head_dim ** -0.5``, SiLU-gated MLP, tied output head) in float32;
``tests/test_learned_generator.py`` checks its logits against ``forward``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from transformers import DynamicCache

from composer.generators.transformer import jit
from composer.generators.transformer.model import cache_kwargs


def supported(model: Any) -> bool:
    """A float32 Llama without biases (what ``composer.generators.transformer.model`` builds)."""
    cfg = model.config
    return (
        getattr(cfg, "model_type", "") == "llama"
        and not getattr(cfg, "attention_bias", False)
        and not getattr(cfg, "mlp_bias", False)
        and getattr(cfg, "hidden_act", "silu") == "silu"
        and next(model.parameters()).dtype == torch.float32
    )


def _np(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().to("cpu", torch.float32).numpy())


class FastDecoder:
    def __init__(self, model: Any, rows: int, max_len: int) -> None:
        cfg = model.config
        self.heads = cfg.num_attention_heads
        self.kv_heads = cfg.num_key_value_heads
        d = self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.heads
        self.eps = np.float32(cfg.rms_norm_eps)
        self.scale = np.float32(d**-0.5)
        self.rows, self.max_len = rows, max_len
        inner = model.model
        self.embed = _np(inner.embed_tokens.weight)
        self.norm = _np(inner.norm.weight)
        self.layers = []
        for layer in inner.layers:
            a, m = layer.self_attn, layer.mlp
            qkv = torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]).t()
            gate_up = torch.cat([m.gate_proj.weight, m.up_proj.weight]).t()
            self.layers.append(
                (
                    _np(layer.input_layernorm.weight),
                    torch.from_numpy(_np(qkv)),
                    torch.from_numpy(_np(a.o_proj.weight.t())),
                    _np(layer.post_attention_layernorm.weight),
                    torch.from_numpy(_np(gate_up)),
                    torch.from_numpy(_np(m.down_proj.weight.t())),
                )
            )
        self.head = torch.from_numpy(_np(model.lm_head.weight.t()))
        # rotary angles for every position, once (the model's own module computes them)
        with torch.no_grad():
            cos, sin = inner.rotary_emb(
                inner.embed_tokens.weight[:1][None], torch.arange(max_len)[None]
            )
        self.cos, self.sin = _np(cos[0]), _np(sin[0])  # (max_len, head_dim)
        # keys transposed (position last): see jit.attend
        self.keys = np.zeros((len(self.layers), rows, self.kv_heads, d, max_len), np.float32)
        self.values = np.zeros((len(self.layers), rows, self.kv_heads, max_len, d), np.float32)
        hidden, ffn = cfg.hidden_size, cfg.intermediate_size
        self.ffn = ffn
        buf = {
            "x": hidden, "normed": hidden, "delta": hidden, "att": self.heads * d,
            "qkv": (self.heads + 2 * self.kv_heads) * d, "gate_up": 2 * ffn, "act": ffn,
            "logits": len(self.embed),
        }  # fmt: skip
        self.buf = {k: np.zeros((rows, n), dtype=np.float32) for k, n in buf.items()}
        self.view = {k: torch.from_numpy(v) for k, v in self.buf.items()}  # the same memory
        self.length = 0

    @torch.inference_mode()
    def prefill(self, model: Any, ids: torch.Tensor) -> np.ndarray:
        """Run the prompt through the model; keep its keys/values; the last position's logits."""
        cache = DynamicCache()
        out = model(input_ids=ids, **cache_kwargs(model, cache))
        n = ids.shape[1]
        for i, layer in enumerate(cache.layers):
            layer_kv: Any = layer  # a full-attention layer: .keys, .values (rows, heads, n, d)
            self.keys[i, :, :, :, :n] = layer_kv.keys.numpy().transpose(0, 1, 3, 2)
            self.values[i, :, :, :n] = layer_kv.values.numpy()
        self.length = n
        return out.logits[:, -1, :].float().numpy().copy()

    @torch.inference_mode()
    def step(self, tokens: np.ndarray, active: np.ndarray | None = None) -> np.ndarray:
        """Logits after feeding one token to each row of ``active`` (all rows if None) at the
        next position: row ``i`` of the (len(active), vocab) result and of ``tokens`` is cache
        row ``active[i]``, so rows that have finished cost nothing. The array is this decoder's
        buffer: the next step overwrites it."""
        pos, ffn = self.length, self.ffn
        if pos >= self.max_len:
            raise ValueError(f"the decoder holds {self.max_len} positions")
        if active is None:
            active = np.arange(self.rows)
        m = len(active)
        b = {k: a[:m] for k, a in self.buf.items()}  # leading rows: contiguous
        v = {k: t[:m] for k, t in self.view.items()}
        x, normed, delta = b["x"], b["normed"], b["delta"]
        np.take(self.embed, tokens, axis=0, out=x)
        cos, sin = self.cos[pos], self.sin[pos]
        for i, (ln1, qkv, o, ln2, gate_up, down) in enumerate(self.layers):
            if i == 0:
                jit.rms_norm(x, ln1, self.eps, normed)
            else:
                jit.add_rms_norm(x, delta, ln1, self.eps, normed)  # the MLP's residual
            torch.mm(v["normed"], qkv, out=v["qkv"])
            jit.attend(b["qkv"], active, self.keys[i], self.values[i], pos, cos, sin,
                       self.heads, self.kv_heads, self.scale, b["att"])  # fmt: skip
            torch.mm(v["att"], o, out=v["delta"])
            jit.add_rms_norm(x, delta, ln2, self.eps, normed)  # the attention's residual
            torch.mm(v["normed"], gate_up, out=v["gate_up"])
            gate, up = v["gate_up"][:, :ffn], v["gate_up"][:, ffn:]
            torch.mul(torch.nn.functional.silu(gate), up, out=v["act"])
            torch.mm(v["act"], down, out=v["delta"])
        jit.add_rms_norm(x, delta, self.norm, self.eps, normed)
        torch.mm(v["normed"], self.head, out=v["logits"])
        self.length = pos + 1
        return b["logits"]
