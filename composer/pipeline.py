"""The compiler: a fixed list of named passes over one :class:`Compilation`.

    parse -> form -> keys -> harmony -> melody -> compose (generate, check, score, stitch)
    -> arrange -> render

Each pass is a function ``(Compilation, Progress) -> Compilation`` owned by the package that does
the work; this module only sequences them, times them and, with ``debug=True``, validates the
plan after each one (:func:`composer.invariants.validate`). Generation, checking, scoring and
stitching run section by section inside ``compose`` (a beam search over partial songs,
:mod:`composer.search.lattice`), because a repeat is generated from the candidate chosen for its
source on the same path; their times are reported separately.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from composer.arrange import arrange_song
from composer.arrange.perform import perform, ritardando
from composer.compilation import Compilation, Progress, Silent
from composer.generators.registry import get_generator
from composer.invariants import validate
from composer.render.midi import write_midi
from composer.reward_model import default_model
from composer.search.lattice import SearchConfig, search
from composer.search.rewards import resolve_weights
from grammar.brief.apply import read_prompt
from grammar.spec import Preferences, SongSpec, load_profile
from kernels.notes import empty_notes, shift, sort_notes
from planners.form import plan_form, resolve_song
from planners.harmony import plan_harmony
from planners.keyplan import plan_keys
from planners.melody_plan import plan_melody
from planners.plan import SongPlan
from planners.seeding import rng_for
from planners.styles import STYLES, get_style, song_style


def parse_pass(c: Compilation, progress: Progress) -> Compilation:
    """Fill what the prompt says into the spec (explicit values win), then resolve globals."""
    spec, reading = read_prompt(c.spec, tuple(STYLES))
    return replace(c, spec=spec, plan=resolve_song(spec, reading))


def form_pass(c: Compilation, progress: Progress) -> Compilation:
    plan, graph = plan_form(c.spec, c.need_plan())
    return replace(c, plan=plan, graph=graph)


def keys_pass(c: Compilation, progress: Progress) -> Compilation:
    return replace(c, plan=plan_keys(c.spec, c.need_plan()))


def harmony_pass(c: Compilation, progress: Progress) -> Compilation:
    return replace(c, plan=plan_harmony(c.spec, c.need_plan()))


def melody_pass(c: Compilation, progress: Progress) -> Compilation:
    """The melody plan: phrases, tessitura, density, idiom and the hook per section."""
    return replace(c, plan=plan_melody(c.need_plan()))


def compose_pass(c: Compilation, progress: Progress) -> Compilation:
    """Per section, in generation order: generate candidates, splice repeats, check them in one
    kernel call per path, score them; stitch the song as the best path through the lattice of
    candidates (:mod:`composer.search.lattice`)."""
    plan = c.need_plan()
    assert c.graph is not None
    config = search_config(c.spec, plan)
    checkpoint = None if plan.checkpoint is None else Path(plan.checkpoint)
    gen = get_generator(plan.generator, checkpoint)
    choices, t = search(plan, c.graph, gen, config, progress.section_done)
    return replace(c, choices=choices, config=config, timings={**c.timings, **t})


def search_config(spec: SongSpec, plan: SongPlan) -> SearchConfig:
    """The search settings of a song: the spec's ``preferences:`` (beam, diversity, learned
    reward on or off) and the reward weights from style, user profile and spec."""
    prefs = spec.preferences or Preferences()
    profile = load_profile(prefs.profile) if prefs.profile else None
    return SearchConfig(
        weights=resolve_weights(get_style(plan.style).family, profile, prefs.weights),
        beam=prefs.beam,
        diversity=prefs.diversity,
        model=default_model() if prefs.learned else None,
    )


def song_notes(c: Compilation) -> np.ndarray:
    """The song's notes (a NoteArray, absolute ticks): the arrangement once ``arrange`` has run,
    else all chosen notes placed at their sections' start ticks."""
    if c.notes is not None:
        return c.notes
    plan = c.need_plan()
    parts = [
        shift(c.choices[s.id].chosen.segment.notes, ticks=plan.section_start_tick(s))
        for s in plan.sections
    ]
    return sort_notes(np.concatenate(parts)) if parts else empty_notes()


def arrange_pass(c: Compilation, progress: Progress) -> Compilation:
    """The band around the chosen melody (composer.arrange): energy per section, the style's
    drums, bass and comp, the comp under the melody, dynamics and the ending."""
    return replace(c, notes=arrange_song(c.need_plan(), song_notes(c)))


def render_pass(c: Compilation, progress: Progress) -> Compilation:
    """The MIDI file of the performed song: swing, strums and (unless ``quantized``) seeded
    humanisation over the arranged notes, and the final ritardando as tempo changes."""
    plan = c.need_plan()
    meter = plan.meter()
    keys = [(plan.section_start_tick(s), s.key_obj()) for s in plan.sections]
    tracks = [(t.name, t.program, t.channel) for t in plan.tracks]
    total = plan.total_bars * meter.bar_ticks
    played = perform(
        song_notes(c),
        song_style(plan),
        meter,
        rng_for(plan.seed, "perform"),
        quantized=bool(c.spec.quantized),
    )
    midi = write_midi(
        plan.title,
        plan.tempo,
        meter,
        keys,
        tracks,
        played,
        total,
        tempos=ritardando(plan.tempo, meter, total),
    )
    return replace(c, midi=midi)


Pass = Callable[[Compilation, Progress], Compilation]
PASSES: list[tuple[str, Pass]] = [
    ("parse", parse_pass),
    ("form", form_pass),
    ("keys", keys_pass),
    ("harmony", harmony_pass),
    ("melody", melody_pass),
    ("compose", compose_pass),
    ("arrange", arrange_pass),
    ("render", render_pass),
]
PLANNING = ("parse", "form", "keys", "harmony", "melody")


def compile_song(
    spec: SongSpec,
    *,
    progress: Progress | None = None,
    debug: bool = False,
    stop_after: str | None = None,
) -> Compilation:
    """Run the passes in order (up to ``stop_after``, inclusive) and return the compilation."""
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
