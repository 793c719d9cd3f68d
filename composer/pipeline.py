"""The compiler: a fixed list of named passes over one :class:`Compilation`.

    parse -> form -> keys -> harmony -> compose (generate, check, score, stitch) -> render

Each pass is a function ``(Compilation, Progress) -> Compilation`` owned by the package that does
the work; this module only sequences them, times them and, with ``debug=True``, validates the
plan after each one (:func:`composer.validate.validate`). Generation, checking, scoring and
stitching run section by section inside ``compose``, because a repeat is generated from the
candidate chosen for its source; their times are reported separately.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

import networkx as nx
import numpy as np

from composer.generators.base import GenerationContext
from composer.material import source_in_key, splice_repeat
from composer.midi import write_midi
from composer.registry import get_generator
from composer.search import Choice, check, choose, score_batch
from composer.segment import Segment
from grammar.errors import GeneratorError
from grammar.spec import SongSpec, fill_from_prompt
from kernels.notes import NOTE_DTYPE, empty_notes, shift, sort_notes, validate_notes
from planners.form import generation_order, plan_form, resolve_song
from planners.harmony import plan_harmony
from planners.keyplan import plan_keys
from planners.plan import SongPlan
from planners.seeding import rng_for


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
    midi: bytes = b""
    timings: Mapping[str, float] = field(default_factory=dict)

    def need_plan(self) -> SongPlan:
        if self.plan is None:
            raise RuntimeError("no plan yet: run the form pass first")
        return self.plan


def parse_pass(c: Compilation, progress: Progress) -> Compilation:
    """Fill what the prompt says into the spec (explicit values win), then resolve globals."""
    spec = fill_from_prompt(c.spec)
    return replace(c, spec=spec, plan=resolve_song(spec))


def form_pass(c: Compilation, progress: Progress) -> Compilation:
    plan, graph = plan_form(c.spec, c.need_plan())
    return replace(c, plan=plan, graph=graph)


def keys_pass(c: Compilation, progress: Progress) -> Compilation:
    return replace(c, plan=plan_keys(c.spec, c.need_plan()))


def harmony_pass(c: Compilation, progress: Progress) -> Compilation:
    return replace(c, plan=plan_harmony(c.spec, c.need_plan()))


def compose_pass(c: Compilation, progress: Progress) -> Compilation:
    """Per section, in generation order: generate N candidates, splice repeats, check them in
    one kernel call, score them, and choose (stitching to the section chosen before it)."""
    plan = c.need_plan()
    assert c.graph is not None
    gen = get_generator(plan.generator)
    bar_ticks = plan.meter().bar_ticks
    order = generation_order(c.graph)
    chosen: dict[str, Segment] = {}
    choices: dict[str, Choice] = {}
    t = dict.fromkeys(("generate", "check", "score", "stitch"), 0.0)
    for k, sid in enumerate(order):
        sect = plan.section(sid)
        prev = plan.sections[sect.index - 1] if sect.index else None
        previous = chosen.get(prev.id) if prev is not None else None
        source = None
        if sect.source is not None:
            src = plan.section(sect.source)
            source = source_in_key(chosen[sect.source], src, sect, bar_ticks)
        ctx = GenerationContext(plan, source, previous, 1 if sect.relation == "varies" else 0)
        t0 = time.perf_counter()
        cands = gen.generate(sect, ctx, plan.candidates, rng_for(plan.seed, "generate", sid))
        _check_candidates(gen.name, sect.id, cands, sect.bars * bar_ticks)
        if sect.relation == "repeats" and source is not None:
            src = plan.section(sect.source or "")
            cands = [splice_repeat(cd, source, sect, src, bar_ticks) for cd in cands]
        t1 = time.perf_counter()
        result = check(cands, sect, plan, source, previous)
        t2 = time.perf_counter()
        scored = score_batch(result, cands, sect, previous)
        t3 = time.perf_counter()
        choices[sid] = choose(scored)
        chosen[sid] = choices[sid].chosen.segment
        t4 = time.perf_counter()
        for name, dt in zip(t, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            t[name] += dt
        progress.section_done(k + 1, len(order), sid)
    return replace(c, choices=choices, timings={**c.timings, **t})


def _check_candidates(name: str, sid: str, cands: object, length: int) -> None:
    if not isinstance(cands, list) or not cands:
        raise GeneratorError("generator", f"'{name}' returned no candidates for section {sid}")
    for cand in cands:
        if not isinstance(cand, Segment) or getattr(cand.notes, "dtype", None) != NOTE_DTYPE:
            raise GeneratorError("generator", f"'{name}' returned a non-Segment for {sid}")
        try:
            validate_notes(cand.notes, length)
        except ValueError as exc:
            raise GeneratorError("generator", f"'{name}' wrote bad notes in {sid}: {exc}") from None


def song_notes(c: Compilation) -> np.ndarray:
    """All chosen notes, placed at their sections' start ticks (a NoteArray)."""
    plan = c.need_plan()
    parts = [
        shift(c.choices[s.id].chosen.segment.notes, ticks=plan.section_start_tick(s))
        for s in plan.sections
    ]
    return sort_notes(np.concatenate(parts)) if parts else empty_notes()


def render_pass(c: Compilation, progress: Progress) -> Compilation:
    plan = c.need_plan()
    meter = plan.meter()
    keys = [(plan.section_start_tick(s), s.key_obj()) for s in plan.sections]
    tracks = [(t.name, t.program, t.channel) for t in plan.tracks]
    midi = write_midi(
        plan.title,
        plan.tempo,
        meter,
        keys,
        tracks,
        song_notes(c),
        plan.total_bars * meter.bar_ticks,
    )
    return replace(c, midi=midi)


Pass = Callable[[Compilation, Progress], Compilation]
PASSES: list[tuple[str, Pass]] = [
    ("parse", parse_pass),
    ("form", form_pass),
    ("keys", keys_pass),
    ("harmony", harmony_pass),
    ("compose", compose_pass),
    ("render", render_pass),
]
PLANNING = ("parse", "form", "keys", "harmony")


def compile_song(
    spec: SongSpec,
    *,
    progress: Progress | None = None,
    debug: bool = False,
    stop_after: str | None = None,
) -> Compilation:
    """Run the passes in order (up to ``stop_after``, inclusive) and return the compilation."""
    from composer.validate import validate

    progress = progress or Silent()
    c = Compilation(spec=spec)
    for name, fn in PASSES:
        progress.pass_started(name)
        t0 = time.perf_counter()
        c = fn(c, progress)
        c = replace(c, timings={**c.timings, name: time.perf_counter() - t0})
        if debug:
            validate(c, name)
        if name == stop_after:
            break
    return c
