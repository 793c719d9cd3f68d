"""NoteArray: the currency between generators, kernels, rewards and renderers.

A NoteArray is a numpy structured array of :data:`NOTE_DTYPE`, one row per note, sorted by
(onset, track, pitch). Times are integer ticks at :data:`TICKS_PER_BEAT` per quarter note, so
every meter in use (down to 32nd-note triplets) lands on whole ticks and arithmetic is exact.
Kernels never see objects: the public wrappers split a NoteArray into its columns.
"""

from __future__ import annotations

import numpy as np

# 480 PPQ is the common DAW resolution: divisible by 2, 3, 4, 5, 8, 16 and 32.
TICKS_PER_BEAT = 480

NOTE_DTYPE = np.dtype(
    [
        ("onset", np.int64),  # ticks from the start of the segment (or song, once placed)
        ("duration", np.int64),  # ticks, > 0
        ("pitch", np.int16),  # MIDI note number 0..127
        ("velocity", np.int16),  # 1..127
        ("track", np.int16),  # index into the song's track list (see TRACK_* below)
    ]
)

# The built-in parts. A plan may add more tracks; these three always exist.
TRACK_MELODY = 0
TRACK_CHORDS = 1
TRACK_BASS = 2
# Drums (General MIDI channel 10, index 9): the pitch is a drum, not a note. Only the arrange pass
# writes this track, after candidates are checked, so no kernel (pitch, key, voice leading) ever
# reads it; readers of a finished song leave it out of anything pitched.
TRACK_DRUMS = 3
DRUM_CHANNEL = 9


def empty_notes(n: int = 0) -> np.ndarray:
    """A zeroed NoteArray with room for ``n`` notes."""
    return np.zeros(n, dtype=NOTE_DTYPE)


def make_notes(rows: list[tuple[int, int, int, int, int]]) -> np.ndarray:
    """Build a sorted NoteArray from ``(onset, duration, pitch, velocity, track)`` tuples."""
    arr = np.array(rows, dtype=NOTE_DTYPE) if rows else empty_notes()
    return sort_notes(arr)


def sort_notes(notes: np.ndarray) -> np.ndarray:
    """Return ``notes`` in canonical order: by onset, then track, then pitch (stable)."""
    order = np.lexsort((notes["pitch"], notes["track"], notes["onset"]))
    return notes[order]


def track_notes(notes: np.ndarray, track: int) -> np.ndarray:
    """The notes of one track, in canonical order."""
    return notes[notes["track"] == track]


def shift(notes: np.ndarray, ticks: int = 0, semitones: int = 0) -> np.ndarray:
    """A copy of ``notes`` moved in time and/or transposed."""
    out = notes.copy()
    out["onset"] += ticks
    out["pitch"] += semitones
    return out


def validate_notes(notes: np.ndarray, length_ticks: int | None = None) -> None:
    """Raise ValueError if ``notes`` is not a well-formed NoteArray (dtype, ranges, bounds)."""
    if notes.dtype != NOTE_DTYPE:
        raise ValueError(f"NoteArray has dtype {notes.dtype}, expected {NOTE_DTYPE}")
    if notes.size == 0:
        return
    if (notes["duration"] <= 0).any():
        raise ValueError("NoteArray has a note of non-positive duration")
    if (notes["onset"] < 0).any():
        raise ValueError("NoteArray has a note before tick 0")
    if ((notes["pitch"] < 0) | (notes["pitch"] > 127)).any():
        raise ValueError("NoteArray has a pitch outside 0..127")
    if ((notes["velocity"] < 1) | (notes["velocity"] > 127)).any():
        raise ValueError("NoteArray has a velocity outside 1..127")
    if length_ticks is not None and (notes["onset"] + notes["duration"] > length_ticks).any():
        raise ValueError(f"NoteArray has a note that ends after tick {length_ticks}")
