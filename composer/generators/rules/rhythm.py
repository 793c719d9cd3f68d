"""One-bar rhythm patterns for melodies, as data, by meter.

A pattern is a tuple of durations in eighth notes; a negative value is a rest. Patterns fill the
bar exactly. ``CADENTIAL`` patterns end a phrase on a long note. Meters without a table get
patterns built from their felt beats (:func:`beat_patterns`).
"""

from __future__ import annotations

import numpy as np

from grammar.meter import TimeSignature
from kernels.notes import TICKS_PER_BEAT

EIGHTH = TICKS_PER_BEAT // 2
Pattern = tuple[int, ...]

# keyed by (eighths per bar, compound)
MOTIFS: dict[tuple[int, bool], tuple[Pattern, ...]] = {
    (8, False): (
        (2, 2, 2, 2),
        (3, 1, 2, 2),
        (2, 1, 1, 2, 2),
        (4, 2, 2),
        (2, 2, 4),
        (1, 1, 2, 2, 2),
        (3, 1, 4),
        (-2, 2, 2, 2),
        (2, 2, 1, 1, 2),
        (3, 3, 2),
        (-1, 1, 2, 2, 2),
    ),
    (6, False): ((2, 2, 2), (4, 2), (3, 1, 2), (2, 1, 1, 2), (1, 1, 2, 2), (-2, 2, 2)),
    (6, True): ((3, 3), (2, 1, 3), (2, 1, 2, 1), (1, 1, 1, 3), (3, 2, 1), (-1, 2, 3)),
    (4, False): ((2, 2), (1, 1, 2), (3, 1), (1, 1, 1, 1), (-1, 1, 2)),
    (12, True): ((3, 3, 3, 3), (2, 1, 3, 2, 1, 3), (6, 3, 3), (3, 3, 6), (2, 1, 2, 1, 6)),
    (9, True): ((3, 3, 3), (2, 1, 3, 3), (6, 3), (2, 1, 2, 1, 3)),
}
CADENTIAL: dict[tuple[int, bool], tuple[Pattern, ...]] = {
    (8, False): ((8,), (4, 4), (2, 2, 4), (6, -2)),
    (6, False): ((6,), (2, 4), (4, -2)),
    (6, True): ((6,), (3, 3), (5, -1)),
    (4, False): ((4,), (2, 2)),
    (12, True): ((12,), (6, 6), (3, 3, 6)),
    (9, True): ((9,), (6, 3)),
}


# Phrase endings that run on: no long note, no rest, the last notes lead into the next phrase
# (a pickup). A phrase that ends with a breath sometimes runs on instead, as sung tunes do.
RUN_ON: dict[tuple[int, bool], tuple[Pattern, ...]] = {
    (8, False): ((2, 2, 2, 1, 1), (3, 1, 2, 1, 1), (2, 2, 3, 1), (2, 1, 1, 2, 2)),
    (6, False): ((2, 2, 1, 1), (2, 3, 1), (2, 2, 2)),
    (6, True): ((2, 1, 2, 1), (3, 2, 1), (1, 1, 1, 2, 1)),
    (4, False): ((2, 1, 1), (1, 1, 1, 1)),
    (12, True): ((3, 3, 2, 1, 2, 1), (3, 3, 3, 2, 1)),
    (9, True): ((3, 3, 2, 1), (3, 2, 1, 3)),
}


def run_on(meter: TimeSignature) -> tuple[Pattern, ...]:
    """Phrase-ending patterns with no long note and no rest (for meters without a table: the
    beats halved)."""
    k = (meter.bar_ticks // EIGHTH, meter.is_compound)
    if k in RUN_ON:
        return RUN_ON[k]
    motifs, _ = beat_patterns(meter)
    return (motifs[1],)


def in_idiom(options: tuple[Pattern, ...], durations: tuple[int, ...]) -> tuple[Pattern, ...]:
    """The patterns whose every note value (rests aside) is one the style's idiom uses; all of
    them if none is (an idiom written for another meter must not silence the tune)."""
    allowed = set(durations)
    kept = tuple(p for p in options if all(d * EIGHTH in allowed for d in p if d > 0))
    return kept or options


def syncopation(pattern: Pattern, beat_eighths: int) -> float:
    """Share of a pattern's notes that start off the felt beat."""
    onsets, t = [], 0
    for d in pattern:
        if d > 0:
            onsets.append(t)
        t += abs(d)
    return sum(o % beat_eighths != 0 for o in onsets) / max(1, len(onsets))


def pick_planned(
    options: tuple[Pattern, ...],
    rng: np.random.Generator,
    density: float,
    beats: int,
    beat_eighths: int,
    synco: float,
) -> Pattern:
    """A pattern drawn towards the plan's density (notes per felt beat) and the idiom's share
    of off-beat onsets; soft preferences, so every pattern stays possible."""
    w = np.array(
        [
            np.exp(-abs(sum(d > 0 for d in p) / beats - density) / 0.6)
            * np.exp(-abs(syncopation(p, beat_eighths) - synco) / 0.3)
            for p in options
        ]
    )
    return options[int(rng.choice(len(options), p=w / w.sum()))]


def beat_patterns(meter: TimeSignature) -> tuple[tuple[Pattern, ...], tuple[Pattern, ...]]:
    """Motif and cadential patterns for a meter with no table: each beat whole or halved."""
    beat = meter.beat_ticks // EIGHTH
    n = meter.bar_ticks // meter.beat_ticks
    plain = (beat,) * n
    halves = tuple(
        x for _ in range(n) for x in ((beat // 2, beat - beat // 2) if beat > 1 else (1,))
    )
    mixed = (beat // 2 or 1, beat - (beat // 2 or 1)) * 1 + (beat,) * (n - 1) if beat > 1 else plain
    total = meter.bar_ticks // EIGHTH
    return (plain, halves, mixed), ((total,), (beat,) * (n - 1) + (beat,))


def patterns(meter: TimeSignature) -> tuple[tuple[Pattern, ...], tuple[Pattern, ...]]:
    """(motif patterns, cadential patterns) for ``meter``."""
    if meter.bar_ticks % EIGHTH:
        raise ValueError(f"meter {meter} does not divide into eighth notes")
    k = (meter.bar_ticks // EIGHTH, meter.is_compound)
    if k in MOTIFS:
        return MOTIFS[k], CADENTIAL[k]
    return beat_patterns(meter)


def pick(options: tuple[Pattern, ...], rng: np.random.Generator, slow: bool) -> Pattern:
    """A pattern; at slow tempi busier patterns are likelier, at fast tempi plainer ones."""
    busy = np.array([len(p) for p in options], dtype=float)
    weights = busy if slow else 1.0 / busy
    return options[int(rng.choice(len(options), p=weights / weights.sum()))]


def to_ticks(pattern: Pattern, bar_start: int) -> list[tuple[int, int]]:
    """(onset, duration) of the notes of a pattern placed at ``bar_start``; rests dropped."""
    out, t = [], bar_start
    for d in pattern:
        if d > 0:
            out.append((t, d * EIGHTH))
        t += abs(d) * EIGHTH
    return out
