"""Deterministic random streams: one per (song seed, purpose, section).

Same spec + same seed => the same song, byte for byte. Each consumer draws from its own stream,
named by purpose and section id, so adding a section or a pass does not shift every other draw.
Names are hashed with CRC-32 (stable across runs, unlike ``hash()``).
"""

from __future__ import annotations

import zlib

import numpy as np


def rng_for(seed: int, *names: str | int) -> np.random.Generator:
    entropy = [seed] + [zlib.crc32(str(n).encode()) for n in names]
    return np.random.default_rng(np.random.SeedSequence(entropy))
