"""Grid strings (see :mod:`planners.styles.files`) read into timed steps, and pattern choice.

A grid string's bar has ``n`` characters; each is one step of ``bar_ticks / n`` ticks. A pattern
with ``|`` has several bars and cycles: bar ``k`` of a section plays the pattern's bar
``k % len``. A level given as a list offers alternatives; a section picks one with its own
random stream, so a repeated section can be played differently (the band develops).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planners.styles.files import Grid, Part

SUSTAIN, REST = "-", "."


@dataclass(frozen=True)
class Hit:
    onset: int  # ticks from the bar start
    end: int  # ticks from the bar start (the hold of '-' steps after it, at most the bar end)
    char: str


def bar_of(pattern: str, bar: int) -> str:
    bars = pattern.split("|")
    return bars[bar % len(bars)]


def hits(pattern: str, bar: int, bar_ticks: int) -> list[Hit]:
    """The hits of bar ``bar`` (0-based within the section) of a pattern, holds resolved."""
    cells = bar_of(pattern, bar)
    step = bar_ticks // len(cells)
    out: list[Hit] = []
    for i, ch in enumerate(cells):
        if ch in (SUSTAIN, REST):
            continue
        j = i + 1
        while j < len(cells) and cells[j] == SUSTAIN:
            j += 1
        out.append(Hit(i * step, j * step, ch))
    return out


def pick(grid: Grid, rng: np.random.Generator) -> str:
    """One pattern of a level (a list is a choice; the draw is made even for one, so adding an
    alternative to a style changes only the sections that use it)."""
    options = [grid] if isinstance(grid, str) else grid
    return options[int(rng.integers(len(options)))]


def level_grid(part: Part, level: str, slow: bool) -> Grid:
    """The part's pattern(s) for an energy level: its ``slow`` override at a ballad tempo, a
    bridge falls back on the sparse level when the style writes none."""
    if slow and part.slow and level in part.slow:
        return part.slow[level]
    if level == "bridge":
        return part.bridge if part.bridge is not None else part.low
    grid: Grid = getattr(part, level)
    return grid
