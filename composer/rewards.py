"""Segment-level rewards: pure functions of a candidate's kernel features.

Each reward maps the feature dict of one candidate (names from :data:`kernels.features.FEATURES`)
and its section plan to a float in [0, 1], higher is better. The scorer combines them with
weights (:data:`WEIGHTS`); later issues add learned rewards beside these.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from planners.plan import SectionPlan
from planners.tonality import key_fit

Features = Mapping[str, float]
Reward = Callable[[Features, SectionPlan], float]


def _bump(x: float, lo: float, hi: float, width: float) -> float:
    """1 inside [lo, hi], falling off as exp(-distance / width) outside."""
    if lo <= x <= hi:
        return 1.0
    return math.exp(-(lo - x if x < lo else x - hi) / width)


def harmonic_fit(f: Features, s: SectionPlan) -> float:
    """Melody notes on chord tones, strong beats weighted more: 0.6*strong + 0.4*all. [0, 1]"""
    return 0.6 * f["strong_chord_tone_ratio"] + 0.4 * f["chord_tone_ratio"]


def melodic_shape(f: Features, s: SectionPlan) -> float:
    """Mostly steps, some leaps, little repetition of one pitch: mean |interval| in 1.5..3.5
    semitones scores 1; each 2 semitones outside costs a factor e; repeated notes past a third
    of all intervals cost up to half. [0, 1]"""
    shape = _bump(f["mean_abs_interval"], 1.5, 3.5, 2.0)
    return shape * (1.0 - 0.5 * max(0.0, f["repeat_ratio"] - 1 / 3) * 1.5)


def range_fit(f: Features, s: SectionPlan) -> float:
    """A section spanning a sixth to an octave and a fourth (9..17 semitones) scores 1. [0, 1]"""
    return _bump(f["pitch_range"], 9, 17, 4.0)


def rhythmic_coherence(f: Features, s: SectionPlan) -> float:
    """Bars that echo each other's rhythm (motifs), but not all the same: mean best Jaccard
    match of a bar's onsets with an earlier bar's in 0.4..0.85 scores 1. [0, 1]"""
    return _bump(f["bar_rhythm_repetition"], 0.4, 0.85, 0.25)


def contour(f: Features, s: SectionPlan) -> float:
    """Direction changes on 25%..60% of turns: neither a scale run nor a zig-zag. [0, 1]"""
    return _bump(f["contour_changes"], 0.25, 0.6, 0.2)


def cadence(f: Features, s: SectionPlan) -> float:
    """The last note: the tonic for authentic/plagal/deceptive closes, a chord tone (not the
    tonic) for a half cadence, held for at least a beat (480 ticks). [0, 1]"""
    held = min(1.0, f["last_duration"] / 480.0)
    if s.cadence in ("authentic", "plagal", "deceptive"):
        land = 0.7 * f["last_is_tonic"] + 0.3 * f["last_is_chord_tone"]
    elif s.cadence == "half":
        land = f["last_is_chord_tone"] * (1.0 - 0.5 * f["last_is_tonic"])
    else:
        land = f["last_is_chord_tone"]
    return 0.7 * land + 0.3 * held


def key_clarity(f: Features, s: SectionPlan) -> float:
    """How strongly the section's sound correlates with its planned key's profile:
    (r + 1) / 2 for the Pearson r of the pitch-class histogram with the Krumhansl-Kessler
    profile of the section's key. [0, 1]"""
    r, _ = key_fit(f, s.key_obj())
    return (r + 1.0) / 2.0


REWARDS: dict[str, Reward] = {
    "harmonic_fit": harmonic_fit,
    "melodic_shape": melodic_shape,
    "range_fit": range_fit,
    "rhythmic_coherence": rhythmic_coherence,
    "contour": contour,
    "cadence": cadence,
    "key_clarity": key_clarity,
}

# Harmony and cadence matter most to listeners of tonal music; shape and rhythm next.
WEIGHTS: dict[str, float] = {
    "harmonic_fit": 2.0,
    "melodic_shape": 1.5,
    "range_fit": 0.75,
    "rhythmic_coherence": 1.0,
    "contour": 0.75,
    "cadence": 1.5,
    "key_clarity": 1.0,
}


def score(f: Features, s: SectionPlan, weights: Mapping[str, float] = WEIGHTS) -> dict[str, float]:
    """Every reward, and ``total``: their weighted mean, in [0, 1]."""
    out = {name: float(fn(f, s)) for name, fn in REWARDS.items()}
    wsum = sum(weights.get(n, 0.0) for n in out)
    out["total"] = sum(weights.get(n, 0.0) * v for n, v in out.items()) / wsum if wsum else 0.0
    return out


def junction(prev_last: int | None, next_first: int | None) -> float:
    """How smoothly the melody crosses a section boundary: exp(-|interval| / 5). [0, 1]
    1 when there is nothing to join (the first section, or a silent melody)."""
    if prev_last is None or next_first is None:
        return 1.0
    return math.exp(-abs(next_first - prev_last) / 5.0)
