"""Plain-Python reference of the voice-leading and newer violation counts (tests only).

Written from the definitions in the :mod:`kernels.checker` docstring with lists, sets and
loops; shares no code with the njit kernels. :func:`voice_pair_counts` is the per-pair table of
``BatchResult.voice_pairs``; :func:`more_violations` the columns after large_leaps.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise

import numpy as np

from kernels.context import SectionArrays
from kernels.notes import TRACK_BASS, TRACK_CHORDS, TRACK_MELODY
from kernels.voiceleading import VOICE_PAIR_COUNTS

Note = tuple[int, int, int]  # (onset, duration, pitch)


def track_rows(notes: np.ndarray, track: int) -> list[Note]:
    """The notes of one track as (onset, duration, pitch), sorted by onset, pitch, duration."""
    rows = [
        (int(n["onset"]), int(n["duration"]), int(n["pitch"]))
        for n in notes
        if int(n["track"]) == track
    ]
    return sorted(rows, key=lambda r: (r[0], r[2], r[1]))


def sounding_pitch(track: list[Note], t: int) -> int | None:
    """Pitch of the latest-onset note sounding at ``t`` (ties: highest pitch), or None."""
    sounding = [(on, p) for on, d, p in track if on <= t < on + d]
    return max(sounding)[1] if sounding else None


def moments(upper: list[Note], lower: list[Note]) -> list[tuple[int, int]]:
    """The pair's voice-leading moments: (upper pitch, lower pitch), duplicates dropped."""
    times = sorted({n[0] for n in upper} | {n[0] for n in lower})
    pairs: list[tuple[int, int]] = []
    for t in times:
        u = sounding_pitch(upper, t)
        lo = sounding_pitch(lower, t)
        if u is None or lo is None:
            continue
        if pairs and pairs[-1] == (u, lo):
            continue
        pairs.append((u, lo))
    return pairs


def pair_counts(upper: list[Note], lower: list[Note]) -> dict[str, int]:
    """The :data:`VOICE_PAIR_COUNTS` of one voice pair."""
    counts = dict.fromkeys(VOICE_PAIR_COUNTS, 0)
    seq = moments(upper, lower)
    for u, lo in seq:
        counts["crossings"] += u < lo
        counts["wide_spacings"] += u - lo > 12
    for (u1, l1), (u2, l2) in pairwise(seq):
        if u1 == u2 or l1 == l2 or (u2 > u1) != (l2 > l1):
            continue
        i1, i2 = abs(u1 - l1) % 12, abs(u2 - l2) % 12
        if i2 == 7:
            counts["parallel_fifths" if i1 == 7 else "direct_fifths"] += 1
        if i2 == 0:
            counts["parallel_octaves" if i1 == 0 else "direct_octaves"] += 1
    return counts


def voice_pair_counts(notes: np.ndarray, arrays: SectionArrays) -> dict[tuple[int, int], dict]:
    """``(upper track, lower track) -> counts`` for every pair of ``arrays.voices``."""
    voices = [int(v) for v in arrays.voices]
    rows = {v: track_rows(notes, v) for v in voices}
    return {
        (voices[i], voices[j]): pair_counts(rows[voices[i]], rows[voices[j]])
        for i in range(len(voices))
        for j in range(i + 1, len(voices))
    }


def _accompaniment(notes: np.ndarray) -> tuple[int, int]:
    """(accomp_crossing, accomp_spacing)."""
    chords = track_rows(notes, TRACK_CHORDS)
    melody = track_rows(notes, TRACK_MELODY)
    bass = track_rows(notes, TRACK_BASS)
    crossing = 0
    for on, _, p in chords:
        m = sounding_pitch(melody, on)
        b = sounding_pitch(bass, on)
        if (m is not None and p > m) or (b is not None and p < b):
            crossing += 1
    spacing = 0
    for t in sorted({on for on, _, _ in chords}):
        sounding = sorted(p for on, d, p in chords if on <= t < on + d)
        spacing += sum(1 for a, b in pairwise(sounding) if b - a > 12)
    return crossing, spacing


def _unresolved(melody: list[Note]) -> int:
    intervals = [b[2] - a[2] for a, b in pairwise(melody)]
    count = 0
    for d, nxt in pairwise(intervals):
        if abs(d) >= 8 and not (1 <= abs(nxt) <= 2 and (nxt > 0) != (d > 0)):
            count += 1
    return count


def _tessitura(melody: list[Note], low: int, high: int) -> int:
    """1 if the duration-weighted mean pitch is beyond 3/4 of the half-range (exact)."""
    if not melody:
        return 0
    mean = Fraction(sum(d * p for _, d, p in melody), sum(d for _, d, _ in melody))
    return (
        1 if abs(mean - Fraction(low + high, 2)) > Fraction(3, 4) * Fraction(high - low, 2) else 0
    )


def _empty_bars(notes: np.ndarray, arrays: SectionArrays) -> int:
    length, bar = int(arrays.length_ticks), int(arrays.bar_ticks)
    empty = 0
    for k in range(arrays.n_bars):
        lo, hi = k * bar, min((k + 1) * bar, length)
        if not any(
            int(n["onset"]) < hi and int(n["onset"]) + int(n["duration"]) > lo for n in notes
        ):
            empty += 1
    return empty


def more_violations(notes: np.ndarray, arrays: SectionArrays) -> dict[str, int]:
    """The violation counts after large_leaps, in VIOLATIONS order (parallels: see
    :func:`voice_pair_counts`, summed by :func:`kernels.reference.reference_violations`)."""
    pairs = voice_pair_counts(notes, arrays)
    voices = [int(v) for v in arrays.voices]
    neighbours = [(voices[i], voices[i + 1]) for i in range(len(voices) - 1)]
    melody = track_rows(notes, TRACK_MELODY)
    crossing, spacing = _accompaniment(notes)
    bar = int(arrays.bar_ticks)
    strong = {int(s) for s in arrays.strong_offsets}
    strong_nonchord = sum(
        1
        for on, _, p in melody
        if on % bar in strong
        and not (int(arrays.chord_masks[arrays.chord_index_at(on)]) >> (p % 12)) & 1
    )
    low, high = list(arrays.track_low), list(arrays.track_high)
    instrument = sum(
        1
        for n in notes
        if int(n["track"]) < len(low)
        and not low[int(n["track"])] <= int(n["pitch"]) <= high[int(n["track"])]
    )
    return {
        "direct_fifths": sum(c["direct_fifths"] for c in pairs.values()),
        "direct_octaves": sum(c["direct_octaves"] for c in pairs.values()),
        "voice_crossing": sum(pairs[p]["crossings"] for p in neighbours),
        "voice_spacing": sum(pairs[p]["wide_spacings"] for p in neighbours[:-1]),
        "accomp_crossing": crossing,
        "accomp_spacing": spacing,
        "strong_nonchord": strong_nonchord,
        "unresolved_leaps": _unresolved(melody),
        "tessitura": _tessitura(melody, int(arrays.melody_low), int(arrays.melody_high)),
        "instrument_range": instrument,
        "empty_bars": _empty_bars(notes, arrays),
        "voice_overlap": sum(
            1
            for v in voices
            if v not in (TRACK_MELODY, TRACK_BASS)
            for prev, cur in pairwise(track_rows(notes, v))
            if cur[0] < prev[0] + prev[1]
        ),
    }
