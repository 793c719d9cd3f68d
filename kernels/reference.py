"""Plain-Python reference implementations of the kernels, for ONE candidate (tests only).

Written straight from the definitions in :mod:`kernels.checker` and :mod:`kernels.features`
with Python lists and loops, sharing no code with the njit kernels (only
:meth:`SectionArrays.chord_index_at`). Slow by design; never used on the hot path.
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np

from kernels.checker import VIOLATIONS
from kernels.context import SectionArrays
from kernels.features import FEATURES
from kernels.notes import TRACK_BASS, TRACK_CHORDS, TRACK_MELODY
from kernels.reference_shape import more_features
from kernels.reference_voices import more_violations, voice_pair_counts

Note = tuple[int, int, int]  # (onset, duration, pitch)


def _track(notes: np.ndarray, track: int) -> list[Note]:
    """The notes of one track as (onset, duration, pitch), sorted by onset, pitch, duration."""
    rows = [
        (int(n["onset"]), int(n["duration"]), int(n["pitch"]))
        for n in notes
        if int(n["track"]) == track
    ]
    return sorted(rows, key=lambda r: (r[0], r[2], r[1]))


def _in_mask(mask: int, pitch: int) -> bool:
    return (int(mask) >> (pitch % 12)) & 1 == 1


def _chord_mask_at(arrays: SectionArrays, tick: int) -> int:
    return int(arrays.chord_masks[arrays.chord_index_at(tick)])


def _count_overlaps(track: list[Note]) -> int:
    return sum(1 for prev, cur in pairwise(track) if cur[0] < prev[0] + prev[1])


def reference_violations(notes: np.ndarray, arrays: SectionArrays) -> dict[str, int]:
    """The :data:`kernels.checker.VIOLATIONS` counts of one candidate, in plain Python."""
    melody = _track(notes, TRACK_MELODY)
    bass = _track(notes, TRACK_BASS)
    out_of_key = 0
    for n in notes:
        pitch, onset = int(n["pitch"]), int(n["onset"])
        if not _in_mask(arrays.scale_mask, pitch) and not _in_mask(
            _chord_mask_at(arrays, onset), pitch
        ):
            out_of_key += 1
    pairs = voice_pair_counts(notes, arrays)
    fifths = sum(c["parallel_fifths"] for c in pairs.values())
    octaves = sum(c["parallel_octaves"] for c in pairs.values())
    result = {
        "out_of_key": out_of_key,
        "melody_range": sum(
            1 for _, _, p in melody if p < arrays.melody_low or p > arrays.melody_high
        ),
        "melody_overlap": _count_overlaps(melody),
        "bass_overlap": _count_overlaps(bass),
        "parallel_fifths": fifths,
        "parallel_octaves": octaves,
        "large_leaps": sum(1 for a, b in pairwise(melody) if abs(b[2] - a[2]) > 12),
        **more_violations(notes, arrays),
    }
    assert tuple(result) == VIOLATIONS
    return result


def _rest_ratio(melody: list[Note], length: int) -> float:
    """Fraction of [0, length) not covered, by elementary segments between note boundaries."""
    points = {0, length}
    for on, d, _ in melody:
        points.add(min(max(on, 0), length))
        points.add(min(max(on + d, 0), length))
    bounds = sorted(points)
    silent = 0
    for lo, hi in pairwise(bounds):
        if not any(on <= lo < on + d for on, d, _ in melody):
            silent += hi - lo
    return silent / length


def _bar_rhythm_repetition(melody: list[Note], arrays: SectionArrays) -> float:
    bar = int(arrays.bar_ticks)
    n_bars = math.ceil(int(arrays.length_ticks) / bar)
    if n_bars < 2:
        return 0.0
    sets: list[set[int]] = [set() for _ in range(n_bars)]
    for on, _, _ in melody:
        k = min(on // bar, n_bars - 1)
        sets[k].add(on - k * bar)

    def jaccard(a: set[int], b: set[int]) -> float:
        union = a | b
        return len(a & b) / len(union) if union else 0.0

    best = [max(jaccard(sets[k], sets[p]) for p in range(k)) for k in range(1, n_bars)]
    return sum(best) / len(best)


def reference_features(
    notes: np.ndarray,
    arrays: SectionArrays,
    reference: np.ndarray | None = None,
    previous: np.ndarray | None = None,
    previous_length: int | None = None,
) -> dict[str, float]:
    """The :data:`kernels.features.FEATURES` of one candidate, in plain Python (the optional
    segments as in :func:`kernels.batch.check_batch`)."""
    melody = _track(notes, TRACK_MELODY)
    accomp = _track(notes, TRACK_CHORDS) + _track(notes, TRACK_BASS)
    bass = _track(notes, TRACK_BASS)
    length = int(arrays.length_ticks)
    n = len(melody)
    pitches = [p for _, _, p in melody]
    intervals = [b - a for a, b in pairwise(pitches)]

    f: dict[str, float] = dict.fromkeys(FEATURES, 0.0)
    sounding = melody + accomp
    sounding_ticks = sum(d for _, d, _ in sounding)
    for _, d, p in sounding:
        f[f"pc_{p % 12}"] += d / sounding_ticks
    f["melody_notes"] = float(n)
    f["melody_density"] = n / (length / int(arrays.bar_ticks))
    if n:
        f["chord_tone_ratio"] = (
            sum(_in_mask(_chord_mask_at(arrays, on), p) for on, _, p in melody) / n
        )
    strong = [(on, p) for on, _, p in melody if on % int(arrays.bar_ticks) in arrays.strong_offsets]
    if strong:
        f["strong_chord_tone_ratio"] = sum(
            _in_mask(_chord_mask_at(arrays, on), p) for on, p in strong
        ) / len(strong)
    if intervals:
        k = len(intervals)
        f["step_ratio"] = sum(1 for i in intervals if abs(i) in (1, 2)) / k
        f["repeat_ratio"] = sum(1 for i in intervals if i == 0) / k
        f["leap_ratio"] = sum(1 for i in intervals if abs(i) >= 5) / k
        f["mean_abs_interval"] = sum(abs(i) for i in intervals) / k
    if n:
        f["pitch_range"] = float(max(pitches) - min(pitches))
        f["mean_pitch"] = sum(pitches) / n
    f["duration_variety"] = float(len({d for _, d, _ in melody}))
    f["rest_ratio"] = _rest_ratio(melody, length)

    accomp_total = sum(d for _, d, _ in accomp)
    accomp_ct = sum(d for on, d, p in accomp if _in_mask(_chord_mask_at(arrays, on), p))
    f["accomp_chord_tone_ratio"] = accomp_ct / accomp_total if accomp_total else 1.0

    f["first_pitch"] = float(melody[0][2]) if melody else -1.0
    f["last_pitch"] = float(melody[-1][2]) if melody else -1.0
    if melody:
        _, last_d, last_p = melody[-1]
        f["last_duration"] = float(last_d)
        f["last_is_tonic"] = 1.0 if last_p % 12 == arrays.tonic else 0.0
        f["last_is_chord_tone"] = 1.0 if _in_mask(arrays.chord_masks[-1], last_p) else 0.0
        f["syncopation"] = sum(1 for on, _, _ in melody if on % arrays.beat_ticks != 0) / n

        weights = [0.0] * 12
        for _, d, p in melody:
            weights[p % 12] += d
        total = sum(weights)
        f["pc_entropy"] = -sum((w / total) * math.log2(w / total) for w in weights if w > 0)

    signs = [1 if i > 0 else -1 for i in intervals if i != 0]
    if len(signs) >= 2:
        f["contour_changes"] = sum(1 for a, b in pairwise(signs) if a != b) / (len(signs) - 1)
    f["bar_rhythm_repetition"] = _bar_rhythm_repetition(melody, arrays)
    if bass:
        f["bass_root_ratio"] = sum(
            1 for on, _, p in bass if p % 12 == int(arrays.chord_roots[arrays.chord_index_at(on)])
        ) / len(bass)
    else:
        f["bass_root_ratio"] = 1.0
    f |= more_features(notes, arrays, reference, previous, previous_length)
    assert tuple(f) == FEATURES
    return f
