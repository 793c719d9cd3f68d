"""Bach chorales from music21's corpus: a NoteArray loader and a music21-object reference.

Two independent routes to the per-voice-pair parallel and direct fifths and octaves defined in
the :mod:`kernels.checker` docstring ("Voice-leading moments"):

* :func:`chorale_notes` reads a chorale's four parts into ONE NoteArray (track = part index
  0..3, S A T B), merging tied notes itself, leaving rests as gaps, dropping grace notes and
  keeping offsets as music21 gives them (a pickup bar starts at 0); :func:`kernel_counts` runs
  :func:`kernels.batch.check_batch` on it with ``voices = [0, 1, 2, 3]``.
* :func:`music21_counts` never builds a NoteArray: it works on music21 objects -- parts with
  ties removed by ``Stream.stripTies``, the note sounding at an offset found with
  ``Stream.getElementsByOffset``, each step between moments a
  ``voiceLeading.VoiceLeadingQuartet`` whose ``similarMotion()`` and harmonic ``Interval``
  semitones decide the rule -- in music21's Fraction offsets.

The rule is the checker's (similar motion, both voices moving, interval class by semitones),
not music21's ``parallelFifth()``, which also counts contrary ("antiparallel") fifths and reads
intervals by spelling; :func:`music21_native_counts` reports those for comparison only.
Used by tests/test_kernels_chorales.py (a sample) and benchmarks/chorale_voice_leading.py (all).
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from functools import cache

import numpy as np
from music21 import chord, corpus, note, stream, voiceLeading

from kernels.batch import check_batch
from kernels.context import SectionArrays
from kernels.notes import NOTE_DTYPE, TICKS_PER_BEAT, sort_notes

VOICES = ("soprano", "alto", "tenor", "bass")
PAIRS = [(i, j) for i in range(4) for j in range(i + 1, 4)]
COUNTS = ("parallel_fifths", "parallel_octaves", "direct_fifths", "direct_octaves")


@cache
def chorale_names() -> tuple[str, ...]:
    """Every chorale of music21's Bach chorale iterator (corpus file names), in its order."""
    return tuple(corpus.chorales.Iterator(returnType="filename"))


def load(name: str) -> stream.Score:
    """The parsed chorale (music21 caches parses on disk)."""
    return corpus.parse(name)


def skip_reason(score: stream.Score) -> str | None:
    """Why a score is not a plain four-part chorale, or None if it is."""
    parts = list(score.parts)
    if len(parts) != 4:
        return f"{len(parts)} parts, not 4"
    for k, part in enumerate(parts):
        if any(isinstance(el, chord.Chord) for el in part.recurse().notes):
            return f"part {k} holds a chord (not monophonic)"
    return None


def _ticks(offset: float | Fraction) -> int:
    ticks = Fraction(offset) * TICKS_PER_BEAT
    if ticks.denominator != 1:
        raise ValueError(f"offset {offset} is not a whole number of ticks")
    return int(ticks)


def chorale_notes(score: stream.Score) -> np.ndarray:
    """The four parts as one NoteArray, track = part index; ties merged by this loader."""
    rows: list[tuple[int, int, int, int, int]] = []
    for track, part in enumerate(score.parts):
        open_row: list[int] | None = None  # [onset, duration, pitch] of a tie in progress
        for n in part.flatten().getElementsByClass(note.Note):
            if n.duration.isGrace or n.duration.quarterLength == 0:
                continue
            onset = _ticks(n.getOffsetInHierarchy(part))
            duration = _ticks(n.duration.quarterLength)
            tie = n.tie.type if n.tie is not None else None
            if open_row is not None and tie in ("stop", "continue") and n.pitch.midi == open_row[2]:
                open_row[1] = onset + duration - open_row[0]
                if tie == "stop":
                    rows.append((open_row[0], open_row[1], open_row[2], 80, track))
                    open_row = None
                continue
            if open_row is not None:  # a tie that never stopped: keep what it covered
                rows.append((open_row[0], open_row[1], open_row[2], 80, track))
                open_row = None
            if tie == "start":
                open_row = [onset, duration, n.pitch.midi]
            else:
                rows.append((onset, duration, n.pitch.midi, 80, track))
        if open_row is not None:
            rows.append((open_row[0], open_row[1], open_row[2], 80, track))
    return sort_notes(np.array(rows, dtype=NOTE_DTYPE))


def chorale_section(notes: np.ndarray) -> SectionArrays:
    """A section covering the whole chorale with four voices and nothing else constrained."""
    length = int((notes["onset"] + notes["duration"]).max()) + 1
    return SectionArrays(
        length_ticks=length,
        bar_ticks=4 * TICKS_PER_BEAT,
        beat_ticks=TICKS_PER_BEAT,
        strong_offsets=np.array([0]),
        scale_mask=4095,
        tonic=0,
        chord_starts=np.array([0]),
        chord_ends=np.array([length]),
        chord_masks=np.array([4095]),
        chord_roots=np.array([0]),
        melody_low=0,
        melody_high=127,
        voices=np.array([0, 1, 2, 3]),
    )


def kernel_counts(notes: np.ndarray) -> dict[tuple[int, int], dict[str, int]]:
    """Per voice pair (part indices), the kernel's :data:`COUNTS`."""
    result = check_batch([notes], chorale_section(notes))
    pairs = result.voice_pair_dict(0)
    return {pair: {k: pairs[pair][k] for k in COUNTS} for pair in PAIRS}


def music21_voice(part: stream.Stream) -> stream.Stream:
    """The part's notes with ties merged by music21 and grace notes dropped, flat."""
    flat = part.stripTies().flatten()
    keep: stream.Stream = stream.Stream()
    for n in flat.getElementsByClass(note.Note):
        if not n.duration.isGrace and n.duration.quarterLength > 0:
            keep.insert(n.offset, n)
    return keep


def _sounding(voice: stream.Stream, offset: Fraction) -> note.Note | None:
    """The note of ``voice`` sounding at ``offset``: latest onset, then highest pitch."""
    found = voice.getElementsByOffset(
        offset, mustBeginInSpan=False, includeElementsThatEndAtStart=False
    )
    notes = [n for n in found if n.offset <= offset < n.offset + n.duration.quarterLength]
    return max(notes, key=lambda n: (n.offset, n.pitch.ps), default=None)


def music21_moments(
    upper: stream.Stream, lower: stream.Stream
) -> list[tuple[note.Note, note.Note]]:
    offsets = sorted({Fraction(n.offset) for n in upper} | {Fraction(n.offset) for n in lower})
    out: list[tuple[note.Note, note.Note]] = []
    for t in offsets:
        u, lo = _sounding(upper, t), _sounding(lower, t)
        if u is None or lo is None:
            continue
        if out and out[-1][0].pitch.ps == u.pitch.ps and out[-1][1].pitch.ps == lo.pitch.ps:
            continue
        out.append((u, lo))
    return out


def music21_pair_counts(
    upper: stream.Stream, lower: stream.Stream, native: bool = False
) -> dict[str, int]:
    """:data:`COUNTS` of one voice pair (flat streams of Notes) by the checker's rule on music21
    objects; with ``native=True`` by music21's own VoiceLeadingQuartet verdicts instead."""
    counts = dict.fromkeys(COUNTS, 0)
    seq = music21_moments(upper, lower)
    for (u1, l1), (u2, l2) in itertools.pairwise(seq):
        vlq = voiceLeading.VoiceLeadingQuartet(u1, u2, l1, l2)
        if native:
            counts["parallel_fifths"] += vlq.parallelFifth()
            counts["parallel_octaves"] += vlq.parallelOctave() or vlq.parallelUnison()
            counts["direct_fifths"] += vlq.hiddenFifth()
            counts["direct_octaves"] += vlq.hiddenOctave()
            continue
        if u1.pitch.ps == u2.pitch.ps or l1.pitch.ps == l2.pitch.ps:
            continue  # one voice holds: oblique motion
        if not vlq.similarMotion():
            continue
        i1 = abs(int(vlq.vIntervals[0].semitones)) % 12
        i2 = abs(int(vlq.vIntervals[1].semitones)) % 12
        if i2 == 7:
            counts["parallel_fifths" if i1 == 7 else "direct_fifths"] += 1
        elif i2 == 0:
            counts["parallel_octaves" if i1 == 0 else "direct_octaves"] += 1
    return counts


def music21_counts(
    score: stream.Score, native: bool = False
) -> dict[tuple[int, int], dict[str, int]]:
    """Per voice pair, :data:`COUNTS` by the checker's rule on music21 objects (see module doc).

    With ``native=True``, music21's own ``parallelFifth()``, ``parallelOctave()`` (plus
    ``parallelUnison()``), ``hiddenFifth()`` and ``hiddenOctave()`` instead (for comparison).
    """
    voices = [music21_voice(p) for p in score.parts]
    return {(i, j): music21_pair_counts(voices[i], voices[j], native) for i, j in PAIRS}
