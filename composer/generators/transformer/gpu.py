"""Sampling on another torch device (``--device cuda``): the model in torch on the device.

The CPU path (:mod:`composer.generators.transformer.sampling`: the compiled
:class:`~composer.generators.transformer.decoder.FastDecoder` and the fused draw) stays the
default and the tested one. With a device set (:func:`use_device`, from ``compose --device`` or
``compose batch --device``), :class:`TorchDecoder` runs the same weights (the same
:class:`~composer.generators.transformer.weights.Weights` read from ``model.safetensors``,
moved to the device once per process) as plain torch operations on the device: prefill of the
shared prefix, then one step per token for all rows with a key/value cache on the device. Each
step's logits of the rows still running come back to the host, where the same compiled draw
(:class:`~composer.generators.transformer.processors.Fused`: the grammar, pitch and rhythm
masks, temperature, top-p) picks every row's token with the same NumPy uniforms as the CPU path.
It applies to the models the compiled decoder runs (float32 Llama without biases: the shipped
model and every one ``compose train`` writes); any other model samples on the CPU as before.

The arithmetic is the model's but not in the CPU decoder's order (cuBLAS, fused kernels), so
logits agree to float32 rounding (``tests/test_gpu_sampling.py`` checks them against the
``FastDecoder`` on the CPU, through this path with ``device="cpu"``), and a draw whose uniform
falls on a boundary between two tokens can differ: a song sampled on a GPU is deterministic on
that device (same spec, seed, GPU model and library versions: same bytes) but not byte-identical
to the CPU's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grammar.errors import SpecError

_DEVICE: str | None = None  # None: the compiled CPU path
_ON_DEVICE: dict[tuple[int, str], tuple[Any, dict[str, Any]]] = {}


def check_device(device: str, kinds: tuple[str, ...] = ("cpu", "cuda")) -> None:
    """SpecError naming ``--device`` unless torch can run on ``device`` here: one of ``kinds``
    (sampling: cpu, cuda, cuda:N; training also takes mps); "cpu" imports nothing."""
    kind, _, index = device.partition(":")
    if kind not in kinds or (index and (kind != "cuda" or not index.isdigit())):
        names = ", ".join(k if k != "cuda" else "cuda, cuda:N" for k in kinds)
        raise SpecError("--device", f"unknown device '{device[:40]}' ({names})")
    if kind == "cpu":
        return
    import torch

    if kind == "cuda":
        if torch.version.cuda is None:
            raise SpecError("--device", "this torch was built without CUDA; use --device cpu")
        if not torch.cuda.is_available():
            raise SpecError("--device", "no CUDA GPU is visible here; use --device cpu")
        if index and int(index) >= torch.cuda.device_count():
            count = torch.cuda.device_count()
            raise SpecError("--device", f"GPU {int(index)} asked, but {count} visible")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise SpecError("--device", "MPS (Apple GPU) is not available here; use --device cpu")


def use_device(device: str, torch_path: bool = False) -> None:
    """Sample the ``transformer`` generator's melodies on ``device`` in this process from now
    on (checked first). "cpu" is the compiled CPU path, unless ``torch_path`` (tests: this
    module's path run on the CPU)."""
    global _DEVICE
    check_device(device)
    _DEVICE = device if device != "cpu" or torch_path else None


def current_device() -> str | None:
    """The device :func:`use_device` set, None for the compiled CPU path."""
    return _DEVICE


def _tensors(w: Any, device: str) -> dict[str, Any]:
    """``w``'s tensors on ``device``, moved once per process (kept while ``w`` is)."""
    key = (id(w), device)
    hit = _ON_DEVICE.get(key)
    if hit is None or hit[0] is not w:
        hit = (w, {k: t.to(device) for k, t in w.tensors.items()})
        _ON_DEVICE[key] = hit
    return hit[1]


class TorchDecoder:
    """The Llama decoder of ``w`` in torch on ``device``: :meth:`prefill`, then :meth:`step`
    (every row each step; the caller keeps the rows it wants)."""

    def __init__(self, w: Any, rows: int, max_len: int, device: str) -> None:
        import torch

        self.w, self.device, self.rows, self.max_len = w, device, rows, max_len
        self.t = _tensors(w, device)
        d = w.head_dim
        inv_freq = 1.0 / (w.rope_theta ** (torch.arange(0, d, 2, dtype=torch.float) / d))
        freqs = torch.arange(max_len).float()[:, None] * inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)
        self.cos, self.sin = emb.cos().to(device), emb.sin().to(device)  # (max_len, d)
        shape = (w.layers, rows, w.kv_heads, max_len, d)
        self.keys = torch.zeros(shape, device=device)
        self.values = torch.zeros(shape, device=device)
        self.length = 0
        self.last = np.zeros(rows, dtype=np.int64)  # each row's latest token

    def _layer(self, i: int, name: str) -> Any:
        return self.t[f"model.layers.{i}.{name}.weight"]

    def _forward(self, ids: Any) -> Any:
        """Logits of the last position after feeding ``ids`` (rows, n) at the next n positions."""
        import torch
        import torch.nn.functional as F

        w, t = self.w, self.t
        rows, n = ids.shape
        start, end = self.length, self.length + n
        if end > self.max_len:
            raise ValueError(f"the decoder holds {self.max_len} positions")
        d, eps = w.head_dim, w.eps
        cos, sin = self.cos[start:end][None, None], self.sin[start:end][None, None]

        def norm(x: Any, weight: Any) -> Any:
            return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

        def rotate(x: Any) -> Any:
            half = x.shape[-1] // 2
            return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin

        x = F.embedding(ids, t["model.embed_tokens.weight"])
        group = w.heads // w.kv_heads
        for i in range(w.layers):
            h = norm(x, self._layer(i, "input_layernorm"))
            q, k, v = (
                F.linear(h, self._layer(i, f"self_attn.{p}_proj")).view(rows, n, -1, d)
                .transpose(1, 2)
                for p in "qkv"
            )  # fmt: skip
            q, k = rotate(q), rotate(k)
            self.keys[i, :, :, start:end] = k
            self.values[i, :, :, start:end] = v
            keys, values = self.keys[i, :, :, :end], self.values[i, :, :, :end]
            if group > 1:
                keys = keys.repeat_interleave(group, dim=1)
                values = values.repeat_interleave(group, dim=1)
            # the new positions see every earlier one and each other causally
            mask = None
            if n > 1:
                mask = torch.ones(n, end, dtype=torch.bool, device=self.device).tril(start)
            att = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask, scale=d**-0.5)
            att = att.transpose(1, 2).reshape(rows, n, -1)
            x = x + F.linear(att, self._layer(i, "self_attn.o_proj"))
            h = norm(x, self._layer(i, "post_attention_layernorm"))
            act = F.silu(F.linear(h, self._layer(i, "mlp.gate_proj"))) * F.linear(
                h, self._layer(i, "mlp.up_proj")
            )
            x = x + F.linear(act, self._layer(i, "mlp.down_proj"))
        x = norm(x[:, -1], t["model.norm.weight"])
        self.length = end
        return F.linear(x, t.get("lm_head.weight", t["model.embed_tokens.weight"]))

    def prefill(self, ids: Any) -> np.ndarray:
        """The prompt (rows, n) through the model from position 0: the last position's
        logits (rows, vocab) on the host."""
        self.length = 0
        self.last = ids[:, -1].numpy().astype(np.int64)
        return self._forward(ids.to(self.device)).float().cpu().numpy()

    def step(self, tokens: np.ndarray, active: np.ndarray) -> np.ndarray:
        """Logits (len(active), vocab) on the host after feeding ``tokens[i]`` to row
        ``active[i]`` (the other rows are fed a repeat of their last token, and dropped)."""
        import torch

        self.last[active] = tokens
        ids = torch.from_numpy(self.last).to(self.device)[:, None]
        logits = self._forward(ids)
        return logits[torch.from_numpy(active).to(self.device)].float().cpu().numpy()


def sample_fused(
    model: Any, prefix: list[int], rows: int, fused: Any, max_new: int, eos_id: int,
    pad_id: int, seed: int = 0, device: str | None = None,
) -> np.ndarray:  # fmt: skip
    """:func:`composer.generators.transformer.sampling.sample_fused` with the model on
    ``device`` (default: :func:`current_device`): a (rows, <= max_new) int64 array of new token
    ids, each row ending with ``eos_id`` (then ``pad_id``) unless ``max_new`` ran out."""
    import torch

    from composer.generators.transformer.sampling import sample_loop

    device = device or _DEVICE or "cpu"
    with torch.inference_mode():
        decoder = TorchDecoder(model, rows, len(prefix) + max_new, device)
        seq = torch.tensor([prefix] * rows, dtype=torch.long)
        return sample_loop(decoder, fused, seq, max_new, eos_id, pad_id, seed)
