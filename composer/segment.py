"""Segment: one candidate for one section, as notes plus provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


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
