"""Melodic features: interval histogram, chord tones by metric position, contour, tessitura.

njit helper for the :data:`kernels.features.FEATURES` entries ``iv_0`` .. ``iv_12``,
weak_beat_chord_tones, offbeat_chord_tones, contour_up_ratio, net_motion, peak_position,
tessitura_deviation and tessitura_outer_ratio (definitions in the :mod:`kernels.features`
table). Melody rows are sorted by (onset, pitch, duration).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.context import P_BAR, P_BEAT, P_LENGTH, P_MELODY_HIGH, P_MELODY_LOW, _chord_index
from kernels.notes import TRACK_MELODY
from kernels.voiceleading import _track_span

N_INTERVAL_BINS = 13  # |i| = 0 .. 11, then 12 and more


@njit(cache=True)
def _melodic_features(
    onset: np.ndarray,
    duration: np.ndarray,
    pitch: np.ndarray,
    track: np.ndarray,
    params: np.ndarray,
    strong_offsets: np.ndarray,
    chord_starts: np.ndarray,
    chord_masks: np.ndarray,
    f_iv: int,
    f_ct: int,
    f_contour: int,
    f_tess: int,
    out: np.ndarray,
) -> None:
    """Write the 13 interval bins from ``out[f_iv]``, the two chord-tone ratios from
    ``out[f_ct]``, the three contour features from ``out[f_contour]`` and the two tessitura
    features from ``out[f_tess]`` (FEATURES order; 0 where undefined)."""
    ma, mb = _track_span(track, TRACK_MELODY)
    n = mb - ma
    for k in range(N_INTERVAL_BINS):
        out[f_iv + k] = 0.0
    for k in range(2):
        out[f_ct + k] = 0.0
        out[f_tess + k] = 0.0
    for k in range(3):
        out[f_contour + k] = 0.0
    if n == 0:
        return

    up = 0
    nonzero = 0
    for i in range(ma + 1, mb):
        d = pitch[i] - pitch[i - 1]
        out[f_iv + min(abs(d), N_INTERVAL_BINS - 1)] += 1.0
        if d != 0:
            nonzero += 1
            if d > 0:
                up += 1
    if n >= 2:
        for k in range(N_INTERVAL_BINS):
            out[f_iv + k] /= n - 1

    bar, beat = params[P_BAR], params[P_BEAT]
    weak = 0
    weak_ct = 0
    off = 0
    off_ct = 0
    for i in range(ma, mb):
        is_ct = (chord_masks[_chord_index(chord_starts, onset[i])] >> (pitch[i] % 12)) & 1
        if onset[i] % beat != 0:
            off += 1
            off_ct += is_ct
            continue
        strong = False
        for s in strong_offsets:
            if onset[i] % bar == s:
                strong = True
        if not strong:
            weak += 1
            weak_ct += is_ct
    out[f_ct] = weak_ct / weak if weak > 0 else 0.0
    out[f_ct + 1] = off_ct / off if off > 0 else 0.0

    peak = ma
    for i in range(ma, mb):
        if pitch[i] > pitch[peak]:
            peak = i
    out[f_contour] = up / nonzero if nonzero > 0 else 0.0
    out[f_contour + 1] = pitch[mb - 1] - pitch[ma]
    out[f_contour + 2] = onset[peak] / params[P_LENGTH]

    low, high = params[P_MELODY_LOW], params[P_MELODY_HIGH]
    centre = (low + high) / 2.0
    half = max((high - low) / 2.0, 1.0)
    weight = 0
    deviation = 0.0
    outer = 0
    for i in range(ma, mb):
        weight += duration[i]
        deviation += duration[i] * abs(pitch[i] - centre) / half
        if 2 * abs(2 * pitch[i] - (low + high)) > high - low:  # |p - c| > h / 2, in integers
            outer += duration[i]
    out[f_tess] = deviation / weight
    out[f_tess + 1] = outer / weight
