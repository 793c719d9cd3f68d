"""Key finding on candidates: Krumhansl-Schmuckler over the kernels' pitch-class histogram.

The Krumhansl-Kessler probe-tone profiles (Krumhansl 1990) say how strongly each scale degree
belongs to a key for listeners. Correlating a passage's duration-weighted pitch-class histogram
with the 24 rotated profiles is the standard key finder; the scorer uses it so that a section
that does not *sound* in its planned key is treated as a violation, not just a lower score.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from grammar.keys import Key

# Degree 0 = tonic.
PROFILES = {
    "major": np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]),
    "minor": np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17]),
}
MODES = ("major", "minor")


def histogram(features: Mapping[str, float]) -> np.ndarray:
    """The 12 pitch-class shares ``pc_0 .. pc_11`` of a candidate's kernel features."""
    return np.array([features[f"pc_{pc}"] for pc in range(12)], dtype=float)


def _unit(x: np.ndarray) -> np.ndarray:
    """``x`` centred and scaled to length 1 (along the last axis): Pearson r is then a dot."""
    c = x - x.mean(axis=-1, keepdims=True)
    return c / np.linalg.norm(c, axis=-1, keepdims=True)


# every key's profile, centred and normalised once: [mode index, tonic, pitch class]
_KEYS = _unit(np.array([[np.roll(PROFILES[mode], tonic) for tonic in range(12)] for mode in MODES]))


def correlations(hist: np.ndarray) -> np.ndarray:
    """Pearson r of ``hist`` with every key's profile: shape (2, 12), [mode index, tonic].
    All zeros for an empty or flat histogram (no key can be heard)."""
    if hist.sum() <= 0 or np.ptp(hist) == 0:
        return np.zeros((2, 12))
    return _KEYS @ _unit(np.asarray(hist, dtype=float))


def key_fit(features: Mapping[str, float], key: Key) -> tuple[float, bool]:
    """(r with ``key``'s profile, whether ``key`` is the best-correlated of all 24 keys)."""
    r = correlations(histogram(features))
    mine = r[MODES.index(key.mode), key.tonic]
    return float(mine), bool(mine >= r.max() and r.max() > 0)
