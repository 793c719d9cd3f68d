"""One-token decoding steps of a Llama decoder, compiled, without its per-module overhead.

At this model size a decoding step is ~17 small matrix products; ``LlamaForCausalLM.forward``
spends most of its time around them (module calls, cache bookkeeping, mask building, a ``cat``
of the whole cache per layer, ~60 small tensor ops). :class:`FastDecoder` takes the weights
(:mod:`composer.generators.transformer.weights`: straight from ``model.safetensors``, or from a
loaded model) into arrays allocated once, fuses q/k/v and gate/up into one product each, and
runs a layer as four matrix products and the SwiGLU in torch (into preallocated buffers, so
``torch.set_num_threads`` governs them) and two compiled kernels
(:mod:`composer.generators.transformer.jit`: RMSNorm with the residual; rotary embedding + cache
write + attention, rows spread over threads). Rows that have finished leave the batch
(``step(tokens, active)``). The prompt runs through :meth:`FastDecoder.prefill`, the model's own
forward pass written out with the same torch operations in the same order (``F.linear`` per
projection, ``rotate_half``, ``scaled_dot_product_attention``), so its logits are bit for bit
those of ``transformers`` without importing it. The arithmetic is the model's (RMSNorm, rotary
``rotate_half``, softmax attention scaled by ``head_dim ** -0.5``, SiLU-gated MLP, tied output
head) in float32; ``tests/test_learned_generator.py`` checks prefill and steps against
``forward``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from composer.generators.transformer import jit
from composer.generators.transformer.weights import Weights, from_model


def supported(model: Any) -> bool:
    """Weights, or a float32 Llama without biases (what ``transformer.model`` builds)."""
    return isinstance(model, Weights) or from_model(model) is not None


def as_weights(model: Any) -> Weights:
    w = model if isinstance(model, Weights) else from_model(model)
    if w is None:
        raise ValueError("the compiled decoder runs float32 Llama models without biases")
    return w


def _np(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().to("cpu", torch.float32).numpy())


def rotary_tables(w: Weights, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(cos, sin), each (length, head_dim): the angles of every position, computed as the
    model's rotary module does (default rope, no scaling)."""
    d = w.head_dim
    inv_freq = 1.0 / (w.rope_theta ** (torch.arange(0, d, 2, dtype=torch.float) / d))
    freqs = torch.arange(length)[None][..., None].float() * inv_freq
    emb = torch.cat((freqs, freqs), dim=-1)
    return (emb.cos() * 1.0)[0], (emb.sin() * 1.0)[0]


def _rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + eps))


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class FastDecoder:
    def __init__(self, model: Any, rows: int, max_len: int) -> None:
        w = self.w = as_weights(model)
        self.heads, self.kv_heads = w.heads, w.kv_heads
        d = self.head_dim = w.head_dim
        self.eps = np.float32(w.eps)
        self.scale = np.float32(d**-0.5)
        self.rows, self.max_len = rows, max_len
        self.embed = _np(w.embed)
        self.norm = _np(w.tensors["model.norm.weight"])
        self.layers = []
        for i in range(w.layers):
            qkv = torch.cat(
                [w.layer(i, "self_attn.q_proj"), w.layer(i, "self_attn.k_proj"),
                 w.layer(i, "self_attn.v_proj")]
            ).t()  # fmt: skip
            gate_up = torch.cat([w.layer(i, "mlp.gate_proj"), w.layer(i, "mlp.up_proj")]).t()
            self.layers.append(
                (
                    _np(w.layer(i, "input_layernorm")),
                    torch.from_numpy(_np(qkv)),
                    torch.from_numpy(_np(w.layer(i, "self_attn.o_proj").t())),
                    _np(w.layer(i, "post_attention_layernorm")),
                    torch.from_numpy(_np(gate_up)),
                    torch.from_numpy(_np(w.layer(i, "mlp.down_proj").t())),
                )
            )
        self.head = torch.from_numpy(_np(w.head.t()))
        # rotary angles for every position, once
        self.cos_t, self.sin_t = rotary_tables(w, max_len)
        self.cos, self.sin = _np(self.cos_t), _np(self.sin_t)  # (max_len, head_dim)
        # keys transposed (position last): see jit.attend
        self.keys = np.zeros((w.layers, rows, self.kv_heads, d, max_len), np.float32)
        self.values = np.zeros((w.layers, rows, self.kv_heads, max_len, d), np.float32)
        hidden, ffn = w.hidden, w.ffn
        self.ffn = ffn
        buf = {
            "x": hidden, "normed": hidden, "delta": hidden, "att": self.heads * d,
            "qkv": (self.heads + 2 * self.kv_heads) * d, "gate_up": 2 * ffn, "act": ffn,
            "logits": len(self.embed),
        }  # fmt: skip
        self.buf = {k: np.zeros((rows, n), dtype=np.float32) for k, n in buf.items()}
        self.buf["silu"] = np.zeros((rows, ffn), dtype=np.float32)
        self.view = {k: torch.from_numpy(v) for k, v in self.buf.items()}  # the same memory
        self._rows: dict[int, tuple[dict[str, np.ndarray], dict[str, torch.Tensor]]] = {}
        self.length = 0

    def _leading(self, m: int) -> tuple[dict[str, np.ndarray], dict[str, torch.Tensor]]:
        """The buffers' first ``m`` rows (contiguous), as arrays and as tensors, made once per
        row count: a step at one row is mostly call overhead."""
        if m not in self._rows:
            v = {k: t[:m] for k, t in self.view.items()}
            v["gate"], v["up"] = v["gate_up"][:, : self.ffn], v["gate_up"][:, self.ffn :]
            self._rows[m] = ({k: a[:m] for k, a in self.buf.items()}, v)
        return self._rows[m]

    @torch.inference_mode()
    def prefill(self, ids: torch.Tensor) -> np.ndarray:
        """Run the prompt (rows, n) through the model; keep its keys/values; the last
        position's logits. The operations of ``LlamaForCausalLM.forward`` (sdpa attention, no
        mask), in its order: the same bits."""
        w, eps = self.w, float(self.w.eps)
        rows, n = ids.shape
        if n > self.max_len:
            raise ValueError(f"the decoder holds {self.max_len} positions")
        d, scaling = self.head_dim, self.head_dim**-0.5
        x = F.embedding(ids, w.embed)
        cos, sin = self.cos_t[:n][None].unsqueeze(1), self.sin_t[:n][None].unsqueeze(1)
        for i in range(w.layers):
            h = _rms_norm(x, w.layer(i, "input_layernorm"), eps)
            q, k, v = (
                F.linear(h, w.layer(i, f"self_attn.{p}_proj")).view(rows, n, -1, d).transpose(1, 2)
                for p in "qkv"
            )
            q = (q * cos) + (_rotate_half(q) * sin)
            k = (k * cos) + (_rotate_half(k) * sin)
            self.keys[i, :, :, :, :n] = k.numpy().transpose(0, 1, 3, 2)
            self.values[i, :, :, :n] = v.numpy()
            if self.heads != self.kv_heads:
                group = self.heads // self.kv_heads
                k = k[:, :, None].expand(rows, self.kv_heads, group, n, d).reshape(rows, -1, n, d)
                v = v[:, :, None].expand(rows, self.kv_heads, group, n, d).reshape(rows, -1, n, d)
            att = F.scaled_dot_product_attention(
                q, k, v, attn_mask=None, dropout_p=0.0, scale=scaling, is_causal=n > 1
            )
            att = att.transpose(1, 2).contiguous().reshape(rows, n, -1).contiguous()
            x = x + F.linear(att, w.layer(i, "self_attn.o_proj"))
            h = _rms_norm(x, w.layer(i, "post_attention_layernorm"), eps)
            act = F.silu(F.linear(h, w.layer(i, "mlp.gate_proj"))) * F.linear(
                h, w.layer(i, "mlp.up_proj")
            )
            x = x + F.linear(act, w.layer(i, "mlp.down_proj"))
        x = _rms_norm(x, w.tensors["model.norm.weight"], eps)
        self.length = n
        return F.linear(x, w.head)[:, -1, :].float().numpy().copy()

    @torch.inference_mode()
    def step(self, tokens: np.ndarray, active: np.ndarray | None = None) -> np.ndarray:
        """Logits after feeding one token to each row of ``active`` (all rows if None) at the
        next position: row ``i`` of the (len(active), vocab) result and of ``tokens`` is cache
        row ``active[i]``, so rows that have finished cost nothing. The array is this decoder's
        buffer: the next step overwrites it."""
        pos = self.length
        if pos >= self.max_len:
            raise ValueError(f"the decoder holds {self.max_len} positions")
        if active is None:
            active = np.arange(self.rows)
        b, v = self._leading(len(active))
        x, normed, delta = b["x"], b["normed"], b["delta"]
        vn, vqkv, vatt, vdelta, vgu = v["normed"], v["qkv"], v["att"], v["delta"], v["gate_up"]
        gate, up, act, silu = v["gate"], v["up"], v["act"], v["silu"]
        qkv_b, att_b = b["qkv"], b["att"]
        np.take(self.embed, tokens, axis=0, out=x)
        cos, sin = self.cos[pos], self.sin[pos]
        for i, (ln1, qkv, o, ln2, gate_up, down) in enumerate(self.layers):
            if i == 0:
                jit.rms_norm(x, ln1, self.eps, normed)
            else:
                jit.add_rms_norm(x, delta, ln1, self.eps, normed)  # the MLP's residual
            torch.mm(vn, qkv, out=vqkv)
            jit.attend(qkv_b, active, self.keys[i], self.values[i], pos, cos, sin,
                       self.heads, self.kv_heads, self.scale, att_b)  # fmt: skip
            torch.mm(vatt, o, out=vdelta)
            jit.add_rms_norm(x, delta, ln2, self.eps, normed)  # the attention's residual
            torch.mm(vn, gate_up, out=vgu)
            torch.ops.aten.silu.out(gate, out=silu)  # F.silu's kernel, into a buffer
            torch.mul(silu, up, out=act)
            torch.mm(act, down, out=vdelta)
        jit.add_rms_norm(x, delta, self.norm, self.eps, normed)
        torch.mm(vn, self.head, out=v["logits"])
        self.length = pos + 1
        return b["logits"]
