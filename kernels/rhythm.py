"""Rhythm features: syncopation across the beat, note density, per-bar counts, groove.

njit helper for the :data:`kernels.features.FEATURES` entries sync_across_beat, note_density,
bar_notes_std, bar_notes_min, bar_notes_max and groove_consistency (definitions in the
:mod:`kernels.features` table). "Bar of a note" is ``min(onset // bar_ticks, n_bars - 1)``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.context import P_BAR, P_BEAT, P_LENGTH
from kernels.notes import TRACK_BASS, TRACK_MELODY
from kernels.repetition import _bar_starts, _jaccard
from kernels.voiceleading import _track_span


@njit(cache=True)
def _rhythm_features(
    onset: np.ndarray,
    duration: np.ndarray,
    track: np.ndarray,
    params: np.ndarray,
    f_rhythm: int,
    out: np.ndarray,
) -> None:
    """Write the six rhythm features, in FEATURES order, from ``out[f_rhythm]``."""
    length, bar, beat = params[P_LENGTH], params[P_BAR], params[P_BEAT]
    n_bars = (length + bar - 1) // bar
    ma, mb = _track_span(track, TRACK_MELODY)
    n = mb - ma

    across = 0
    for i in range(ma, mb):
        if onset[i] % beat != 0 and onset[i] + duration[i] > (onset[i] // beat + 1) * beat:
            across += 1
    out[f_rhythm] = across / n if n > 0 else 0.0

    _, bb = _track_span(track, TRACK_BASS)  # tracks 0..2 are rows [ma, bb): grouped by track
    out[f_rhythm + 1] = (bb - ma) / (length / bar)

    counts = np.zeros(n_bars, dtype=np.int64)
    for i in range(ma, mb):
        counts[min(onset[i] // bar, n_bars - 1)] += 1
    mean = n / n_bars
    var = 0.0
    for k in range(n_bars):
        var += (counts[k] - mean) ** 2
    out[f_rhythm + 2] = math.sqrt(var / n_bars)
    out[f_rhythm + 3] = counts.min()
    out[f_rhythm + 4] = counts.max()

    if n_bars < 2:
        out[f_rhythm + 5] = 1.0
        return
    ensemble = np.sort(onset[ma:bb])  # onsets of tracks 0..2, ascending
    first = _bar_starts(ensemble, 0, ensemble.shape[0], length, bar)
    total = 0.0
    for k in range(1, n_bars):
        if first[k] == first[k + 1] and first[k - 1] == first[k]:
            total += 1.0  # two empty bars: the same (empty) groove
        else:
            total += _jaccard(
                ensemble, first[k], first[k + 1], k * bar, ensemble, first[k - 1], first[k],
                (k - 1) * bar,
            )  # fmt: skip
    out[f_rhythm + 5] = total / (n_bars - 1)
