"""Gather one candidate's rows into the order every per-candidate kernel expects (njit).

Rows are grouped by ascending track and, within a track, sorted by (onset, pitch, duration):
a counting sort over track numbers, then :func:`_sort_segment` per track (O(n) when the rows
already come in that order, as canonical NoteArrays filtered to one track do).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.voiceleading import _running_max

# Sort key inside the kernel: onset (< 2**40, see SectionArrays) above pitch (7 bits).
_ONSET_SHIFT = 7


@njit(cache=True)
def _sort_segment(
    onset: np.ndarray, duration: np.ndarray, pitch: np.ndarray, a: int, b: int
) -> None:
    """Sort rows ``[a, b)`` of the three columns in place by (onset, pitch, duration).

    O(n) when already sorted (the usual case: canonical NoteArrays filtered to one track);
    otherwise an argsort of the packed key (onset, pitch) then an insertion pass that orders
    the (rare, short) runs of equal keys by duration. Rows equal in all three are
    interchangeable for every kernel, so the result is a function of the multiset of rows.
    """
    is_sorted = True
    for i in range(a + 1, b):
        if (onset[i], pitch[i], duration[i]) < (onset[i - 1], pitch[i - 1], duration[i - 1]):
            is_sorted = False
            break
    if is_sorted:
        return
    n = b - a
    key = np.empty(n, dtype=np.int64)
    for i in range(n):
        key[i] = (onset[a + i] << _ONSET_SHIFT) | pitch[a + i]
    order = np.argsort(key)
    s_key = key[order]
    s_onset = onset[a:b][order]
    s_duration = duration[a:b][order]
    s_pitch = pitch[a:b][order]
    for i in range(1, n):  # order equal keys by duration (insertion sort within runs)
        k, d = s_key[i], s_duration[i]
        j = i - 1
        while j >= 0 and s_key[j] == k and s_duration[j] > d:
            s_duration[j + 1] = s_duration[j]
            j -= 1
        s_duration[j + 1] = d  # rows in a run share onset and pitch: only durations move
    onset[a:b] = s_onset
    duration[a:b] = s_duration
    pitch[a:b] = s_pitch


@njit(cache=True)
def _gather_sorted(
    onset: np.ndarray, duration: np.ndarray, pitch: np.ndarray, track: np.ndarray, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows ``[lo, hi)`` copied out grouped by ascending track, each track sorted by
    (onset, pitch, duration); returns (onset, duration, pitch, track, end, end_max) with
    ``end = onset + duration`` and ``end_max`` its running maximum within each track."""
    n = hi - lo
    n_tracks = 1
    for r in range(lo, hi):
        n_tracks = max(n_tracks, track[r] + 1)
    counts = np.zeros(n_tracks, dtype=np.int64)
    for r in range(lo, hi):
        counts[track[r]] += 1
    pos = np.zeros(n_tracks, dtype=np.int64)
    for t in range(1, n_tracks):
        pos[t] = pos[t - 1] + counts[t - 1]
    c_onset = np.empty(n, dtype=np.int64)
    c_duration = np.empty(n, dtype=np.int64)
    c_pitch = np.empty(n, dtype=np.int64)
    c_track = np.empty(n, dtype=np.int64)
    for r in range(lo, hi):
        t = track[r]
        p = pos[t]
        pos[t] += 1
        c_onset[p] = onset[r]
        c_duration[p] = duration[r]
        c_pitch[p] = pitch[r]
        c_track[p] = t
    end = np.empty(n, dtype=np.int64)
    end_max = np.empty(n, dtype=np.int64)
    a = 0
    for t in range(n_tracks):
        b = a + counts[t]
        _sort_segment(c_onset, c_duration, c_pitch, a, b)
        for i in range(a, b):
            end[i] = c_onset[i] + c_duration[i]
        _running_max(end, a, b, end_max)
        a = b
    return c_onset, c_duration, c_pitch, c_track, end, end_max
