"""Invariants of the plan, checked after each pass with ``--debug`` (and by the tests).

A broken invariant is a bug in a pass, not a user error: it raises PlanError naming the pass
and the invariant, so a failing pass is found where it fails rather than three passes later.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grammar.errors import PlanError
from kernels.notes import validate_notes

if TYPE_CHECKING:
    from composer.compilation import Compilation


def validate(c: Compilation, after: str) -> None:
    plan = c.plan
    if plan is None:
        raise PlanError(after, "no plan")
    meter = plan.meter()
    bar = 1
    ids = set()
    for s in plan.sections:
        where = f"after {after}: section {s.id}"
        if s.start_bar != bar:
            raise PlanError(where, f"starts at bar {s.start_bar}, expected {bar}")
        if s.id in ids:
            raise PlanError(where, "duplicate id")
        if s.source is not None and s.source not in ids:
            raise PlanError(where, f"source {s.source} does not come before it")
        ids.add(s.id)
        bar += s.bars
        s.key_obj()
        if s.chords:
            t = 0
            for e in s.chords:
                if e.start_tick != t:
                    raise PlanError(where, f"chord at tick {e.start_tick}, expected {t}")
                e.chord()
                t += e.duration_ticks
            if t != s.bars * meter.bar_ticks:
                raise PlanError(where, f"chords cover {t} ticks of {s.bars * meter.bar_ticks}")
        m = s.melody
        if m is not None:
            covered = [b for p in m.phrases for b in range(p.start_bar, p.start_bar + p.bars)]
            if covered != list(range(1, s.bars + 1)):
                raise PlanError(where, "the melody plan's phrases do not tile the section")
            if not plan.melody_low <= m.low <= m.centre <= m.high <= plan.melody_high:
                raise PlanError(where, f"tessitura {m.low}..{m.high} outside the melody range")
        if s.id in c.choices:
            try:
                validate_notes(c.choices[s.id].chosen.segment.notes, s.bars * meter.bar_ticks)
            except ValueError as exc:
                raise PlanError(where, str(exc)) from None
    if c.graph is not None and set(c.graph.nodes) != ids:
        raise PlanError(f"after {after}", "form graph and sections disagree")
