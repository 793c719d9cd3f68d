"""Repetition features: bars against earlier bars, against a reference segment, across the seam.

njit helpers for the :data:`kernels.features.FEATURES` entries bar_rhythm_repetition,
bar_pitch_repetition, ``ref_*`` and ``boundary_*`` (definitions in the :mod:`kernels.features`
table). Sets of melody events are compared as sorted runs of int64 keys: the onset (rhythm) or
``onset * 128 + pitch`` (notes), with the bar's start subtracted to get offsets within the bar.
Melody rows sorted by (onset, pitch, duration) give both keys in ascending order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.context import (
    P_BAR,
    P_BEAT,
    P_HAS_PREVIOUS,
    P_HAS_REFERENCE,
    P_LENGTH,
    P_PREVIOUS_LENGTH,
)
from kernels.notes import TRACK_BASS, TRACK_MELODY
from kernels.voiceleading import _track_span

PITCH_SHIFT = 128  # key = onset * 128 + pitch: (onset, pitch) pairs as one ordered int64


@njit(cache=True)
def _jaccard(
    ka: np.ndarray, a0: int, a1: int, a_base: int, kb: np.ndarray, b0: int, b1: int, b_base: int
) -> float:
    """Jaccard similarity of the distinct values ``ka[a0:a1] - a_base`` and
    ``kb[b0:b1] - b_base`` (both runs ascending). In ``[0, 1]``; 0 if both are empty."""
    i = a0
    j = b0
    inter = 0
    union = 0
    while i < a1 or j < b1:
        vi = ka[i] - a_base if i < a1 else 0
        vj = kb[j] - b_base if j < b1 else 0
        union += 1
        if j >= b1 or (i < a1 and vi < vj):
            v = vi
        elif i >= a1 or vj < vi:
            v = vj
        else:
            v = vi
            inter += 1
        while i < a1 and ka[i] - a_base == v:
            i += 1
        while j < b1 and kb[j] - b_base == v:
            j += 1
    if union == 0:
        return 0.0
    return inter / union


@njit(cache=True)
def _bar_starts(onset: np.ndarray, a: int, b: int, length: int, bar: int) -> np.ndarray:
    """``first`` (n_bars + 1 entries): rows of bar k are ``[first[k], first[k + 1])`` among rows
    ``[a, b)`` sorted by onset; a row's bar is ``min(onset // bar, n_bars - 1)``."""
    n_bars = (length + bar - 1) // bar
    first = np.empty(n_bars + 1, dtype=np.int64)
    row = a
    for k in range(n_bars):
        first[k] = row
        while row < b and min(onset[row] // bar, n_bars - 1) == k:
            row += 1
    first[n_bars] = b
    return first


@njit(cache=True)
def _bar_repetition(
    key: np.ndarray, onset: np.ndarray, a: int, b: int, length: int, bar: int, scale: int
) -> float:
    """Mean over bars 2..n of the best Jaccard similarity of the bar's key set (offsets within
    the bar, ``scale`` = 1 for onsets, PITCH_SHIFT for pitch keys) with any earlier bar's."""
    n_bars = (length + bar - 1) // bar
    if n_bars < 2:
        return 0.0
    first = _bar_starts(onset, a, b, length, bar)
    total = 0.0
    for k in range(1, n_bars):
        best = 0.0
        for p in range(k):
            sim = _jaccard(
                key, first[k], first[k + 1], k * bar * scale, key, first[p], first[p + 1],
                p * bar * scale,
            )  # fmt: skip
            best = max(best, sim)
        total += best
    return total / (n_bars - 1)


@njit(cache=True)
def _bar_rhythm_repetition(onset: np.ndarray, a: int, b: int, length: int, bar: int) -> float:
    """``bar_rhythm_repetition`` of melody rows ``[a, b)`` (sorted by onset); see FEATURES."""
    return _bar_repetition(onset, onset, a, b, length, bar, 1)


@njit(cache=True)
def _pitch_keys(onset: np.ndarray, pitch: np.ndarray) -> np.ndarray:
    """``onset * PITCH_SHIFT + pitch`` row by row."""
    return onset * PITCH_SHIFT + pitch


@njit(cache=True)
def _same_runs(ka: np.ndarray, a0: int, a1: int, kb: np.ndarray, b0: int, b1: int) -> bool:
    """Whether the distinct values of ``ka[a0:a1]`` and ``kb[b0:b1]`` (ascending) are equal."""
    return _jaccard(ka, a0, a1, 0, kb, b0, b1, 0) == 1.0 or (a0 == a1 and b0 == b1)


@njit(cache=True)
def _repetition_features(
    onset: np.ndarray,
    pitch: np.ndarray,
    track: np.ndarray,
    r_onset: np.ndarray,
    r_pitch: np.ndarray,
    r_track: np.ndarray,
    p_onset: np.ndarray,
    p_duration: np.ndarray,
    p_pitch: np.ndarray,
    p_track: np.ndarray,
    params: np.ndarray,
    f_bar_pitch: int,
    f_ref: int,
    f_prev: int,
    out: np.ndarray,
) -> None:
    """Write bar_pitch_repetition at ``out[f_bar_pitch]``, the four reference features from
    ``out[f_ref]`` and the six boundary features from ``out[f_prev]`` (FEATURES order).

    ``r_*`` is the reference segment and ``p_*`` the previous one, both grouped by ascending
    track with rows sorted by (onset, pitch, duration), like the candidate's columns.
    """
    length, bar = params[P_LENGTH], params[P_BAR]
    ma, mb = _track_span(track, TRACK_MELODY)
    keys = _pitch_keys(onset, pitch)
    out[f_bar_pitch] = _bar_repetition(keys, onset, ma, mb, length, bar, PITCH_SHIFT)

    for k in range(4):
        out[f_ref + k] = 0.0
    if params[P_HAS_REFERENCE]:
        ra, rb = _track_span(r_track, TRACK_MELODY)
        r_keys = _pitch_keys(r_onset, r_pitch)
        out[f_ref] = 1.0
        out[f_ref + 1] = _jaccard(onset, ma, mb, 0, r_onset, ra, rb, 0)
        out[f_ref + 2] = _jaccard(keys, ma, mb, 0, r_keys, ra, rb, 0)
        first = _bar_starts(onset, ma, mb, length, bar)
        r_first = _bar_starts(r_onset, ra, rb, length, bar)
        n_bars = first.shape[0] - 1
        matches = 0
        for k in range(n_bars):
            if _same_runs(keys, first[k], first[k + 1], r_keys, r_first[k], r_first[k + 1]):
                matches += 1
        out[f_ref + 3] = matches / n_bars

    for k in range(6):
        out[f_prev + k] = 0.0
    if not params[P_HAS_PREVIOUS]:
        return
    out[f_prev] = 1.0
    prev_length = params[P_PREVIOUS_LENGTH]
    pa, pb = _track_span(p_track, TRACK_MELODY)
    if pa < pb and ma < mb:
        last = pb - 1
        out[f_prev + 1] = pitch[ma] - p_pitch[last]
        out[f_prev + 2] = abs(pitch[ma] - p_pitch[last])
        gap = prev_length - (p_onset[last] + p_duration[last]) + onset[ma]
        out[f_prev + 3] = gap / params[P_BEAT]
    qa, qb = _track_span(p_track, TRACK_BASS)
    ba, bb = _track_span(track, TRACK_BASS)
    if qa < qb and ba < bb:
        out[f_prev + 4] = pitch[ba] - p_pitch[qb - 1]
    tail = pb  # melody rows of the previous segment's last bar: a suffix of [pa, pb)
    while tail > pa and p_onset[tail - 1] >= prev_length - bar:
        tail -= 1
    head = ma  # the candidate's first-bar melody rows: a prefix of [ma, mb)
    while head < mb and onset[head] < bar:
        head += 1
    out[f_prev + 5] = _jaccard(p_onset, tail, pb, prev_length - bar, onset, ma, head, 0)
