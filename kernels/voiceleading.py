"""Voice leading between monophonic voices: one scan per voice pair (njit; see kernels.checker).

The rule is defined once, in the :mod:`kernels.checker` docstring ("Voice-leading moments");
this module implements it and :mod:`kernels.reference` and ``tests/chorales.py`` (with music21
objects) implement it again independently. :data:`VOICE_PAIR_COUNTS` names the per-pair counts
``BatchResult.voice_pairs`` holds, for every pair ``(i, j)``, ``i < j``, of ``SectionArrays.voices``
in :func:`voice_pairs` order.

Kernels here receive one candidate's int64 columns grouped by ascending track, each track's rows
sorted by (onset, pitch, duration), plus ``end = onset + duration`` and ``end_max``, the running
maximum of ``end`` within each track's rows (see :func:`_running_max`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

VOICE_PAIR_COUNTS: tuple[str, ...] = (
    "parallel_fifths",
    "parallel_octaves",
    "direct_fifths",
    "direct_octaves",
    "crossings",
    "wide_spacings",
)
PC_PARALLEL_FIFTHS, PC_PARALLEL_OCTAVES, PC_DIRECT_FIFTHS, PC_DIRECT_OCTAVES = range(4)
PC_CROSSINGS, PC_WIDE_SPACINGS = 4, 5


def voice_pairs(n_voices: int) -> list[tuple[int, int]]:
    """Voice-index pairs ``(i, j)`` with ``i < j``, in the order of ``BatchResult.voice_pairs``."""
    return [(i, j) for i in range(n_voices) for j in range(i + 1, n_voices)]


@njit(cache=True)
def _track_span(track: np.ndarray, t: int) -> tuple[int, int]:
    """Half-open index range ``[a, b)`` of the rows of track ``t`` in ``track`` (grouped by
    ascending track); ``a == b`` when the track is empty."""
    n = track.shape[0]
    a = 0
    while a < n and track[a] < t:
        a += 1
    b = a
    while b < n and track[b] == t:
        b += 1
    return a, b


@njit(cache=True)
def _running_max(values: np.ndarray, a: int, b: int, out: np.ndarray) -> None:
    """``out[i] = max(values[a..i])`` for ``i`` in ``[a, b)``."""
    if a == b:
        return
    running = values[a]
    for i in range(a, b):
        running = max(running, values[i])
        out[i] = running


@njit(cache=True)
def _sounding(end: np.ndarray, end_max: np.ndarray, a: int, k: int, t: int) -> int:
    """Row of the note sounding at ``t`` among rows ``[a, k)`` (all with ``onset <= t``), or -1.

    Rows are sorted by (onset, pitch, duration), so the highest row with ``end > t`` is the
    latest-onset sounding note, ties going to the highest pitch. ``end_max[i]`` is the running
    maximum of ``end[a..i]``; once it is ``<= t`` no earlier row can sound, which keeps the
    backward scan O(1) for monophonic input.
    """
    j = k - 1
    while j >= a and end_max[j] > t:
        if end[j] > t:
            return j
        j -= 1
    return -1


@njit(cache=True)
def _pair_scan(
    onset: np.ndarray,
    pitch: np.ndarray,
    end: np.ndarray,
    end_max: np.ndarray,
    ua: int,
    ub: int,
    la: int,
    lb: int,
    out: np.ndarray,
) -> None:
    """Add the :data:`VOICE_PAIR_COUNTS` of upper voice rows ``[ua, ub)`` against lower voice
    rows ``[la, lb)`` to ``out`` (int64, length 6), following the checker's rule."""
    if ua == ub or la == lb:
        return
    iu = ua  # upper rows [ua, iu) have onset <= t
    il = la
    have_prev = False
    pu = 0
    pl = 0
    while iu < ub or il < lb:
        # next distinct time of the merged onset sequence
        t = onset[iu] if il >= lb or (iu < ub and onset[iu] <= onset[il]) else onset[il]
        while iu < ub and onset[iu] <= t:
            iu += 1
        while il < lb and onset[il] <= t:
            il += 1
        ju = _sounding(end, end_max, ua, iu, t)
        jl = _sounding(end, end_max, la, il, t)
        if ju < 0 or jl < 0:
            continue
        u = pitch[ju]
        lo = pitch[jl]
        if have_prev and u == pu and lo == pl:
            continue
        if u < lo:
            out[PC_CROSSINGS] += 1
        if u - lo > 12:
            out[PC_WIDE_SPACINGS] += 1
        if have_prev:
            du = u - pu
            dl = lo - pl
            if du != 0 and dl != 0 and (du > 0) == (dl > 0):
                i1 = abs(pu - pl) % 12
                i2 = abs(u - lo) % 12
                if i2 == 7:
                    out[PC_PARALLEL_FIFTHS if i1 == 7 else PC_DIRECT_FIFTHS] += 1
                elif i2 == 0:
                    out[PC_PARALLEL_OCTAVES if i1 == 0 else PC_DIRECT_OCTAVES] += 1
        pu = u
        pl = lo
        have_prev = True


@njit(cache=True)
def _voice_pair_counts(
    onset: np.ndarray,
    pitch: np.ndarray,
    track: np.ndarray,
    end: np.ndarray,
    end_max: np.ndarray,
    voices: np.ndarray,
    out: np.ndarray,
) -> None:
    """Fill ``out`` (int64, ``(n_pairs, 6)``) with the counts of every voice pair, in
    :func:`voice_pairs` order; ``voices`` lists track numbers from the highest voice down."""
    k = voices.shape[0]
    starts = np.empty(k, dtype=np.int64)
    stops = np.empty(k, dtype=np.int64)
    for v in range(k):
        starts[v], stops[v] = _track_span(track, voices[v])
    out[:, :] = 0
    p = 0
    for i in range(k):
        for j in range(i + 1, k):
            _pair_scan(onset, pitch, end, end_max, starts[i], stops[i], starts[j], stops[j], out[p])
            p += 1
