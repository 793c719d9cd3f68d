"""Preference pairs for the reward model: (preferred, other), each side a checked segment.

Kinds (each held out separately on the test split):

- ``pitch_shuffle``: a real segment over its melody with the same notes in shuffled order.
- ``rhythm_jitter``: over its melody with onsets moved off the grid (by a 32nd to an eighth).
- ``wrong_chord``: over its melody transposed by 1-4 or 6 semitones against unchanged chords.
- ``broken_repetition``: as a literal repeat of itself, over a copy whose bars are half replaced
  by other bars of the same piece (each still real music: only the repetition is broken).
- ``rule_ranked``: two candidates of the rules generator for one planned section, the one with
  the higher rule-reward total preferred (margin >= :data:`RULE_MARGIN`), so the model also
  learns the rules' finer preferences among fluent candidates.

All randomness comes from the ``rng`` passed in, so the same seed gives the same pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer.reward_model import model_inputs
from composer.training.reward_corpus import RealSegment
from kernels.batch import check_batch
from kernels.context import SectionArrays
from kernels.notes import sort_notes

KINDS = ("pitch_shuffle", "rhythm_jitter", "wrong_chord", "broken_repetition", "rule_ranked")
RULE_MARGIN = 0.03  # rule-total difference below which two candidates are not ranked
JITTER = (-240, -120, -60, 60, 120, 240)  # ticks: an eighth, a 16th, a 32nd either way
WRONG = (-6, -4, -3, -2, -1, 1, 2, 3, 4, 6)  # semitones; fifths and fourths are near keys


@dataclass(frozen=True)
class Pairs:
    kind: str
    split: str
    better: np.ndarray  # model inputs (n, len(INPUTS)) of the preferred sides
    worse: np.ndarray


def _melody_rows(notes: np.ndarray) -> np.ndarray:
    idx = np.flatnonzero(notes["track"] == 0)
    return idx[np.lexsort((notes["pitch"][idx], notes["onset"][idx]))]


def pitch_shuffle(notes: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """The melody's pitches permuted over its rhythm; None if every permutation is the same."""
    out = notes.copy()
    idx = _melody_rows(notes)
    pitches = notes["pitch"][idx]
    if np.unique(pitches).size < 2:
        return None
    for _ in range(10):
        perm = rng.permutation(pitches)
        if not np.array_equal(perm, pitches):
            out["pitch"][idx] = perm
            return sort_notes(out)
    return None


def rhythm_jitter(notes: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """Every melody onset moved by a random :data:`JITTER` (kept in order and in the section);
    each note then lasts until the next one starts (at least a 64th)."""
    out = notes.copy()
    idx = _melody_rows(notes)
    on = np.clip(notes["onset"][idx] + rng.choice(JITTER, idx.size), 0, length - 30)
    on = np.maximum.accumulate(np.sort(on))
    nxt = np.append(on[1:], length)
    out["onset"][idx] = on
    out["duration"][idx] = np.maximum(30, np.minimum(nxt - on, length - on))
    out["onset"][idx] = np.minimum(on, length - out["duration"][idx])
    return sort_notes(out)


def wrong_chord(notes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The melody transposed by a random :data:`WRONG` interval over the unchanged chords."""
    out = notes.copy()
    mel = out["track"] == 0
    out["pitch"][mel] += int(rng.choice(WRONG))
    return sort_notes(out)


def broken_repetition(
    notes: np.ndarray, donor: np.ndarray, bar_ticks: int, bars: int, rng: np.random.Generator
) -> np.ndarray:
    """``notes`` with half its bars (at random) replaced by the same bars of ``donor``."""
    swap = rng.choice(bars, size=max(1, bars // 2), replace=False)
    keep = ~np.isin(notes["onset"] // bar_ticks, swap)
    take = np.isin(donor["onset"] // bar_ticks, swap)
    return sort_notes(np.concatenate([notes[keep], donor[take]]))


def _inputs(
    notes: list[np.ndarray], arrays: SectionArrays, reference: np.ndarray | None
) -> np.ndarray:
    result = check_batch(notes, arrays, reference=reference)
    return model_inputs(result.features, arrays.tonic)


def corpus_pairs(
    segments: list[RealSegment], rng: np.random.Generator, draws: int = 3
) -> list[Pairs]:
    """The four real-vs-corrupted kinds, per split, from real segments (corpus order):
    ``draws`` corruptions of each kind per segment."""
    rows: dict[tuple[str, str], tuple[list[np.ndarray], list[np.ndarray]]] = {}

    def add(kind: str, split: str, pair: np.ndarray) -> None:
        b, w = rows.setdefault((kind, split), ([], []))
        b.append(pair[0])
        w.append(pair[1])

    by_piece: dict[str, list[RealSegment]] = {}
    for s in segments:
        by_piece.setdefault(s.name.split("@")[0], []).append(s)
    for s in segments:
        a = s.arrays
        length = int(a.length_ticks)
        donors = [d for d in by_piece[s.name.split("@")[0]] if d is not s]
        for _ in range(draws):
            shuffled = pitch_shuffle(s.notes, rng)
            if shuffled is not None:
                add("pitch_shuffle", s.split, _inputs([s.notes, shuffled], a, None))
            jittered = rhythm_jitter(s.notes, length, rng)
            add("rhythm_jitter", s.split, _inputs([s.notes, jittered], a, None))
            add("wrong_chord", s.split, _inputs([s.notes, wrong_chord(s.notes, rng)], a, None))
            if donors:
                donor = donors[int(rng.integers(len(donors)))].notes
                bars = length // int(a.bar_ticks)
                broken = broken_repetition(s.notes, donor, int(a.bar_ticks), bars, rng)
                add("broken_repetition", s.split, _inputs([s.notes, broken], a, s.notes))
    return [
        Pairs(kind, split, np.array(b), np.array(w))
        for (kind, split), (b, w) in sorted(rows.items())
    ]


def ranked_pairs(
    inputs: np.ndarray, totals: np.ndarray, rng: np.random.Generator, per_section: int = 24
) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``per_section`` pairs (better, worse) of one section's candidates whose rule
    totals differ by at least RULE_MARGIN, drawn at random without repetition."""
    n = len(totals)
    cand = [
        (i, j)
        for i in range(n)
        for j in range(i + 1, n)
        if abs(totals[i] - totals[j]) >= RULE_MARGIN
    ]
    if not cand:
        width = inputs.shape[1]
        return np.zeros((0, width)), np.zeros((0, width))
    pick = rng.permutation(len(cand))[:per_section]
    better, worse = [], []
    for k in pick:
        i, j = cand[k]
        hi, lo = (i, j) if totals[i] > totals[j] else (j, i)
        better.append(inputs[hi])
        worse.append(inputs[lo])
    return np.array(better), np.array(worse)
