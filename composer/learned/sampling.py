"""Batched sampling with a KV cache: N candidates of one section in one loop.

All rows share the prefix (the section's conditioning), so it is run once for the batch; after
that each step feeds one token per row through the cached keys and values
(``DynamicCache``, or the preallocated tensors of :class:`FastDecoder`) and asks the
``LogitsProcessorList`` (grammar, masks, temperature, top-p) for the next distribution.
``benchmarks/bench_sampling.py`` compares it with ``model.generate``.
"""

from __future__ import annotations

from typing import Any

import torch
from transformers import DynamicCache, LogitsProcessorList

from composer.learned.decoder import FastDecoder, supported


@torch.inference_mode()
def sample(
    model: Any,
    prefix: list[int],
    rows: int,
    processors: LogitsProcessorList,
    max_new: int,
    eos_id: int,
    pad_id: int,
    generator: torch.Generator | None = None,
    fast: bool = True,
) -> torch.Tensor:
    """``rows`` continuations of ``prefix``: a (rows, <= max_new) tensor of new token ids, each
    row ending with ``eos_id`` (then ``pad_id``) unless ``max_new`` ran out first. With
    ``fast`` (and a Llama), the steps after the prompt run on :class:`FastDecoder` (the same
    logits, less overhead); otherwise on ``model.forward`` with a ``DynamicCache``."""
    seq = torch.tensor([prefix] * rows, dtype=torch.long)
    decoder = FastDecoder(model, rows, len(prefix) + max_new) if fast and supported(model) else None
    cache = DynamicCache()
    if decoder is not None:
        logits = decoder.prefill(model, seq)
    else:
        logits = model(input_ids=seq, past_key_values=cache, use_cache=True).logits[:, -1].float()
    done = torch.zeros(rows, dtype=torch.bool)
    new: list[torch.Tensor] = []
    for _ in range(max_new):
        scores = logits
        for proc in processors:  # the list's own __call__ inspects every signature, every step
            scores = proc(seq, scores)
        probs = torch.softmax(scores, dim=-1)
        nxt = torch.multinomial(probs, 1, generator=generator).squeeze(1)
        nxt = torch.where(done, torch.full_like(nxt, pad_id), nxt)
        new.append(nxt)
        seq = torch.cat([seq, nxt[:, None]], dim=1)
        done = done | (nxt == eos_id)
        if bool(done.all()):
            break
        if decoder is not None:
            logits = decoder.step(nxt)
        else:
            out = model(input_ids=nxt[:, None], past_key_values=cache, use_cache=True)
            logits = out.logits[:, -1, :].float()
    return torch.stack(new, dim=1) if new else torch.zeros((rows, 0), dtype=torch.long)
