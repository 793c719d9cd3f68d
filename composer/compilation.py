"""The state the compiler's passes hand on (:class:`Compilation`), and how they report progress.

Its own module so that what reads a compilation (the ``--debug`` invariants, the report) does
not import the pipeline that runs the passes, and the pipeline can import them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import networkx as nx
import numpy as np

from composer.arrange.energy import Energy
from composer.search.batch import Choice
from composer.search.lattice import SearchConfig
from composer.segment import Segment
from grammar.spec import SongSpec
from planners.plan import SongPlan


class Progress(Protocol):
    def pass_started(self, name: str) -> None: ...
    def section_done(self, done: int, total: int, section_id: str) -> None: ...


class Silent:
    def pass_started(self, name: str) -> None:
        pass

    def section_done(self, done: int, total: int, section_id: str) -> None:
        pass


@dataclass(frozen=True)
class Compilation:
    spec: SongSpec
    plan: SongPlan | None = None
    graph: nx.MultiDiGraph | None = None
    choices: Mapping[str, Choice] = field(default_factory=dict)
    # the user's own melodies (spec label or marked name -> notes), set by ``material``
    material: Mapping[str, np.ndarray] = field(default_factory=dict)
    # sections kept from a previous song (``lock:`` with ``--from``): id -> its chosen notes
    locked: Mapping[str, Segment] = field(default_factory=dict)
    config: SearchConfig | None = None  # the search settings the compose pass used
    notes: np.ndarray | None = None  # the arranged song (absolute ticks), set by ``arrange``
    # each section's energy when a profile chose them (``arrange``); None: the form's
    energies: tuple[Energy, ...] | None = None
    performed: tuple[np.ndarray, ...] = ()  # each section's played notes, set by ``render``
    midi: bytes = b""
    timings: Mapping[str, float] = field(default_factory=dict)

    def need_plan(self) -> SongPlan:
        if self.plan is None:
            raise RuntimeError("no plan yet: run the form pass first")
        return self.plan
