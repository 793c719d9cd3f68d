"""Bach chorales from music21's corpus as beats of pitch-class weights, labelled with chords.

Each chorale becomes a list of :class:`Beat` (one per metric beat: pitch-class weights over the
beat, the bass at its start, the soprano) and a local key per beat: the chorale's global key,
or for a phrase (fermata to fermata) a closely related key when the Krumhansl-Schmuckler
correlation clearly prefers it. Labels come from :mod:`planners.learn.labelling`. This module
is the only one that touches music21 objects (imported lazily: a build-time dependency).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from grammar.keys import Key, parse_key
from planners.learn.labelling import best_chord, state_of
from planners.tonality import correlations

ATTACK = 1.5  # weight of a note sounding at the beat's start, against one that enters later
LOCAL_MARGIN = 0.1  # how much better a related key must correlate to replace the global key


@dataclass(frozen=True)
class Beat:
    measure: int
    beat: float  # 1-based, music21's numbering (pickup bars start mid-bar)
    onset: float  # quarters from the start
    length: float
    weights: tuple[float, ...]  # 12 pitch-class weights
    bass: int | None  # pitch class of the lowest note sounding at the beat's start
    soprano: int | None  # MIDI pitch of the top voice at the beat's start
    bar_position: int  # 0-based beat index within a full bar


@dataclass(frozen=True)
class Piece:
    name: str
    key: Key
    beats_per_bar: int
    beats: tuple[Beat, ...]
    local_keys: tuple[Key, ...]  # one per beat

    def label(self, i: int) -> tuple[int, str] | None:
        b = self.beats[i]
        return best_chord(b.weights, b.bass, self.local_keys[i])

    def states(self) -> list[str | None]:
        out: list[str | None] = []
        for i, k in enumerate(self.local_keys):
            chord = self.label(i)
            out.append(None if chord is None else state_of(chord[0], chord[1], k))
        return out


def _m21_key(k: Any) -> Key:
    name = k.tonic.name.replace("-", "b")
    return parse_key(f"{name} {k.mode}")


def related(key: Key) -> list[Key]:
    """The global key first, then its closely related keys (the modulations chorales make)."""
    out = [key, key.dominant(), key.subdominant(), key.relative()]
    out += [key.relative().dominant(), key.relative().subdominant()]
    seen: list[Key] = []
    for k in out:
        if k not in seen:
            seen.append(k)
    return seen


def load(score: Any, name: str) -> Piece | None:
    """A music21 chorale score as a Piece; None if it is not a four-part chorale in one meter."""
    from music21 import expressions, meter, note

    parts = list(score.parts)
    if len(parts) != 4:
        return None
    sigs = list(score.recurse().getElementsByClass(meter.TimeSignature))
    if not sigs or any(s.ratioString != sigs[0].ratioString for s in sigs):
        return None
    beat_len = float(sigs[0].beatDuration.quarterLength)
    beats_per_bar = int(sigs[0].beatCount)
    score = score.stripTies()
    voices: list[list[tuple[float, float, int]]] = []
    fermatas: list[float] = []
    for v, part in enumerate(score.parts):
        events = []
        for n in part.flatten().notes:
            if n.duration.isGrace:
                continue
            pitches = n.pitches if not isinstance(n, note.Note) else (n.pitch,)
            start = float(n.offset)
            for p in pitches:
                events.append((start, float(n.quarterLength), int(p.midi)))
            if v == 0 and any(isinstance(e, expressions.Fermata) for e in n.expressions):
                fermatas.append(start + float(n.quarterLength))
        voices.append(sorted(events))
    beats = []
    for m in score.parts[0].getElementsByClass("Measure"):
        start, pad = float(m.offset), float(m.paddingLeft)
        k = 0
        while k * beat_len < float(m.duration.quarterLength) - 1e-9:
            t = start + k * beat_len
            beats.append(
                _beat(
                    voices,
                    m.number,
                    1 + (pad + k * beat_len) / beat_len,
                    t,
                    beat_len,
                    round((pad + k * beat_len) / beat_len) % beats_per_bar,
                )
            )
            k += 1
    global_key = _m21_key(score.analyze("key"))
    return Piece(
        name,
        global_key,
        beats_per_bar,
        tuple(beats),
        tuple(_local_keys(beats, fermatas, global_key)),
    )


def _beat(
    voices: list[list[tuple[float, float, int]]],
    measure: int,
    beat: float,
    t: float,
    length: float,
    position: int,
) -> Beat:
    w = [0.0] * 12
    bass = soprano = None
    for v, events in enumerate(voices):
        for on, dur, pitch in events:
            end = on + dur
            if end <= t or on >= t + length:
                continue
            overlap = min(end, t + length) - max(on, t)
            at_start = on <= t + 1e-9
            w[pitch % 12] += overlap * (ATTACK if at_start else 1.0)
            if at_start and v == 3:
                bass = pitch % 12
            if at_start and v == 0:
                soprano = pitch
    return Beat(measure, beat, t, length, tuple(w), bass, soprano, position)


def _local_keys(beats: list[Beat], fermatas: list[float], key: Key) -> list[Key]:
    """Per beat: its phrase's key (fermata to fermata): the related key whose Krumhansl-Kessler
    profile correlates best with the phrase, if it beats the global key by LOCAL_MARGIN.
    (Measured against the 20 hand analyses: 74% of beats in the analyst's key, against 62% for
    the global key alone, 68% for "the key of the phrase's closing cadence" and 70-73% for
    sliding windows; see planners/learn/validate.py.)"""
    bounds = sorted(set(fermatas))
    phrase_of = [sum(1 for f in bounds if f <= b.onset + 1e-9) for b in beats]
    options = related(key)
    keys: list[Key] = []
    for phrase in sorted(set(phrase_of)):
        idx = [i for i, p in enumerate(phrase_of) if p == phrase]
        r = correlations(np.sum([beats[i].weights for i in idx], axis=0))
        score = {k: r[0 if k.mode == "major" else 1, k.tonic] for k in options}
        best = max(options, key=lambda k: score[k])
        keys.extend([best if score[best] > score[key] + LOCAL_MARGIN else key] * len(idx))
    return keys


def slots(piece: Piece) -> list[tuple[str, list[str], list[int]]]:
    """The progression at the planner's harmonic rhythm, as runs in one local key each:
    (mode of that key, states, positions in the bar). One state per half-bar in meters with an
    even number of beats (positions 0 and 1), one per bar otherwise (position 0): the chord
    sounding on the slot's first beat. A run in a major key feeds the major model even when
    the chorale is in minor: states are numerals of the local key."""
    per_slot = piece.beats_per_bar // 2 if piece.beats_per_bar % 2 == 0 else piece.beats_per_bar
    runs: list[tuple[str, list[str], list[int]]] = []
    current: Key | None = None
    for b, label, key in zip(piece.beats, piece.states(), piece.local_keys, strict=True):
        if b.bar_position % per_slot != 0 or label is None:
            continue
        if key != current:
            runs.append((key.mode, [], []))
            current = key
        runs[-1][1].append(label)
        runs[-1][2].append(b.bar_position // per_slot)
    return runs


def by_mode(pieces: list[Piece], mode: str) -> list[tuple[list[str], list[int]]]:
    """Every run in a ``mode`` key, from all ``pieces``."""
    return [(s, p) for piece in pieces for m, s, p in slots(piece) if m == mode and len(s) > 1]


def iter_chorales(limit: int | None = None) -> list[Piece]:
    """Every four-part chorale of music21's corpus in corpus order (the build's input)."""
    from music21.corpus import chorales

    out = []
    for i, score in enumerate(chorales.Iterator(returnType="stream")):
        if limit is not None and i >= limit:
            break
        piece = load(score, f"chorale{i:03d}")
        if piece is not None:
            out.append(piece)
    return out
