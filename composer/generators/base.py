"""The section-generator contract: one method, ``generate``, and a ``name``.

A generator receives the plan of one section (bars, key, chords, cadence, role), the context it
may draw on (the song plan, the chosen material of the section this one repeats or varies, the
chosen section before it), how many candidates to propose, and a numpy random Generator that is
its only source of randomness (so the same seed gives the same song). It returns ``n``
Segments whose NoteArrays start at tick 0 of the section and end within it.

Register one with :func:`composer.generators.registry.register`, or from another package through the
entry-point group ``composer.generators`` (see ``examples/plugin``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from composer.segment import Segment
from planners.plan import SectionPlan, SongPlan


@dataclass(frozen=True)
class GenerationContext:
    song: SongPlan
    source: Segment | None = None  # the chosen material this section repeats/varies, in its key
    previous: Segment | None = None  # the chosen section just before this one in time
    variant: int = 0  # 0 for new material, 1 for a variation (a generator may change texture)


@runtime_checkable
class SectionGenerator(Protocol):
    name: str

    def generate(
        self, section: SectionPlan, context: GenerationContext, n: int, rng: np.random.Generator
    ) -> list[Segment]: ...
