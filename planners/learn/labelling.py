"""Chord labelling: pitch weights over a time span -> the best chord template -> a state.

A *state* is a roman numeral in a key without inversion figures ("I", "ii", "V7", "viio7",
"V7/V", "bVII"): what a progression model needs. Labelling is template matching: each candidate
chord (12 roots x the templates below) scores the weight of its tones, minus the weight of the
other pitch classes, minus a penalty per missing tone (by which tone it is), plus a bonus when
the bass is its root and a small one for a common function in the key; sevenths must earn their
extra tone. Pure Python: the music21-facing
code that produces the weights lives in ``chorales.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from grammar.chords import QUALITIES, Chord, parse_chord, roman_numeral, triad_class
from grammar.keys import Key

# The qualities a chorale is labelled with, in the order they are tried (the first of two equal
# scores wins). Their intervals and suffixes are grammar.chords.QUALITIES'.
LABEL_QUALITIES = ("maj", "min", "dim", "aug", "7", "maj7", "m7", "m7b5", "dim7")
# quality -> (intervals above the root, lead-sheet suffix)
TEMPLATES: dict[str, tuple[tuple[int, ...], str]] = {
    q: (QUALITIES[q][1], QUALITIES[q][0]) for q in LABEL_QUALITIES
}
OTHER = 0.6  # weight of a non-chord tone against the chord
# Penalty for a chord tone absent from the span, by interval above the root: a missing root or
# third is strong evidence against a chord, a missing fifth is routine (it is the tone omitted).
MISSING = {0: 0.35, 3: 0.5, 4: 0.5, 6: 0.25, 7: 0.15, 8: 0.25}
BASS_ROOT = 0.3  # bonus when the lowest note is the root
SEVENTH_COST = 0.2  # a seventh chord must beat its triad by this much
RARE = {"aug": 0.15}  # qualities that need extra evidence
# Function in the key (root-position state -> bonus): with the pitches equally balanced between
# two readings, the common function wins, as it does for an analyst (C#-E in A major is I6).
FUNCTION_PRIOR = {
    "I": 0.1,
    "i": 0.1,
    "V": 0.1,
    "V7": 0.1,
    "IV": 0.06,
    "iv": 0.06,
    "ii": 0.04,
    "vi": 0.04,
    "VI": 0.04,
    "iio": 0.04,
    "viio": 0.03,
    "viio7": 0.03,
}
NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def best_chord(
    weights: Sequence[float], bass: int | None, key: Key | None = None
) -> tuple[int, str] | None:
    """(root pc, quality) of the template that best explains ``weights`` (12 pitch-class
    weights, e.g. durations in quarters), read in ``key`` if given; None for silence."""
    total = sum(weights)
    if total <= 0:
        return None
    w = [x / total for x in weights]
    best: tuple[float, int, str] | None = None
    for quality, (intervals, _) in TEMPLATES.items():
        for root in range(12):
            tones = {(root + i) % 12 for i in intervals}
            inside = sum(w[pc] for pc in tones)
            score = inside - OTHER * (1.0 - inside)
            for i in intervals:
                if w[(root + i) % 12] == 0:
                    score -= MISSING.get(i, 1.0)  # a missing seventh: not a seventh chord
            if bass is not None and bass == root:
                score += BASS_ROOT
            if len(intervals) == 4:
                score -= SEVENTH_COST
            score -= RARE.get(quality, 0.0)
            if key is not None:
                score += FUNCTION_PRIOR.get(state_of(root, quality, key), 0.0)
            if best is None or score > best[0] + 1e-12:
                best = (score, root, quality)
    assert best is not None
    return best[1], best[2]


def chord_of(root: int, quality: str) -> Chord:
    return parse_chord(NAMES[root] + TEMPLATES[quality][1])


@lru_cache(maxsize=8192)
def state_of(root: int, quality: str, key: Key) -> str:
    """The roman-numeral state of a chord in ``key`` (root position: no inversion figure)."""
    return roman_numeral(chord_of(root, quality), key)


def quality_class(quality: str) -> str:
    """major / minor / diminished / augmented: what two labellings must share to agree."""
    return triad_class(quality)
