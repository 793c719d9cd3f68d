"""Benchmark check_batch on random eight-bar 4/4 candidates; prints one JSON object.

    python benchmarks/bench_kernels.py [--candidates N] [--seed S]

Each candidate: 64 melody eighth notes (8 per bar, a random walk in C major, 60..84), one
four-note chord per bar (whole notes) and four bass quarter notes per bar, over an
I-vi-IV-V progression. Reports:

* ``first_call_s``: the first ``check_batch`` over all N (JIT compile or on-disk cache load),
* ``warm_s``: the best of 3 further calls over all N,
* ``reference_s_per_candidate``: the plain-Python reference (violations + features) over a
  200-candidate subsample, per candidate,
* ``speedup_vs_reference``: ``reference_s_per_candidate * N / warm_s``,
* ``music21_s_per_candidate``: :func:`music21_check`, an object-based checker of the same 19
  violation rules written with music21 (Notes in Parts, ``getElementsByOffset``,
  ``Interval``, ``VoiceLeadingQuartet`` via tests/chorales.py), over a subsample, per candidate,
  EXCLUDING the time to build the music21 streams (reported apart); it computes no features,
  so ``speedup_vs_music21 = music21_s_per_candidate * N / warm_s`` undercounts the kernel's
  lead (the kernel's time includes all features),
* ``section_under_1s``: whether the warm pass over all N took under a second.

``first_call_s`` is the JIT cost when the on-disk cache is cold (``--cold`` clears it first)
and the cache-load cost otherwise; ``cache`` says which. ``cached_first_call_s`` is measured
in a fresh subprocess after this run has filled the cache: the first call of a new process
that finds the kernels cached (import + cache load + one small batch).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import itertools

import numba
from music21 import interval, note, stream

from kernels.batch import check_batch
from kernels.checker import VIOLATIONS
from kernels.context import SectionArrays
from kernels.notes import NOTE_DTYPE, TRACK_BASS, TRACK_CHORDS, TRACK_MELODY
from kernels.reference import reference_features, reference_violations
from tests.chorales import music21_moments, music21_pair_counts, music21_voice

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


def to_music21(cand: np.ndarray) -> list[stream.Part]:
    """One music21 Part per track 0..2, Notes at their offsets in quarter lengths."""
    parts = [stream.Part() for _ in range(3)]
    for row in cand:
        n = note.Note(int(row["pitch"]))
        n.duration.quarterLength = int(row["duration"]) / 480
        parts[int(row["track"])].insert(int(row["onset"]) / 480, n)
    return parts


def _sounding(part: stream.Stream, offset: float | Fraction) -> note.Note | None:
    found = part.getElementsByOffset(
        offset, mustBeginInSpan=False, includeElementsThatEndAtStart=False
    )
    notes = [n for n in found if n.offset <= offset < n.offset + n.quarterLength]
    return max(notes, key=lambda n: (n.offset, n.pitch.ps), default=None)


def music21_check(parts: list[stream.Part], arrays: SectionArrays) -> dict[str, int]:
    """The VIOLATIONS counts of one candidate, computed on music21 objects."""
    melody, chords, bass = (music21_voice(p) for p in parts)
    v = dict.fromkeys(VIOLATIONS, 0)
    bar_ql = arrays.bar_ticks / 480
    strong = {s / 480 for s in arrays.strong_offsets}
    lows, highs = list(arrays.track_low), list(arrays.track_high)

    def chord_mask(offset: float | Fraction) -> int:
        return int(arrays.chord_masks[arrays.chord_index_at(round(offset * 480))])

    covered: set[int] = set()
    for track, part in enumerate((melody, chords, bass)):
        for n in part.getElementsByClass(note.Note):
            pc = n.pitch.pitchClass
            if not ((arrays.scale_mask | chord_mask(n.offset)) >> pc) & 1:
                v["out_of_key"] += 1
            if not lows[track] <= n.pitch.midi <= highs[track]:
                v["instrument_range"] += 1
            end = min(n.offset + n.quarterLength, arrays.length_ticks / 480)
            covered.update(range(int(n.offset // bar_ql), int(-(-end // bar_ql))))
    v["empty_bars"] = arrays.n_bars - len(covered)
    mel = list(melody.getElementsByClass(note.Note))
    for k, n in enumerate(mel):
        if not arrays.melody_low <= n.pitch.midi <= arrays.melody_high:
            v["melody_range"] += 1
        if n.offset % bar_ql in strong and not (chord_mask(n.offset) >> n.pitch.pitchClass) & 1:
            v["strong_nonchord"] += 1
        if k and n.offset < mel[k - 1].offset + mel[k - 1].quarterLength:
            v["melody_overlap"] += 1
    steps = [interval.Interval(a, b).semitones for a, b in itertools.pairwise(mel)]
    v["large_leaps"] = sum(1 for d in steps if abs(d) > 12)
    v["unresolved_leaps"] = sum(
        1
        for d, e in itertools.pairwise(steps)
        if abs(d) >= 8 and not (1 <= abs(e) <= 2 and (e > 0) != (d > 0))
    )
    bas = list(bass.getElementsByClass(note.Note))
    v["bass_overlap"] = sum(
        1 for a, b in itertools.pairwise(bas) if b.offset < a.offset + a.quarterLength
    )
    pair = music21_pair_counts(melody, bass)
    for key in ("parallel_fifths", "parallel_octaves", "direct_fifths", "direct_octaves"):
        v[key] = pair[key]
    for t in sorted({n.offset for n in chords.notes}):
        m, b = _sounding(melody, t), _sounding(bass, t)
        for n in chords.getElementsByOffset(t):
            if (m is not None and n.pitch.ps > m.pitch.ps) or (
                b is not None and n.pitch.ps < b.pitch.ps
            ):
                v["accomp_crossing"] += 1
        found = chords.getElementsByOffset(
            t, mustBeginInSpan=False, includeElementsThatEndAtStart=False
        )
        ps = sorted(n.pitch.ps for n in found)
        v["accomp_spacing"] += sum(1 for a, b in itertools.pairwise(ps) if b - a > 12)
    if mel:
        weight = sum(n.quarterLength for n in mel)
        mean = sum(n.quarterLength * n.pitch.midi for n in mel) / weight
        centre, half = (
            (arrays.melody_low + arrays.melody_high) / 2,
            (arrays.melody_high - arrays.melody_low) / 2,
        )
        v["tessitura"] = int(abs(mean - centre) > 0.75 * half)
    # voice_crossing / voice_spacing: with the default voices (melody, bass) the crossing of
    # the one pair; spacing has no pair to check
    v["voice_crossing"] = sum(
        1 for u, lo in music21_moments(melody, bass) if u.pitch.ps < lo.pitch.ps
    )
    return v


def _clear_cache() -> None:
    """Delete the kernels' numba cache files, so the next call compiles (a cold start)."""
    for path in (Path(__file__).resolve().parents[1] / "kernels" / "__pycache__").glob("*.nb[ic]"):
        path.unlink()


def _cached_first_call() -> float:
    """Seconds of the first check_batch call (100 candidates: the parallel kernel) in a fresh
    process."""
    cmd = [sys.executable, __file__, "--candidates", "100", "--first-call-only"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--music21-sample", type=int, default=40)
    parser.add_argument("--reference-sample", type=int, default=200)
    parser.add_argument("--cold", action="store_true", help="clear the numba cache first")
    parser.add_argument("--first-call-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    arrays = section()
    cands = candidates(args.candidates, args.seed)
    if args.first_call_only:  # the subprocess of _cached_first_call
        start = time.perf_counter()
        check_batch(cands, arrays)
        print(time.perf_counter() - start)
        return
    if args.cold:
        _clear_cache()

    start = time.perf_counter()
    result = check_batch(cands, arrays)
    first_call = time.perf_counter() - start

    warm = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        check_batch(cands, arrays)
        warm = min(warm, time.perf_counter() - start)

    sample = cands[: args.reference_sample]
    start = time.perf_counter()
    for cand in sample:
        reference_violations(cand, arrays)
        reference_features(cand, arrays)
    ref_per_candidate = (time.perf_counter() - start) / max(len(sample), 1)

    m21_sample = cands[: args.music21_sample]
    start = time.perf_counter()
    built = [to_music21(c) for c in m21_sample]
    build_per_candidate = (time.perf_counter() - start) / max(len(m21_sample), 1)
    start = time.perf_counter()
    m21 = [music21_check(parts, arrays) for parts in built]
    m21_per_candidate = (time.perf_counter() - start) / max(len(m21_sample), 1)
    agree = sum(m21[i] == result.violation_dict(i) for i in range(len(m21_sample)))

    cached_first_call = _cached_first_call()
    n_notes = sum(int(c.size) for c in cands)
    print(
        json.dumps(
            {
                "candidates": len(cands),
                "notes": n_notes,
                "bars_per_candidate": BARS,
                "violations": len(VIOLATIONS),
                "features": int(result.features.shape[1]),
                "cache": "cold (compiled)" if args.cold else "warm on-disk cache (loaded)",
                "first_call_s": round(first_call, 3),
                "cached_first_call_s": round(cached_first_call, 3),
                "warm_s": round(warm, 5),
                "section_under_1s": warm < 1.0,
                "notes_per_s": round(n_notes / warm),
                "candidates_per_s": round(len(cands) / warm),
                "reference_sample": len(sample),
                "reference_s_per_candidate": round(ref_per_candidate, 6),
                "speedup_vs_reference": round(ref_per_candidate * len(cands) / warm, 1),
                "music21_sample": len(m21_sample),
                "music21_build_s_per_candidate": round(build_per_candidate, 6),
                "music21_s_per_candidate": round(m21_per_candidate, 6),
                "music21_extrapolated_s": round(m21_per_candidate * len(cands), 1),
                "speedup_vs_music21": round(m21_per_candidate * len(cands) / warm, 1),
                "music21_note": (
                    "music21 checker: the 19 violation rules only (no features; voice_spacing and "
                    "voice_overlap are 0 with the default two voices), stream "
                    "building excluded, timed on the first music21_sample candidates and "
                    "extrapolated linearly to all candidates"
                ),
                "music21_agrees_with_kernel": f"{agree}/{len(m21_sample)}",
                "threads": numba.get_num_threads(),
            }
        )
    )


if __name__ == "__main__":
    main()
