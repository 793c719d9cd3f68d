"""Plain-Python reference of the features after ``pc_11`` (tests only).

Written from the :mod:`kernels.features` table with lists, sets and loops; shares no code with
the njit kernels (:mod:`kernels.melodic`, :mod:`kernels.rhythm`, :mod:`kernels.repetition`).
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np

from kernels.context import SectionArrays
from kernels.notes import TRACK_BASS, TRACK_CHORDS, TRACK_MELODY
from kernels.reference_voices import Note, track_rows


def _jaccard(a: set, b: set) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def _bar_of(onset: int, arrays: SectionArrays) -> int:
    return min(onset // int(arrays.bar_ticks), arrays.n_bars - 1)


def _bar_sets(melody: list[Note], arrays: SectionArrays) -> list[set[tuple[int, int]]]:
    """Per bar, the set of (offset within the bar, pitch) of its melody notes."""
    sets: list[set[tuple[int, int]]] = [set() for _ in range(arrays.n_bars)]
    for on, _, p in melody:
        k = _bar_of(on, arrays)
        sets[k].add((on - k * int(arrays.bar_ticks), p))
    return sets


def _melodic(melody: list[Note], arrays: SectionArrays) -> dict[str, float]:
    f: dict[str, float] = {}
    intervals = [b[2] - a[2] for a, b in pairwise(melody)]
    for k in range(13):
        hits = sum(1 for i in intervals if (abs(i) == k if k < 12 else abs(i) >= 12))
        f[f"iv_{k}"] = hits / len(intervals) if intervals else 0.0
    bar, beat = int(arrays.bar_ticks), int(arrays.beat_ticks)
    strong = {int(s) for s in arrays.strong_offsets}

    def ct_ratio(group: list[Note]) -> float:
        if not group:
            return 0.0
        masks = [int(arrays.chord_masks[arrays.chord_index_at(on)]) for on, _, _ in group]
        return sum((m >> (p % 12)) & 1 for m, (_, _, p) in zip(masks, group, strict=True)) / len(
            group
        )

    weak = [n for n in melody if n[0] % beat == 0 and n[0] % bar not in strong]
    f["weak_beat_chord_tones"] = ct_ratio(weak)
    f["offbeat_chord_tones"] = ct_ratio([n for n in melody if n[0] % beat != 0])
    nonzero = [i for i in intervals if i != 0]
    f["contour_up_ratio"] = sum(1 for i in nonzero if i > 0) / len(nonzero) if nonzero else 0.0
    f["net_motion"] = float(melody[-1][2] - melody[0][2]) if melody else 0.0
    if melody:
        top = max(p for _, _, p in melody)
        f["peak_position"] = min(on for on, _, p in melody if p == top) / arrays.length_ticks
    else:
        f["peak_position"] = 0.0
    low, high = int(arrays.melody_low), int(arrays.melody_high)
    centre, half = (low + high) / 2, (high - low) / 2
    weight = sum(d for _, d, _ in melody)
    if weight:
        dev = sum(d * abs(p - centre) / max(half, 1.0) for _, d, p in melody)
        f["tessitura_deviation"] = dev / weight
        f["tessitura_outer_ratio"] = (
            sum(d for _, d, p in melody if abs(p - centre) > half / 2) / weight
        )
    else:
        f["tessitura_deviation"] = f["tessitura_outer_ratio"] = 0.0
    return f


def _rhythm(notes: np.ndarray, melody: list[Note], arrays: SectionArrays) -> dict[str, float]:
    f: dict[str, float] = {}
    bar, beat, n_bars = int(arrays.bar_ticks), int(arrays.beat_ticks), arrays.n_bars
    across = [on for on, d, _ in melody if on % beat and on + d > (on // beat + 1) * beat]
    f["sync_across_beat"] = len(across) / len(melody) if melody else 0.0
    ensemble = [n for t in (TRACK_MELODY, TRACK_CHORDS, TRACK_BASS) for n in track_rows(notes, t)]
    f["note_density"] = len(ensemble) / (arrays.length_ticks / bar)
    counts = [0] * n_bars
    for on, _, _ in melody:
        counts[_bar_of(on, arrays)] += 1
    mean = sum(counts) / n_bars
    f["bar_notes_std"] = math.sqrt(sum((c - mean) ** 2 for c in counts) / n_bars)
    f["bar_notes_min"] = float(min(counts))
    f["bar_notes_max"] = float(max(counts))
    grooves: list[set[int]] = [set() for _ in range(n_bars)]
    for on, _, _ in ensemble:
        k = _bar_of(on, arrays)
        grooves[k].add(on - k * bar)
    sims = [1.0 if not a and not b else _jaccard(a, b) for a, b in pairwise(grooves)]
    f["groove_consistency"] = sum(sims) / len(sims) if sims else 1.0
    return f


def _repetition(
    melody: list[Note],
    arrays: SectionArrays,
    reference: np.ndarray | None,
    previous: np.ndarray | None,
    previous_length: int | None,
) -> dict[str, float]:
    f: dict[str, float] = {}
    sets = _bar_sets(melody, arrays)
    best = [max(_jaccard(sets[k], sets[p]) for p in range(k)) for k in range(1, len(sets))]
    f["bar_pitch_repetition"] = sum(best) / len(best) if best else 0.0
    for name in ("has_reference", "ref_onset_similarity", "ref_note_similarity", "ref_bar_match"):
        f[name] = 0.0
    if reference is not None:
        ref = track_rows(reference, TRACK_MELODY)
        f["has_reference"] = 1.0
        f["ref_onset_similarity"] = _jaccard({n[0] for n in melody}, {n[0] for n in ref})
        f["ref_note_similarity"] = _jaccard(
            {(n[0], n[2]) for n in melody}, {(n[0], n[2]) for n in ref}
        )
        ref_sets = _bar_sets(ref, arrays)
        f["ref_bar_match"] = sum(a == b for a, b in zip(sets, ref_sets, strict=True)) / len(sets)
    names = ("interval", "abs_interval", "gap_beats", "bass_interval", "rhythm_match")
    f["has_previous"] = 0.0
    for name in names:
        f[f"boundary_{name}"] = 0.0
    if previous is None or previous_length is None:
        return f
    f["has_previous"] = 1.0
    prev = track_rows(previous, TRACK_MELODY)
    if prev and melody:
        last_on, last_d, last_p = prev[-1]
        f["boundary_interval"] = float(melody[0][2] - last_p)
        f["boundary_abs_interval"] = float(abs(melody[0][2] - last_p))
        gap = previous_length - (last_on + last_d) + melody[0][0]
        f["boundary_gap_beats"] = gap / int(arrays.beat_ticks)
    return f


def more_features(
    notes: np.ndarray,
    arrays: SectionArrays,
    reference: np.ndarray | None = None,
    previous: np.ndarray | None = None,
    previous_length: int | None = None,
) -> dict[str, float]:
    """The features after ``pc_11``, by name, in FEATURES order."""
    melody = track_rows(notes, TRACK_MELODY)
    f = _melodic(melody, arrays)
    f |= _rhythm(notes, melody, arrays)
    f |= _repetition(melody, arrays, reference, previous, previous_length)
    if previous is not None and previous_length is not None:
        prev_bass = track_rows(previous, TRACK_BASS)
        bass = track_rows(notes, TRACK_BASS)
        if prev_bass and bass:
            f["boundary_bass_interval"] = float(bass[0][2] - prev_bass[-1][2])
        bar = int(arrays.bar_ticks)
        prev_melody = track_rows(previous, TRACK_MELODY)
        tail = {
            on - (previous_length - bar) for on, _, _ in prev_melody if on >= previous_length - bar
        }
        head = {on for on, _, _ in melody if on < bar}
        f["boundary_rhythm_match"] = _jaccard(tail, head)
    return f
