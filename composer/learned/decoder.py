"""One-token decoding steps of a ``LlamaForCausalLM`` without its per-module overhead.

At this model size a decoding step is ~30 tiny matrix products; the model's ``forward`` spends
most of its time around them (module calls, cache bookkeeping, mask building, a ``cat`` of the
whole cache per layer). :class:`FastDecoder` takes the same weights, fuses q/k/v and gate/up
into one product each, and writes keys and values into tensors allocated once. The prompt is
still run through the model itself (with a ``DynamicCache``), then copied in. The arithmetic is
the model's (RMSNorm in fp32, rotary embedding from the model's own module, SDPA with the
model's scale); ``tests/test_learned_generator.py`` checks its logits against ``forward``.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import DynamicCache
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb


def supported(model: Any) -> bool:
    """A Llama without biases (what ``composer.learned.model`` builds)."""
    cfg = model.config
    return (
        getattr(cfg, "model_type", "") == "llama"
        and not getattr(cfg, "attention_bias", False)
        and not getattr(cfg, "mlp_bias", False)
        and getattr(cfg, "hidden_act", "silu") == "silu"
    )


class FastDecoder:
    def __init__(self, model: Any, rows: int, max_len: int) -> None:
        cfg = model.config
        self.heads = cfg.num_attention_heads
        self.kv_heads = cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.heads
        self.eps = cfg.rms_norm_eps
        self.rows = rows
        inner = model.model
        self.rotary = inner.rotary_emb
        self.embed = inner.embed_tokens.weight
        self.norm = inner.norm.weight
        self.head = model.lm_head.weight.t()
        self.layers = []
        for layer in inner.layers:
            a, m = layer.self_attn, layer.mlp
            qkv = torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]).t().contiguous()
            gate_up = torch.cat([m.gate_proj.weight, m.up_proj.weight]).t().contiguous()
            self.layers.append(
                (
                    layer.input_layernorm.weight,
                    qkv,
                    a.o_proj.weight.t().contiguous(),
                    layer.post_attention_layernorm.weight,
                    gate_up,
                    m.down_proj.weight.t().contiguous(),
                )
            )
        # rotary angles for every position, once (the model's own module computes them)
        positions = torch.arange(max_len)[None, :]
        with torch.no_grad():
            cos, sin = self.rotary(self.embed[:1][None], positions)
        self.cos, self.sin = cos[0], sin[0]  # (max_len, head_dim)
        shape = (len(self.layers), rows, self.kv_heads, max_len, self.head_dim)
        self.keys = torch.zeros(shape)
        self.values = torch.zeros(shape)
        self.length = 0

    def _rms(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    @torch.inference_mode()
    def prefill(self, model: Any, ids: torch.Tensor) -> torch.Tensor:
        """Run the prompt through the model; keep its keys/values; the last position's logits."""
        cache = DynamicCache()
        out = model(input_ids=ids, past_key_values=cache, use_cache=True)
        n = ids.shape[1]
        for i, layer in enumerate(cache.layers):
            layer_kv: Any = layer  # a full-attention layer: .keys, .values (rows, heads, n, d)
            self.keys[i, :, :, :n] = layer_kv.keys
            self.values[i, :, :, :n] = layer_kv.values
        self.length = n
        return out.logits[:, -1, :].float()

    @torch.inference_mode()
    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits after feeding one token per row at the next position."""
        pos = self.length
        x = self.embed[tokens]
        cos, sin = self.cos[pos : pos + 1], self.sin[pos : pos + 1]
        hq, hk, d = self.heads, self.kv_heads, self.head_dim
        for i, (ln1, qkv, o, ln2, gate_up, down) in enumerate(self.layers):
            h = self._rms(x, ln1) @ qkv
            q = h[:, : hq * d].view(self.rows, hq, 1, d)
            k = h[:, hq * d : (hq + hk) * d].view(self.rows, hk, 1, d)
            v = h[:, (hq + hk) * d :].view(self.rows, hk, 1, d)
            q, k = apply_rotary_pos_emb(q, k, cos, sin)
            self.keys[i, :, :, pos] = k[:, :, 0]
            self.values[i, :, :, pos] = v[:, :, 0]
            att = torch.nn.functional.scaled_dot_product_attention(
                q,
                self.keys[i, :, :, : pos + 1],
                self.values[i, :, :, : pos + 1],
                enable_gqa=hk != hq,
            )
            x = x + att.reshape(self.rows, hq * d) @ o
            g, u = (self._rms(x, ln2) @ gate_up).chunk(2, dim=-1)
            x = x + (torch.nn.functional.silu(g) * u) @ down
        self.length = pos + 1
        return self._rms(x, self.norm) @ self.head
