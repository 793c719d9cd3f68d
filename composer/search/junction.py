"""Junction scores: how well two consecutive sections join, from their notes alone.

The lattice search (:mod:`composer.search.lattice`) adds a junction term for every pair of sections
adjacent in time once both are chosen on a path. Three parts, each in [0, 1]:

- ``lead``: the melody's last note leads into the next section's first: exp(-|interval| / 5),
  so a repeated note or a step (1-2 semitones) costs little and an octave costs a factor 11.
- ``voice``: voice leading across the boundary between the outer voices (melody over bass):
  0 for parallel fifths or octaves (both voices move the same way into the same perfect
  interval class), else exp(-max(0, |bass interval| - 7) / 5) (a bass leap past a fifth).
- ``seam``: no gap and no clash: the melody's silence across the seam in beats, 1 up to one
  beat, exp(-(gap - 1) / 2) beyond; a previous note that rings into the next section (a note
  ending after the section's length) and sounds against a different pitch of the same track
  started there is a clash and scores 0.

``junction`` is ``0.5 lead + 0.25 voice + 0.25 seam``; 1 when there is nothing to join.
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np

from kernels.notes import TRACK_BASS, TRACK_MELODY

PERFECT = (0, 7)  # interval classes of fifths and octaves (and unisons)


def _edge(notes: np.ndarray, track: int, last: bool) -> np.ndarray:
    t = notes[notes["track"] == track]
    if not t.size:
        return t
    order = np.lexsort((t["duration"], t["pitch"], t["onset"]))
    return t[order[-1:]] if last else t[order[:1]]


def lead(prev_last: int | None, next_first: int | None) -> float:
    """exp(-|next_first - prev_last| / 5); 1 if either is missing. [0, 1]"""
    if prev_last is None or next_first is None:
        return 1.0
    return math.exp(-abs(next_first - prev_last) / 5.0)


def voice(
    prev_melody: int | None, prev_bass: int | None, next_melody: int | None, next_bass: int | None
) -> float:
    """Outer-voice motion across the boundary: 0 for parallel fifths/octaves, else a penalty
    for bass leaps past a fifth, exp(-max(0, |b| - 7) / 5); 1 if a pitch is missing. [0, 1]"""
    if None in (prev_melody, prev_bass, next_melody, next_bass):
        return 1.0
    assert prev_melody is not None and prev_bass is not None
    assert next_melody is not None and next_bass is not None
    dm, db = next_melody - prev_melody, next_bass - prev_bass
    before = (prev_melody - prev_bass) % 12
    after = (next_melody - next_bass) % 12
    if dm * db > 0 and before == after and after in PERFECT:
        return 0.0
    return math.exp(-max(0, abs(db) - 7) / 5.0)


def seam(prev: np.ndarray, prev_length: int, nxt: np.ndarray, beat_ticks: int) -> float:
    """Gap and clash across the boundary (see the module docstring). [0, 1]"""
    pm = prev[prev["track"] == TRACK_MELODY]
    nm = nxt[nxt["track"] == TRACK_MELODY]
    ring = prev[prev["onset"] + prev["duration"] > prev_length]
    for r in ring:
        until = int(r["onset"] + r["duration"]) - prev_length
        same = nxt[(nxt["track"] == r["track"]) & (nxt["onset"] < until)]
        if (same["pitch"] != r["pitch"]).any():
            return 0.0
    if not pm.size or not nm.size:
        return 1.0
    end = int((pm["onset"] + pm["duration"]).max())
    gap = (prev_length - end + int(nm["onset"].min())) / beat_ticks
    return 1.0 if gap <= 1.0 else math.exp(-(gap - 1.0) / 2.0)


def parts(prev: np.ndarray, prev_length: int, nxt: np.ndarray, beat_ticks: int) -> dict[str, float]:
    """The three parts of the junction of ``prev`` (a section of ``prev_length`` ticks) and
    ``nxt`` (times from its own start), and ``junction``, their weighted sum. [0, 1] each."""

    def pitch(a: np.ndarray) -> int | None:
        return int(a["pitch"][0]) if a.size else None

    pm, nm = pitch(_edge(prev, TRACK_MELODY, True)), pitch(_edge(nxt, TRACK_MELODY, False))
    pb, nb = pitch(_edge(prev, TRACK_BASS, True)), pitch(_edge(nxt, TRACK_BASS, False))
    out = {
        "lead": lead(pm, nm),
        "voice": voice(pm, pb, nm, nb),
        "seam": seam(prev, prev_length, nxt, beat_ticks),
    }
    out["junction"] = 0.5 * out["lead"] + 0.25 * out["voice"] + 0.25 * out["seam"]
    return out


def junction(prev: np.ndarray | None, prev_length: int, nxt: np.ndarray, beat_ticks: int) -> float:
    """The junction score of two consecutive sections; 1 without a previous one. [0, 1]"""
    if prev is None:
        return 1.0
    return parts(prev, prev_length, nxt, beat_ticks)["junction"]


def boundary(a: str, b: str) -> str:
    """The name of the seam between sections ``a`` and ``b``: ``'A1|A2'``."""
    return f"{a}|{b}"


def song_seams(
    sections: list[tuple[str, np.ndarray, int]], beat_ticks: int
) -> dict[str, dict[str, float]]:
    """The parts of every seam of a song, keyed by :func:`boundary`. ``sections``: (id, notes
    from the section's start, length in ticks) in time order."""
    return {
        boundary(a, b): parts(pa, la, pb, beat_ticks)
        for (a, pa, la), (b, pb, _) in pairwise(sections)
    }
