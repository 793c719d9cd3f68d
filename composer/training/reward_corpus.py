"""Real music for the reward model: Bach chorales from music21's corpus as 4-bar segments.

Each chorale (``bach/*.mxl``, four parts, one meter) is cut at its downbeats into windows of
:data:`SEGMENT_BARS` bars. A window becomes what the kernels check for a generated section: a
NoteArray (soprano = melody, track 0; alto and tenor = the chords track, 1; bass = track 2),
and a :class:`kernels.context.SectionArrays` whose chord timeline is the chorale's own harmony,
one chord per beat labelled by :mod:`planners.learn.labelling` in the phrase's local key
(:mod:`planners.learn.chorales`). Pieces are split by :func:`planners.learn.corpus.corpus_split`
on their corpus path. music21 is imported lazily: a build-time dependency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kernels.context import SectionArrays
from kernels.notes import NOTE_DTYPE, TICKS_PER_BEAT, sort_notes
from planners.learn.chorales import load
from planners.learn.corpus import chorale_paths, corpus_split
from planners.learn.labelling import TEMPLATES

SEGMENT_BARS = 4
MIN_MELODY_NOTES = 8
TRACK_OF_VOICE = (0, 1, 1, 2)  # soprano, alto, tenor, bass
SOPRANO_RANGE = (55, 84)  # the melody range the kernels check segments against


@dataclass(frozen=True)
class RealSegment:
    name: str  # corpus path and window, "bach/bwv66.6.mxl@3"
    split: str  # train / valid / test
    notes: np.ndarray  # NoteArray, ticks from the window's start
    arrays: SectionArrays


@dataclass(frozen=True)
class Melody:
    """A held-out piece's melody for the evaluation reference: pitches and durations in time
    order, and its beat in ticks."""

    name: str
    pitches: np.ndarray
    durations: np.ndarray
    beat_ticks: int


def _tick(q: float) -> int:
    return round(q * TICKS_PER_BEAT)


def _notes(score: Any) -> np.ndarray:
    rows = []
    for v, part in enumerate(score.stripTies().parts):
        for n in part.flatten().notes:
            if n.duration.isGrace or float(n.quarterLength) <= 0:
                continue
            for p in n.pitches:
                rows.append(
                    (
                        _tick(float(n.offset)),
                        _tick(float(n.quarterLength)),
                        int(p.midi),
                        80,
                        TRACK_OF_VOICE[v],
                    )
                )
    return sort_notes(np.array(rows, dtype=NOTE_DTYPE))


def chorale_segments(score: Any, path: str) -> tuple[list[RealSegment], Melody | None]:
    """A chorale's windows, and its whole soprano line; ([], None) if it is not a four-part
    chorale in one meter."""
    piece = load(score, path)
    if piece is None or len(piece.beats) < 2:
        return [], None
    notes = _notes(score)
    beat = _tick(piece.beats[0].length)
    bar = beat * piece.beats_per_bar
    strong = [0, bar // 2] if piece.beats_per_bar % 2 == 0 else [0]
    sop = notes[notes["track"] == 0]
    melody = Melody(path, sop["pitch"].astype(np.int64), sop["duration"].astype(np.int64), beat)
    labels = [piece.label(i) for i in range(len(piece.beats))]
    downs = [i for i, b in enumerate(piece.beats) if b.bar_position == 0]
    out = []
    for w in range(0, len(downs) - SEGMENT_BARS, SEGMENT_BARS):
        first, last = downs[w], downs[w + SEGMENT_BARS]
        t0, t1 = _tick(piece.beats[first].onset), _tick(piece.beats[last].onset)
        if t1 - t0 != SEGMENT_BARS * bar:
            continue
        seg = notes[(notes["onset"] >= t0) & (notes["onset"] < t1)].copy()
        seg["onset"] -= t0
        seg["duration"] = np.minimum(seg["duration"], t1 - t0 - seg["onset"])
        if (seg["track"] == 0).sum() < MIN_MELODY_NOTES:
            continue
        arrays = _arrays(piece, labels, first, last, t0, t1 - t0, bar, beat, strong)
        out.append(RealSegment(f"{path}@{w // SEGMENT_BARS}", corpus_split(path), seg, arrays))
    return out, melody


def _arrays(
    piece: Any,
    labels: list[Any],
    first: int,
    last: int,
    t0: int,
    length: int,
    bar: int,
    beat: int,
    strong: list[int],
) -> SectionArrays:
    key = piece.local_keys[first]
    tonic_triad = (key.tonic, "maj" if key.mode == "major" else "min")
    spans: list[list[int]] = []  # start, root, mask
    current = tonic_triad
    for i in range(first, last):
        current = labels[i] or current
        root, quality = current
        mask = sum(1 << ((root + d) % 12) for d in TEMPLATES[quality][0])
        start = _tick(piece.beats[i].onset) - t0
        if spans and spans[-1][2] == mask and spans[-1][1] == root:
            continue
        spans.append([start, root, mask])
    spans[0][0] = 0
    starts = np.array([s[0] for s in spans], dtype=np.int64)
    ends = np.append(starts[1:], length)
    return SectionArrays(
        length_ticks=length,
        bar_ticks=bar,
        beat_ticks=beat,
        strong_offsets=np.array(strong, dtype=np.int64),
        scale_mask=key.scale_mask,
        tonic=key.tonic,
        chord_starts=starts,
        chord_ends=ends,
        chord_masks=np.array([s[2] for s in spans], dtype=np.int64),
        chord_roots=np.array([s[1] for s in spans], dtype=np.int64),
        melody_low=SOPRANO_RANGE[0],
        melody_high=SOPRANO_RANGE[1],
    )


def load_chorales(
    limit: int | None = None, splits: tuple[str, ...] = ("train", "valid", "test")
) -> tuple[list[RealSegment], list[Melody]]:
    """Segments and soprano melodies of every chorale whose split is in ``splits``, in corpus
    path order (``limit``: at most that many files are parsed, for tests)."""
    from music21 import corpus

    segments: list[RealSegment] = []
    melodies: list[Melody] = []
    paths = [p for p in chorale_paths() if corpus_split(p) in splits][:limit]
    for p in paths:
        segs, mel = chorale_segments(corpus.parse(p), p)
        segments.extend(segs)
        if mel is not None:
            melodies.append(mel)
    return segments, melodies
