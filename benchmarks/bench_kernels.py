"""Benchmark check_batch on random eight-bar 4/4 candidates; prints one JSON object.

    python benchmarks/bench_kernels.py [--candidates N] [--seed S]

Each candidate: 64 melody eighth notes (8 per bar, a random walk in C major, 60..84), one
four-note chord per bar (whole notes) and four bass quarter notes per bar, over an
I-vi-IV-V progression. Reports:

* ``first_call_s``: the first ``check_batch`` over all N (JIT compile or on-disk cache load),
* ``warm_s``: the best of 3 further calls over all N,
* ``reference_s_per_candidate``: the plain-Python reference (violations + features) over a
  200-candidate subsample, per candidate,
* ``speedup_vs_reference``: ``reference_s_per_candidate * N / warm_s``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numba

from kernels.batch import check_batch
from kernels.context import SectionArrays
from kernels.notes import NOTE_DTYPE, TRACK_BASS, TRACK_CHORDS, TRACK_MELODY
from kernels.reference import reference_features, reference_violations

BARS = 8
BAR = 1920
LENGTH = BARS * BAR
C_MAJOR_PCS = np.array([0, 2, 4, 5, 7, 9, 11])
# I vi IV V (as root pc, chord pcs) repeated
PROGRESSION = [(0, (0, 4, 7, 11)), (9, (9, 0, 4, 7)), (5, (5, 9, 0, 4)), (7, (7, 11, 2, 5))]
MELODY_PER_BAR, CHORD_PER_BAR, BASS_PER_BAR = 8, 4, 4
PER_CANDIDATE = BARS * (MELODY_PER_BAR + CHORD_PER_BAR + BASS_PER_BAR)


def section() -> SectionArrays:
    """Eight bars of 4/4 in C major, one chord per bar."""
    chords = [PROGRESSION[b % 4] for b in range(BARS)]
    return SectionArrays(
        length_ticks=LENGTH,
        bar_ticks=BAR,
        beat_ticks=480,
        strong_offsets=np.array([0, 960]),
        scale_mask=int(sum(1 << int(pc) for pc in C_MAJOR_PCS)),
        tonic=0,
        chord_starts=np.arange(BARS) * BAR,
        chord_ends=(np.arange(BARS) + 1) * BAR,
        chord_masks=np.array([sum(1 << pc for pc in pcs) for _, pcs in chords]),
        chord_roots=np.array([root for root, _ in chords]),
        melody_low=60,
        melody_high=84,
    )


def candidates(n: int, seed: int) -> list[np.ndarray]:
    """``n`` random candidates of PER_CANDIDATE notes each (rows grouped by track)."""
    rng = np.random.default_rng(seed)
    notes = np.zeros((n, PER_CANDIDATE), dtype=NOTE_DTYPE)
    notes["velocity"] = 80

    m = BARS * MELODY_PER_BAR  # melody: eighth notes, random walk on C major degrees
    walk = 7 + np.cumsum(rng.integers(-3, 4, size=(n, m)), axis=1)
    degrees = np.abs(walk % 28 - 14)  # a triangle-wave reflection into degrees 0..14
    octave, step = np.divmod(degrees, 7)
    melody = notes[:, :m]
    melody["onset"] = np.arange(m) * (BAR // MELODY_PER_BAR)
    melody["duration"] = rng.choice([120, 240, 240, 240], size=(n, m))
    melody["pitch"] = 60 + 12 * octave + C_MAJOR_PCS[step]  # C4 .. C6
    melody["track"] = TRACK_MELODY

    chords = notes[:, m : m + BARS * CHORD_PER_BAR].reshape(n, BARS, CHORD_PER_BAR)
    bass = notes[:, m + BARS * CHORD_PER_BAR :].reshape(n, BARS, BASS_PER_BAR)
    for b in range(BARS):
        root, pcs = PROGRESSION[b % 4]
        chords[:, b]["onset"] = b * BAR
        chords[:, b]["duration"] = BAR
        chords[:, b]["pitch"] = 48 + np.array(pcs) + rng.integers(0, 2, (n, CHORD_PER_BAR)) * 12
        chords[:, b]["track"] = TRACK_CHORDS
        bass[:, b]["onset"] = b * BAR + np.arange(BASS_PER_BAR) * (BAR // BASS_PER_BAR)
        bass[:, b]["duration"] = BAR // BASS_PER_BAR
        bass[:, b]["pitch"] = 36 + np.where(
            rng.random((n, BASS_PER_BAR)) < 0.7, root, (root + 7) % 12
        )
        bass[:, b]["track"] = TRACK_BASS
    return list(notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    arrays = section()
    cands = candidates(args.candidates, args.seed)

    start = time.perf_counter()
    check_batch(cands, arrays)
    first_call = time.perf_counter() - start

    warm = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        check_batch(cands, arrays)
        warm = min(warm, time.perf_counter() - start)

    sample = cands[:200]
    start = time.perf_counter()
    for cand in sample:
        reference_violations(cand, arrays)
        reference_features(cand, arrays)
    ref_per_candidate = (time.perf_counter() - start) / max(len(sample), 1)

    n_notes = sum(int(c.size) for c in cands)
    print(
        json.dumps(
            {
                "candidates": len(cands),
                "notes": n_notes,
                "first_call_s": round(first_call, 4),
                "warm_s": round(warm, 5),
                "notes_per_s": round(n_notes / warm),
                "reference_s_per_candidate": round(ref_per_candidate, 6),
                "speedup_vs_reference": round(ref_per_candidate * len(cands) / warm, 1),
                "threads": numba.get_num_threads(),
            }
        )
    )


if __name__ == "__main__":
    main()
