"""Segment: one candidate for one section, as notes plus provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kernels.notes import track_notes


@dataclass(frozen=True)
class Segment:
    """The notes of one candidate for one section.

    ``notes`` is a NoteArray (see :mod:`kernels.notes`) with onsets in ticks from the section's
    start. ``generator`` and ``seed`` say how to make it again; ``provenance`` carries anything
    else a generator wants recorded (pattern names, the variation applied, ...).
    """

    section_id: str
    notes: np.ndarray
    generator: str
    seed: int
    provenance: dict[str, Any] = field(default_factory=dict)


def last_pitch(seg: Segment | None, track: int) -> int | None:
    """The pitch of the last note of ``track`` in ``seg`` (None without a segment or notes):
    where the next section's melody or bass continues from."""
    if seg is None:
        return None
    notes = track_notes(seg.notes, track)
    return int(notes["pitch"][-1]) if notes.size else None
