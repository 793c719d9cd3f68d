"""``compose warmup``: compile (or load) every compiled kernel once, before a user waits for it.

numba compiles a kernel on its first call and caches the machine code beside its source
(``__pycache__/*.nbi``, ``*.nbc``; ``cache=True``); on a fresh install the first ``compose`` paid
~25-30 s of compilation. :func:`warmup` composes one short song per built-in generator, with a
varied and a repeated section and two candidates, so that every kernel the default path calls is
compiled with the argument types a real song uses (numba specialises on types, not sizes).
``make demo`` runs it first; a later ``compose`` then only loads the cache (~0.6 s).
"""

from __future__ import annotations

import time
from typing import Any

# A varied (A') and a repeated (A) section: the transformer's source conditioning and the
# repeat splice run too. Two candidates: the batched paths and the search see more than one row.
SPEC: dict[str, Any] = {"form": "A A' B A", "candidates": 2, "seed": 0, "title": "warmup"}
GENERATORS = ("rules", "transformer")


def warmup(generators: tuple[str, ...] = GENERATORS) -> dict[str, float]:
    """Seconds per generator to compose the warm-up song (nothing is written)."""
    from composer.app import api

    out = {}
    for name in generators:
        t0 = time.perf_counter()
        api.compose({**SPEC, "generator": name})
        out[name] = round(time.perf_counter() - t0, 2)
    return out
