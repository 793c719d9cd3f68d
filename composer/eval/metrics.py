"""Evaluation metrics: pure functions over notes, each with its range and direction.

Public API (shared with other generators' evaluations; inputs are plain arrays):

=======================  ===============================================  ========================
metric                   definition                                       range, direction
=======================  ===============================================  ========================
pitch_class_entropy      Shannon entropy (bits) of the pitch-class        0..log2(12); compare with
                         histogram of note counts                         the corpus (``reference``)
scale_consistency        max over the 24 major / natural-minor scales of  0..1, higher = more tonal
                         the share of notes in the scale
in_key_rate              share of notes in the scale of the planned key   0..1, higher = better
                         at their onset
groove_consistency       1 - mean Hamming distance between consecutive    0..1, higher = steadier
                         bars' onset grids (16 slots a bar), / 16
chord_tone_ratio         share of melody notes whose pitch class is in    0..1, higher = better
                         the planned chord at their onset
empty_beat_rate          share of beats in which no melody note sounds    0..1, lower = fewer holes
interval_overlap         sum of min of the melody's interval histogram    0..1, higher = closer to
                         (-12..12 semitones, wider clipped) and the       the corpus
                         corpus's
rhythm_overlap           the same for melody durations in beat classes    0..1, higher = closer
structure                mean melody similarity (interval-trigram         -1..1, higher = clearer
                         Jaccard) of same-label section pairs minus that  form
                         of different-label pairs
=======================  ===============================================  ========================

The corpus reference (interval and rhythm histograms, pitch-class entropy of held-out pieces)
ships as ``composer/eval/data/eval_reference.json``, built by ``python -m
composer.training.eval_reference`` from the *test* split (:func:`corpus_split`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from composer.search.similarity import motif_set, motif_similarity

# the one held-out split and tune-naming rule (re-exported: ``metrics.corpus_split``)
from planners.learn.corpus import corpus_split as corpus_split
from planners.learn.corpus import tune_path as tune_path

REFERENCE_PATH = Path(__file__).resolve().parent / "data" / "eval_reference.json"
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
INTERVAL_BINS = 25  # -12 .. 12 semitones, wider intervals clipped to the end bins
# Duration classes in beats (a quarter = 1): each duration goes to the nearest class (log scale).
RHYTHM_CLASSES = (0.25, 1 / 3, 0.5, 2 / 3, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)
GROOVE_SLOTS = 16


def _mask(scale: Sequence[int], tonic: int) -> np.ndarray:
    m = np.zeros(12, dtype=bool)
    m[[(tonic + d) % 12 for d in scale]] = True
    return m


def pitch_class_entropy(pitches: np.ndarray) -> float:
    """Entropy in bits of the pitch-class histogram of note counts; 0 for no notes."""
    if len(pitches) == 0:
        return 0.0
    counts = np.bincount(np.asarray(pitches, dtype=np.int64) % 12, minlength=12)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def scale_consistency(pitches: np.ndarray) -> float:
    """Max over the 24 major and natural-minor scales of the share of notes in it; 0 if none."""
    if len(pitches) == 0:
        return 0.0
    pcs = np.asarray(pitches, dtype=np.int64) % 12
    return float(max(_mask(s, t)[pcs].mean() for s in (MAJOR, MINOR) for t in range(12)))


def in_key_rate(
    pitches: np.ndarray, onsets: np.ndarray, keys: Sequence[tuple[int, int, str]]
) -> float:
    """Share of notes in the scale of the key at their onset. ``keys``: (start tick, tonic pc,
    "major"/"minor") sorted by start; a note before the first start takes the first key. 0 if
    there are no notes."""
    if len(pitches) == 0:
        return 0.0
    starts = np.array([k[0] for k in keys])
    idx = np.maximum(np.searchsorted(starts, np.asarray(onsets), side="right") - 1, 0)
    masks = np.array([_mask(MAJOR if m == "major" else MINOR, t) for _, t, m in keys])
    pcs = np.asarray(pitches, dtype=np.int64) % 12
    return float(masks[idx, pcs].mean())


def groove_consistency(onsets: np.ndarray, bar_ticks: int, length_ticks: int) -> float:
    """1 - mean over consecutive bars of the Hamming distance of their onset grids / 16 (onset
    offset within the bar quantised to 16 slots); 1 with fewer than two bars."""
    bars = max(1, -(-length_ticks // bar_ticks))
    if bars < 2:
        return 1.0
    grid = np.zeros((bars, GROOVE_SLOTS), dtype=bool)
    on = np.asarray(onsets, dtype=np.int64)
    slot = np.minimum((on % bar_ticks) * GROOVE_SLOTS // bar_ticks, GROOVE_SLOTS - 1)
    grid[np.minimum(on // bar_ticks, bars - 1), slot] = True
    return float(1.0 - (grid[1:] != grid[:-1]).sum(axis=1).mean() / GROOVE_SLOTS)


def chord_tone_ratio(
    pitches: np.ndarray, onsets: np.ndarray, chords: Sequence[tuple[int, int, int]]
) -> float:
    """Share of (melody) notes whose pitch class is in the chord sounding at their onset.
    ``chords``: (start tick, end tick, 12-bit pitch-class mask) spans; a note outside every
    span counts as not a chord tone. 0 if there are no notes."""
    if len(pitches) == 0:
        return 0.0
    hits = 0
    for p, t in zip(np.asarray(pitches), np.asarray(onsets), strict=True):
        for start, end, mask in chords:
            if start <= t < end:
                hits += bool((mask >> (int(p) % 12)) & 1)
                break
    return hits / len(pitches)


def empty_beat_rate(
    onsets: np.ndarray, durations: np.ndarray, beat_ticks: int, length_ticks: int
) -> float:
    """Share of beats ``[k * beat, (k + 1) * beat)`` in which no note sounds; 0 for no beats."""
    beats = -(-length_ticks // beat_ticks)
    if beats <= 0:
        return 0.0
    sounding = np.zeros(beats + 1, dtype=np.int64)
    on = np.asarray(onsets, dtype=np.int64)
    end = on + np.asarray(durations, dtype=np.int64)
    first = on // beat_ticks
    last = (end - 1) // beat_ticks
    np.add.at(sounding, np.clip(first, 0, beats), 1)
    np.add.at(sounding, np.clip(last + 1, 0, beats), -1)
    return float((np.cumsum(sounding)[:beats] == 0).mean())


def interval_histogram(pitches: np.ndarray) -> np.ndarray:
    """Shares of melodic intervals -12..12 (clipped), 25 bins summing to 1 (zeros if < 2
    notes). Pitches in time order."""
    iv = np.clip(np.diff(np.asarray(pitches, dtype=np.int64)), -12, 12) + 12
    h = np.bincount(iv, minlength=INTERVAL_BINS).astype(np.float64)
    return h / h.sum() if h.sum() else h


def rhythm_histogram(durations: np.ndarray, beat_ticks: int) -> np.ndarray:
    """Shares of note durations by the nearest class of :data:`RHYTHM_CLASSES` (in beats, on
    a log scale), summing to 1 (zeros if there are no notes)."""
    d = np.asarray(durations, dtype=np.float64) / beat_ticks
    h = np.zeros(len(RHYTHM_CLASSES))
    if d.size:
        cls = np.abs(np.log(d[:, None]) - np.log(np.array(RHYTHM_CLASSES))[None, :]).argmin(1)
        h = np.bincount(cls, minlength=len(RHYTHM_CLASSES)).astype(np.float64)
        h /= h.sum()
    return h


def overlap(p: np.ndarray, q: np.ndarray) -> float:
    """Histogram intersection, sum of min(p, q), of two distributions. [0, 1]"""
    return float(np.minimum(np.asarray(p), np.asarray(q)).sum())


def structure(sections: Sequence[tuple[str, np.ndarray]]) -> float | None:
    """Mean interval-trigram similarity of same-label section melodies minus that of
    different-label pairs; ``sections``: (label, melody pitches in time order). None without
    both kinds of pair. [-1, 1], higher = repeats recognisable and contrasts distinct."""
    sets = [(label, motif_set(np.asarray(p, dtype=np.int64))) for label, p in sections]
    same: list[float] = []
    diff: list[float] = []
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            sim = motif_similarity(sets[i][1], sets[j][1])
            (same if sets[i][0] == sets[j][0] else diff).append(sim)
    if not same or not diff:
        return None
    return float(np.mean(same) - np.mean(diff))


@lru_cache(maxsize=1)
def reference() -> dict:
    """The shipped corpus reference: {'interval': [25], 'rhythm': [10], 'pitch_class_entropy',
    'pieces', ...}."""
    return json.loads(REFERENCE_PATH.read_text(encoding="utf-8"))


def melody_metrics(
    pitches: np.ndarray, durations: np.ndarray, beat_ticks: int, ref: dict | None = None
) -> dict[str, float]:
    """The corpus-relative metrics of one melody (pitches and durations in time order):
    interval_overlap, rhythm_overlap, and pitch_class_entropy with its distance from the
    corpus's (``entropy_gap``, >= 0, lower = closer)."""
    ref = ref if ref is not None else reference()
    ent = pitch_class_entropy(pitches)
    return {
        "interval_overlap": overlap(interval_histogram(pitches), np.array(ref["interval"])),
        "rhythm_overlap": overlap(rhythm_histogram(durations, beat_ticks), np.array(ref["rhythm"])),
        "pitch_class_entropy": ent,
        "entropy_gap": abs(ent - float(ref["pitch_class_entropy"])),
    }
