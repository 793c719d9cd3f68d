"""Batched sampling with a KV cache: N candidates of one section in one loop.

All rows share the prefix (the section's conditioning), so it is run once for the batch; after
that each step feeds one token per row through the cached keys and values and picks the next
token of every row. Three levels, fastest first, each used when the one before cannot be:

- the compiled path: :class:`composer.generators.transformer.decoder.FastDecoder` for the step and
the
  processors fused into one compiled draw (:func:`composer.generators.transformer.processors.fuse`);
- the decoder with the ``LogitsProcessor``s called one by one (a list holding a processor of
  the caller's own);
- ``model.forward`` with a ``DynamicCache`` (a ``transformers`` model that is not a float32
  Llama, or ``fast=False``).

``model`` is :class:`composer.generators.transformer.weights.Weights` (what ``compose`` loads: no
``transformers`` import) or a loaded ``LlamaForCausalLM``. :func:`sample_fused` is the
compiled path alone, for a :class:`composer.generators.transformer.processors.Fused` built directly.

``benchmarks/bench_sampling.py`` compares it with ``model.generate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numba
import numpy as np
import torch

from composer.generators.transformer.decoder import FastDecoder, supported
from composer.generators.transformer.model import cache_kwargs
from composer.generators.transformer.processors import Fused, fuse


@torch.inference_mode()
def sample(
    model: Any,
    prefix: list[int],
    rows: int,
    processors: Sequence[Any],
    max_new: int,
    eos_id: int,
    pad_id: int,
    seed: int = 0,
    fast: bool = True,
) -> np.ndarray:
    """``rows`` continuations of ``prefix``: a (rows, <= max_new) int64 array of new token ids,
    each row ending with ``eos_id`` (then ``pad_id``) unless ``max_new`` ran out first. The
    same ``seed`` gives the same rows on the same path (the compiled draw uses NumPy's
    generator, the others torch's ``multinomial``)."""
    seq = torch.tensor([prefix] * rows, dtype=torch.long)
    decoder = FastDecoder(model, rows, len(prefix) + max_new) if fast and supported(model) else None
    fused = fuse(processors) if decoder is not None else None
    if decoder is not None and fused is not None:
        return _compiled(decoder, fused, seq, max_new, eos_id, pad_id, seed)
    if decoder is not None:
        logits = torch.from_numpy(decoder.prefill(seq))
    else:
        from transformers import DynamicCache

        cache = DynamicCache()
        logits = model(input_ids=seq, **cache_kwargs(model, cache)).logits[:, -1].float()
    gen = torch.Generator().manual_seed(seed)
    done = torch.zeros(rows, dtype=torch.bool)
    new: list[torch.Tensor] = []
    for _ in range(max_new):
        scores = logits
        for proc in processors:  # a LogitsProcessorList's __call__ inspects every signature
            scores = proc(seq, scores)
        probs = torch.softmax(scores, dim=-1)
        nxt = torch.multinomial(probs, 1, generator=gen).squeeze(1)
        nxt = torch.where(done, torch.full_like(nxt, pad_id), nxt)
        new.append(nxt)
        seq = torch.cat([seq, nxt[:, None]], dim=1)
        done = done | (nxt == eos_id)
        if bool(done.all()):
            break
        if decoder is not None:
            logits = torch.from_numpy(decoder.step(nxt.numpy()).copy())
        else:
            out = model(input_ids=nxt[:, None], **cache_kwargs(model, cache))
            logits = out.logits[:, -1, :].float()
    return torch.stack(new, dim=1).numpy() if new else np.zeros((rows, 0), dtype=np.int64)


@torch.inference_mode()
def sample_fused(
    model: Any, prefix: list[int], rows: int, fused: Fused, max_new: int, eos_id: int,
    pad_id: int, seed: int = 0,
) -> np.ndarray:  # fmt: skip
    """:func:`sample` on the compiled path with ``fused`` (a fresh one per call: its grammar
    state follows the rows): the same rows as ``sample`` with the processors it fuses."""
    seq = torch.tensor([prefix] * rows, dtype=torch.long)
    decoder = FastDecoder(model, rows, len(prefix) + max_new)
    return _compiled(decoder, fused, seq, max_new, eos_id, pad_id, seed)


def start_thread_pool() -> None:
    """Start numba's thread pool now, keeping torch's thread count: launching the pool (numba's
    OpenMP layer) resets torch's intra-op threads to every core, which inside a sampling call
    made a caller's ``torch.set_num_threads(1)`` silently become 2 for that call."""
    threads = torch.get_num_threads()
    numba.get_num_threads()  # launches the pool once per process
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _compiled(
    decoder: FastDecoder, fused: Fused, seq: torch.Tensor, max_new: int,
    eos_id: int, pad_id: int, seed: int,
) -> np.ndarray:  # fmt: skip
    """The loop on the compiled step and draw; a row that has written EOS leaves the batch. The
    compiled attention spreads rows over as many threads as torch has been given."""
    start_thread_pool()
    threads = numba.get_num_threads()
    most: int = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
    numba.set_num_threads(max(1, min(torch.get_num_threads(), most)))
    try:
        return sample_loop(decoder, fused, seq, max_new, eos_id, pad_id, seed)
    finally:
        numba.set_num_threads(threads)


class Decoder(Protocol):
    """What the sampling loop needs of a decoder: the compiled CPU one (:class:`FastDecoder`)
    or the torch one on a device (:class:`composer.generators.transformer.gpu.TorchDecoder`)."""

    def prefill(self, ids: torch.Tensor) -> np.ndarray: ...

    def step(self, tokens: np.ndarray, active: np.ndarray) -> np.ndarray: ...


def sample_loop(
    decoder: Decoder, fused: Fused, seq: torch.Tensor, max_new: int,
    eos_id: int, pad_id: int, seed: int,
) -> np.ndarray:  # fmt: skip
    """Draw up to ``max_new`` tokens a row after the prefix ``seq`` (all rows alike): each
    step's logits through ``fused`` (grammar, masks, temperature, top-p) with one uniform
    number a live row, rows stopping at ``eos_id`` (then ``pad_id``)."""
    rows = seq.shape[0]
    rng = np.random.default_rng(seed)
    logits = decoder.prefill(seq)
    fused.grammar.update(seq)  # marks the prefix
    out = np.full((rows, max_new), pad_id, dtype=np.int64)
    active = np.arange(rows)
    steps = 0
    for t in range(max_new):
        col = out[:, t]
        # (C-contiguous already from the compiled decoder: no copy, the same bits)
        fused.draw(np.ascontiguousarray(logits), active, rng.random(len(active)), col)
        steps = t + 1
        active = active[col[active] != eos_id]
        if len(active) == 0:
            break
        logits = decoder.step(col[active], active)
    fused.grammar.seen = None  # its state has moved past the tokens it was shown
    return out[:, :steps]
