"""Hard constraints: per-candidate violation counts (njit kernels; driven by :mod:`kernels.batch`).

:data:`VIOLATIONS` names the columns of ``BatchResult.violations``. Every entry is a count of
offending notes or note pairs, an integer ``>= 0``; 0 is clean and larger is worse.

=================  =============================================================================
name               definition
=================  =============================================================================
out_of_key         notes (all tracks) whose pc is in neither ``scale_mask`` nor the mask of the
                   chord sounding at the note's onset (chord tones are allowed chromatic tones:
                   secondary dominants, borrowed chords). Range ``0 .. n_notes``.
melody_range       melody notes with ``pitch < melody_low`` or ``pitch > melody_high``.
                   Range ``0 .. n_melody``.
melody_overlap     melody notes (sorted by onset, then pitch) whose onset is before the end
                   (onset + duration) of the previous melody note; equal onsets count.
                   Range ``0 .. n_melody - 1``.
bass_overlap       the same for the bass track. Range ``0 .. n_bass - 1``.
parallel_fifths    take the sorted distinct union of melody and bass onsets; at each time ``t``
                   take the melody note sounding at ``t`` (``onset <= t < end``; if several, the
                   latest-onset one, ties broken by the highest pitch) and likewise the bass
                   note; keep the times where both sound, giving ``(m, b)`` pitch pairs; drop
                   consecutive duplicate pairs. A step ``(m1, b1) -> (m2, b2)`` with both voices
                   moving (``m1 != m2``, ``b1 != b2``) in the same direction and
                   ``(m1 - b1) % 12 == (m2 - b2) % 12 == 7`` is a parallel fifth.
                   Range ``0 .. pairs - 1``.
parallel_octaves   as parallel_fifths with both intervals ``% 12 == 0`` (unisons included).
large_leaps        consecutive melody notes (sorted by onset, then pitch) whose
                   ``|pitch difference| > 12``. Range ``0 .. n_melody - 1``.
=================  =============================================================================

Kernels here receive the notes of ONE candidate as int64 column arrays, grouped by track
(melody, chords, bass, then any other tracks) with each of the first three sorted by
(onset, pitch, duration); they never sort and never see structured arrays.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.context import _chord_index
from kernels.notes import TRACK_BASS, TRACK_MELODY

VIOLATIONS: tuple[str, ...] = (
    "out_of_key",
    "melody_range",
    "melody_overlap",
    "bass_overlap",
    "parallel_fifths",
    "parallel_octaves",
    "large_leaps",
)

V_OUT_OF_KEY = 0
V_MELODY_RANGE = 1
V_MELODY_OVERLAP = 2
V_BASS_OVERLAP = 3
V_PARALLEL_FIFTHS = 4
V_PARALLEL_OCTAVES = 5
V_LARGE_LEAPS = 6


@njit(cache=True)
def _track_span(track: np.ndarray, t: int) -> tuple[int, int]:
    """Half-open index range ``[a, b)`` of the rows of track ``t`` (0, 1 or 2) in ``track``.

    ``track`` is grouped as 0s, 1s, 2s, then tracks >= 3; ``a == b`` when the track is empty.
    """
    n = track.shape[0]
    a = 0
    while a < n and track[a] < t:
        a += 1
    b = a
    while b < n and track[b] == t:
        b += 1
    return a, b


@njit(cache=True)
def _overlaps(onset: np.ndarray, duration: np.ndarray, a: int, b: int) -> int:
    """Rows ``i`` in ``(a, b)`` with ``onset[i] < onset[i-1] + duration[i-1]`` (count, >= 0)."""
    count = 0
    for i in range(a + 1, b):
        if onset[i] < onset[i - 1] + duration[i - 1]:
            count += 1
    return count


@njit(cache=True)
def _sounding(
    onset: np.ndarray, end: np.ndarray, end_max: np.ndarray, a: int, k: int, t: int
) -> int:
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
def _running_max(values: np.ndarray, a: int, b: int, out: np.ndarray) -> None:
    """``out[i] = max(values[a..i])`` for ``i`` in ``[a, b)``."""
    if a == b:
        return
    running = values[a]
    for i in range(a, b):
        running = max(running, values[i])
        out[i] = running


@njit(cache=True)
def _parallels(
    onset: np.ndarray, duration: np.ndarray, pitch: np.ndarray, ma: int, mb: int, ba: int, bb: int
) -> tuple[int, int]:
    """(parallel fifths, parallel octaves) between melody rows ``[ma, mb)`` and bass ``[ba, bb)``.

    See the module table for the definition; both counts are ``>= 0``.
    """
    fifths = 0
    octaves = 0
    if ma == mb or ba == bb:
        return fifths, octaves
    n = onset.shape[0]
    end = onset + duration
    end_max = np.empty(n, dtype=np.int64)
    _running_max(end, ma, mb, end_max)
    _running_max(end, ba, bb, end_max)

    im = ma  # melody rows [ma, im) have onset <= t
    ib = ba
    have_prev = False
    pm = 0
    pb = 0
    while im < mb or ib < bb:
        # next distinct time of the merged onset sequence
        t = onset[im] if ib >= bb or (im < mb and onset[im] <= onset[ib]) else onset[ib]
        while im < mb and onset[im] <= t:
            im += 1
        while ib < bb and onset[ib] <= t:
            ib += 1
        jm = _sounding(onset, end, end_max, ma, im, t)
        jb = _sounding(onset, end, end_max, ba, ib, t)
        if jm < 0 or jb < 0:
            continue
        m = pitch[jm]
        b = pitch[jb]
        if have_prev:
            if m == pm and b == pb:
                continue
            dm = m - pm
            db = b - pb
            if dm != 0 and db != 0 and (dm > 0) == (db > 0):
                i1 = (pm - pb) % 12
                i2 = (m - b) % 12
                if i1 == 7 and i2 == 7:
                    fifths += 1
                elif i1 == 0 and i2 == 0:
                    octaves += 1
        pm = m
        pb = b
        have_prev = True
    return fifths, octaves


@njit(cache=True)
def _candidate_violations(
    onset: np.ndarray,
    duration: np.ndarray,
    pitch: np.ndarray,
    track: np.ndarray,
    scale_mask: int,
    chord_starts: np.ndarray,
    chord_masks: np.ndarray,
    melody_low: int,
    melody_high: int,
    out: np.ndarray,
) -> None:
    """Write the :data:`VIOLATIONS` counts of one candidate into ``out`` (int64, length 7).

    ``onset``/``duration``/``pitch``/``track`` are int64 columns of one candidate in the order
    described in the module docstring.
    """
    n = onset.shape[0]
    out_of_key = 0
    for i in range(n):
        bit = np.int64(1) << (pitch[i] % 12)
        mask = scale_mask | chord_masks[_chord_index(chord_starts, onset[i])]
        if (mask & bit) == 0:
            out_of_key += 1

    ma, mb = _track_span(track, TRACK_MELODY)
    ba, bb = _track_span(track, TRACK_BASS)

    out_of_range = 0
    leaps = 0
    for i in range(ma, mb):
        if pitch[i] < melody_low or pitch[i] > melody_high:
            out_of_range += 1
        if i > ma and abs(pitch[i] - pitch[i - 1]) > 12:
            leaps += 1

    fifths, octaves = _parallels(onset, duration, pitch, ma, mb, ba, bb)

    out[V_OUT_OF_KEY] = out_of_key
    out[V_MELODY_RANGE] = out_of_range
    out[V_MELODY_OVERLAP] = _overlaps(onset, duration, ma, mb)
    out[V_BASS_OVERLAP] = _overlaps(onset, duration, ba, bb)
    out[V_PARALLEL_FIFTHS] = fifths
    out[V_PARALLEL_OCTAVES] = octaves
    out[V_LARGE_LEAPS] = leaps
