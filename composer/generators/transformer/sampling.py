"""Batched sampling with a KV cache: N candidates of one section in one loop.

All rows share the prefix (the section's conditioning), so it is run once for the batch; after
that each step feeds one token per row through the cached keys and values and picks the next
token of every row. Three levels, fastest first, each used when the one before cannot be:

- the compiled path: :class:`composer.generators.transformer.decoder.FastDecoder` for the step and
the
  processors fused into one compiled draw (:func:`composer.generators.transformer.processors.fuse`);
- the decoder with the ``LogitsProcessor``s called one by one (a list holding a processor of
  the caller's own);
- ``model.forward`` with a ``DynamicCache`` (a model that is not a float32 Llama, or
  ``fast=False``).

``benchmarks/bench_sampling.py`` compares it with ``model.generate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numba
import numpy as np
import torch
from transformers import DynamicCache

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
        return _compiled(decoder, fused, model, seq, max_new, eos_id, pad_id, seed)
    cache = DynamicCache()
    if decoder is not None:
        logits = torch.from_numpy(decoder.prefill(model, seq))
    else:
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


def _compiled(
    decoder: FastDecoder, fused: Fused, model: Any, seq: torch.Tensor, max_new: int,
    eos_id: int, pad_id: int, seed: int,
) -> np.ndarray:  # fmt: skip
    """The loop on the compiled step and draw; a row that has written EOS leaves the batch. The
    compiled attention spreads rows over as many threads as torch has been given."""
    threads = numba.get_num_threads()
    most: int = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
    numba.set_num_threads(max(1, min(torch.get_num_threads(), most)))
    try:
        return _loop(decoder, fused, model, seq, max_new, eos_id, pad_id, seed)
    finally:
        numba.set_num_threads(threads)


def _loop(
    decoder: FastDecoder, fused: Fused, model: Any, seq: torch.Tensor, max_new: int,
    eos_id: int, pad_id: int, seed: int,
) -> np.ndarray:  # fmt: skip
    rows = seq.shape[0]
    rng = np.random.default_rng(seed)
    logits = decoder.prefill(model, seq)
    fused.grammar.update(seq)  # marks the prefix
    out = np.full((rows, max_new), pad_id, dtype=np.int64)
    active = np.arange(rows)
    steps = 0
    for t in range(max_new):
        col = out[:, t]
        fused.draw(logits, active, rng.random(len(active)), col)
        steps = t + 1
        active = active[col[active] != eos_id]
        if len(active) == 0:
            break
        logits = decoder.step(col[active], active)
    fused.grammar.seen = None  # its state has moved past the tokens it was shown
    return out[:, :steps]
