"""Corpus pieces -> training sections: windows of bars, key-relative, with role and source.

A piece is cut into consecutive windows of 4 to 16 bars (lengths drawn per piece from
:data:`LENGTHS` by a generator seeded with the piece's path, so the cut is reproducible),
like the sections the planner makes. The first window is the ``open`` role, the last
``close``, the rest ``inner``. A window whose melody repeats an earlier window of the piece
closely enough (:data:`VARY_AT` of its notes the same, at the same place in the bar) gets that
window as its source: ``repeat`` from :data:`REPEAT_AT`, else ``vary``; this is how the model
learns to vary material it is given. Pitches are moved so the tonic is C, in the octave that
keeps the melody nearest :data:`CENTRE`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np

from composer.generators.transformer.tokens import (
    CENTRE,
    RES,
    Section,
    bar_positions,
    default_phrases,
    energy_of,
)
from composer.training.melody_data import Example
from composer.training.melody_labels import neutral
from grammar.meter import parse_time_signature

LENGTHS = (4, 8, 8, 8, 12, 16)  # the planner's sections: mostly 8 bars, 4 for intros, 12 blues
VARY_AT, REPEAT_AT = 0.4, 0.9

Notes = tuple[tuple[int, int, int], ...]


def transposition(ex: Example) -> int:
    """Semitones that move the piece's tonic to C, in the octave nearest :data:`CENTRE`."""
    pitches = [p for bar in ex.bars for _, _, p in bar]
    mean = float(np.mean(pitches)) if pitches else 60.0
    base = -ex.tonic
    return min((base + 12 * k for k in range(-2, 3)), key=lambda s: abs(mean + s - CENTRE))


def piece_notes(ex: Example) -> tuple[list[Notes], int]:
    """The melody per bar in 16ths from the bar start, key-relative; and positions per bar."""
    per_bar = bar_positions(parse_time_signature(ex.meter))
    shift = transposition(ex)
    bars: list[Notes] = []
    for bar in ex.bars:
        notes: dict[int, tuple[int, int, int]] = {}
        for on, dur, p in bar:
            o = round(on * RES)
            if o >= per_bar or o in notes:
                continue  # a triplet rounded onto its neighbour: keep the first
            d = max(1, min(round(dur * RES), per_bar - o))
            notes[o] = (o, d, p + shift)
        ordered = sorted(notes.values())
        # monophony on the grid: a note ends where the next begins
        fixed = [
            (o, min(d, ordered[i + 1][0] - o) if i + 1 < len(ordered) else d, p)
            for i, (o, d, p) in enumerate(ordered)
        ]
        bars.append(tuple(fixed))
    return bars, per_bar


def _similarity(a: list[Notes], b: list[Notes]) -> float:
    """Share of the notes of ``a`` found at the same bar-relative onset and pitch in ``b``."""
    total = sum(len(x) for x in a)
    if total == 0:
        return 0.0
    same = sum(
        len({(o, p) for o, _, p in x} & {(o, p) for o, _, p in y})
        for x, y in zip(a, b, strict=False)
    )
    return same / total


def _lengths(path: str, bars: int) -> list[int]:
    rng = np.random.default_rng(int.from_bytes(hashlib.sha1(path.encode()).digest()[:4], "big"))
    out: list[int] = []
    while sum(out) < bars:
        out.append(int(rng.choice(LENGTHS)))
    if out and sum(out) > bars:  # the last window takes what is left, if it is a phrase
        out[-1] -= sum(out) - bars
        if out[-1] < 2:
            out.pop()
    return out


def sections(ex: Example, style: str = "none", tempo: str = "medium") -> Iterator[Section]:
    """The training sections of one piece, in order, labelled ``style`` and ``tempo`` (the
    piece's, :func:`composer.training.melody_labels.piece_label`; a fixed share of the sections
    ``Style_none``), their energy from their own density and four-bar phrases
    (:func:`composer.generators.transformer.tokens.default_phrases`)."""
    bars, per_bar = piece_notes(ex)
    lengths = _lengths(ex.path, len(bars))
    starts = [sum(lengths[:i]) for i in range(len(lengths))]
    for w, (start, n) in enumerate(zip(starts, lengths, strict=True)):
        mine = bars[start : start + n]
        if any(not b for b in mine):
            continue  # a window with a silent bar: the generator must never write one
        role = "open" if w == 0 else "close" if w == len(lengths) - 1 else "inner"
        best, source = 0.0, None
        for s in starts[:w]:
            other = bars[s : s + n]
            if len(other) == n:
                sim = _similarity(mine, other)
                if sim > best:
                    best, source = sim, other
        material = "repeat" if best >= REPEAT_AT else "vary" if best >= VARY_AT else "new"
        beats = n * max(1, len(ex.chords[start]) if start < len(ex.chords) else 1)
        yield Section(
            mode=ex.mode,
            meter=ex.meter,
            role=role,
            bars=n,
            chords=ex.chords[start : start + n],
            notes=_flatten(mine, per_bar),
            source=_flatten(source, per_bar) if material != "new" and source else None,
            material=material,
            style="none" if neutral(ex.path, w) else style,
            tempo=tempo,
            energy=energy_of(sum(len(b) for b in mine) / beats),
            phrases=default_phrases(n),
        )


def _flatten(bars: list[Notes], per_bar: int) -> Notes:
    return tuple((b * per_bar + o, d, p) for b, bar in enumerate(bars) for o, d, p in bar)
