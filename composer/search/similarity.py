"""Melody similarity for the form and novelty rewards and for de-duplicating candidates.

A melody's *motifs* are its interval trigrams: every three consecutive intervals of the melody
(track 0, notes in (onset, pitch) order), each clipped to -12..12, coded as one integer. The set
is invariant under transposition and time shift, so a theme heard again in another key or
another bar is recognised. Similarities are Jaccard indices of these sets.
"""

from __future__ import annotations

import numpy as np

from kernels.notes import TRACK_MELODY

MOTIF_LENGTH = 3  # intervals per motif: four notes, the span of a short figure


def melody(notes: np.ndarray) -> np.ndarray:
    """The melody's pitches in (onset, pitch) order, as int64."""
    m = notes[notes["track"] == TRACK_MELODY]
    order = np.lexsort((m["pitch"], m["onset"]))
    return m["pitch"][order].astype(np.int64)


def motif_set(pitches: np.ndarray) -> np.ndarray:
    """Sorted unique codes of the interval trigrams of a pitch sequence (empty if fewer than
    four notes)."""
    iv = np.clip(np.diff(pitches), -12, 12) + 12  # 0..24
    if iv.size < MOTIF_LENGTH:
        return np.zeros(0, dtype=np.int64)
    code = iv[:-2] * 625 + iv[1:-1] * 25 + iv[2:]
    return np.unique(code)


def motif_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard index of two motif sets; 0 if both are empty. [0, 1]"""
    union = np.union1d(a, b).size
    if union == 0:
        return 0.0
    return np.intersect1d(a, b, assume_unique=True).size / union


def contour_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Share of equal interval directions (up, down, same) between two pitch sequences, aligned
    from the start over the shorter one's intervals; 0 if either has fewer than 2 notes. [0, 1]"""
    da, db = np.sign(np.diff(a)), np.sign(np.diff(b))
    n = min(da.size, db.size)
    if n == 0:
        return 0.0
    return float(np.mean(da[:n] == db[:n]))
