"""Grid strings (see :mod:`planners.styles.files`) read into timed steps, and pattern choice.

A grid string's bar has ``n`` characters; each is one step of ``bar_ticks / n`` ticks. A pattern
with ``|`` has several bars and cycles: bar ``k`` of a section plays the pattern's bar
``k % len``. A level given as a list offers alternatives; a section picks one with its own
random stream, so a repeated section can be played differently (the band develops).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grammar.meter import TimeSignature
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


def hits(
    pattern: str, bar: int, meter: TimeSignature, written: TimeSignature | None = None
) -> list[Hit]:
    """The hits of bar ``bar`` (0-based within the section) of a pattern, holds resolved.

    ``written``: the meter the pattern was written in (the style's), if not the song's. Then
    the pattern is read beat by beat onto the song's felt beats (its beat ``j % beats``), each
    position rounded to the song's grid (16ths in a simple meter, eighths in a compound one),
    so a 4/4 groove in a 6/8 song lands on the eighth notes, never between them."""
    cells = bar_of(pattern, bar)
    if written is None or (written.bar_ticks, written.beat_ticks) == (
        meter.bar_ticks,
        meter.beat_ticks,
    ):
        step = meter.bar_ticks // len(cells)
        return [Hit(i * step, j * step, ch) for i, j, ch in _runs(cells)]
    per_beat = len(cells) / written.beats_per_bar
    unit = meter.beat_ticks // 3 if meter.is_compound else meter.beat_ticks // 4
    out: dict[int, Hit] = {}
    for j in range(meter.beats_per_bar):
        sb = j % written.beats_per_bar
        for i, e, ch in _runs(cells):
            b, f = divmod(i / per_beat, 1)
            if int(b) != sb:
                continue
            on = j * meter.beat_ticks + round(f * meter.beat_ticks / unit) * unit
            end = j * meter.beat_ticks + round((e / per_beat - sb) * meter.beat_ticks / unit) * unit
            out.setdefault(on, Hit(on, min(max(end, on + unit), meter.bar_ticks), ch))
    ordered = sorted(out.values(), key=lambda h: h.onset)
    return [
        Hit(h.onset, min(h.end, ordered[k + 1].onset) if k + 1 < len(ordered) else h.end, h.char)
        for k, h in enumerate(ordered)
    ]


def _runs(cells: str) -> list[tuple[int, int, str]]:
    """(first step, step after its hold, character) of every hit of one bar."""
    out = []
    for i, ch in enumerate(cells):
        if ch in (SUSTAIN, REST):
            continue
        j = i + 1
        while j < len(cells) and cells[j] == SUSTAIN:
            j += 1
        out.append((i, j, ch))
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
