"""The compiler: a fixed list of named passes over one :class:`Compilation`.

    parse -> form -> keys -> harmony -> melody -> compose (generate, check, score, stitch)
    -> ornament -> arrange -> render

Each pass is a function ``(Compilation, Progress) -> Compilation`` owned by the package that does
the work; this module only sequences them, times them and, with ``debug=True``, validates the
plan after each one (:func:`composer.invariants.validate`). Generation, checking, scoring and
stitching run section by section inside ``compose`` (a beam search over partial songs,
:mod:`composer.search.lattice`), because a repeat is generated from the candidate chosen for its
source on the same path; their times are reported separately.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from composer.arrange import arrange_song, section_band
from composer.arrange.drums import count_in
from composer.arrange.perform import ritardando
from composer.compilation import Compilation, Progress, Silent
from composer.generators.ornaments import ornament_choices
from composer.generators.registry import get_generator
from composer.invariants import validate
from composer.material_in import apply_materials, is_fixed, materials
from composer.preferences.arrangement import profile_energies
from composer.preferences.harmony import profile_harmony
from composer.preferences.model import PersonalModel
from composer.preferences.profiles import is_profile_name
from composer.preferences.search import personal_reward, with_profile
from composer.render.midi import BAR_ONE_MARKER, COUNT_IN_MARKER, write_midi
from composer.reward_model import default_model
from composer.search.lattice import SearchConfig, fixed_choices, fixed_node, search
from composer.search.rewards import resolve_weights
from composer.sections import join, perform_song
from composer.segment import Segment
from grammar.brief.apply import read_prompt
from grammar.errors import SpecError
from grammar.spec import Preferences, SongSpec, load_profile
from kernels.notes import TRACK_BASS, TRACK_CHORDS, empty_notes, make_notes, shift, sort_notes
from planners.form import plan_form, resolve_song
from planners.harmony import plan_harmony
from planners.keyplan import plan_keys
from planners.melody_plan import plan_melody
from planners.plan import SongPlan
from planners.styles import STYLES, get_style, song_style


def material_pass(c: Compilation, progress: Progress) -> Compilation:
    """The user's own melodies (``sections: {A: {midi: theme.mid}}``): read and quantised,
    and what they say (key, meter, tempo, bars, chords) filled into the spec where unset
    (:mod:`composer.material_in`)."""
    found = materials(c.spec)
    if not found:
        return c
    spec = apply_materials(c.spec, found)
    return replace(c, spec=spec, material={k: m.notes for k, m in found.items()})


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
    """The chords of every section (:func:`planners.harmony.plan_harmony`); with a profile, the
    progression its personal model prefers among the planner's
    (:mod:`composer.preferences.harmony`)."""
    prefs = c.spec.preferences
    name = prefs.profile if prefs is not None and prefs.profile and prefs.learned else None
    if name is None or not is_profile_name(name):
        return replace(c, plan=plan_harmony(c.spec, c.need_plan()))
    try:
        model = personal_reward(name)
    except SpecError:  # no such profile, or unreadable: the compose pass says so, as it always has
        return replace(c, plan=plan_harmony(c.spec, c.need_plan()))
    return replace(c, plan=profile_harmony(c.spec, c.need_plan(), model, plan_harmony))


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
    fixed = {sid: fixed_node(seg) for sid, seg in fixed_segments(c).items()}
    choices, t = search(plan, c.graph, gen, config, progress.section_done, fixed=fixed)
    choices |= fixed_choices(plan, c.graph, fixed, choices, config)
    return replace(c, choices=choices, config=config, timings={**c.timings, **t})


def ornament_pass(c: Compilation, progress: Progress) -> Compilation:
    """The style's ornaments and approach tones on every chosen melody
    (:mod:`composer.generators.ornaments`), whichever generator wrote it, kept where the checker
    finds nothing new; the user's own and locked sections are left as they are."""
    plan = c.need_plan()
    skip = frozenset(
        s.id
        for s in plan.sections
        if s.id in c.locked or is_fixed(c.spec, s.name, s.label, s.relation)
    )
    return replace(c, choices=ornament_choices(plan, c.choices, skip))


def fixed_segments(c: Compilation) -> dict[str, Segment]:
    """The sections the search keeps: the user's own melodies (with the band's chords and
    bass under them, as a generator's candidate has) and the sections locked from a
    previous song. SpecError naming ``lock`` for a locked section the plan cannot hold."""
    plan = c.need_plan()
    if c.spec.lock and not c.locked:
        raise SpecError("lock", "keeps sections of a previous song: name it with --from SONG.json")
    bar = plan.meter().bar_ticks
    out: dict[str, Segment] = {}
    for s in plan.sections:
        if not is_fixed(c.spec, s.name, s.label, s.relation):
            continue
        melody = c.material[s.name] if s.name in c.material else c.material[s.label]
        rows, _, _ = section_band(plan, s)
        band = make_notes(rows)
        band = band[(band["track"] == TRACK_CHORDS) | (band["track"] == TRACK_BASS)]
        notes = sort_notes(np.concatenate([melody[melody["onset"] < s.bars * bar], band]))
        out[s.id] = Segment(s.id, notes, "user", 0, {"material": "user"})
    ids = [s.id for s in plan.sections]
    for sid, seg in c.locked.items():
        if sid not in ids:
            raise SpecError("lock", f"no section '{sid}' in the new song ({' '.join(ids)})")
        end = int((seg.notes["onset"] + seg.notes["duration"]).max()) if seg.notes.size else 0
        if end > plan.section(sid).bars * bar:
            raise SpecError(
                "lock",
                f"{sid} is longer in the song it comes from than the "
                f"{plan.section(sid).bars} bars planned",
            )
        out.setdefault(sid, seg)
    return out


def search_config(spec: SongSpec, plan: SongPlan) -> SearchConfig:
    """The search settings of a song: the spec's ``preferences:`` (beam, diversity, learned
    reward on or off) and the reward weights from style, user profile and spec; a profile
    *name* (``compose learn --profile NAME``) composes with that listener's personal reward."""
    prefs = spec.preferences or Preferences()
    listener = prefs.profile if prefs.profile and is_profile_name(prefs.profile) else None
    profile = load_profile(prefs.profile) if prefs.profile and not listener else None
    config = SearchConfig(
        weights=resolve_weights(get_style(plan.style).family, profile, prefs.weights),
        beam=prefs.beam,
        diversity=prefs.diversity,
        model=default_model() if prefs.learned else None,
        adaptive=prefs.adaptive,
    )
    if listener is None:
        return config
    if not prefs.learned:
        raise SpecError(
            "preferences.learned", f"is false, but profile '{listener}' is a learned reward"
        )
    return with_profile(config, listener, prefs.weights)  # the listener's personal reward


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
    drums, bass and comp, the comp under the melody, dynamics and the ending; with a profile,
    each section's energy is the one its personal model prefers
    (:mod:`composer.preferences.arrangement`)."""
    plan, melody = c.need_plan(), song_notes(c)
    model = c.config.model if c.config is not None else None
    if not isinstance(model, PersonalModel):  # no profile: the form's energies
        return replace(c, notes=arrange_song(plan, melody))
    energies = profile_energies(plan, melody, model)  # the listener's arrangement
    return replace(c, notes=arrange_song(plan, melody, energies), energies=tuple(energies))


def render_pass(c: Compilation, progress: Progress) -> Compilation:
    """The MIDI file of the performed song: swing, strums and (unless ``quantized``) seeded
    humanisation over the arranged notes, each section on its own stream
    (:mod:`composer.sections`), and the final ritardando as tempo changes."""
    plan = c.need_plan()
    parts = perform_song(plan, song_notes(c), quantized=bool(c.spec.quantized))
    midi = song_midi(plan, join(parts))
    return replace(c, midi=midi, performed=tuple(parts))


def song_midi(plan: SongPlan, played: np.ndarray) -> bytes:
    """The MIDI file of a song's played notes: the plan's keys, tracks and final ritardando,
    after the style's count-in where it has one (``plan.count_in``): a pre-roll of drum clicks
    before bar 1, which a ``bar 1`` marker names (the song's notes start there)."""
    meter = plan.meter()
    lead, clicks = count_in(song_style(plan), meter, plan.count_in, plan.tempo)
    keys = [(plan.section_start_tick(s) + lead, s.key_obj()) for s in plan.sections]
    tracks = [(t.name, t.program, t.channel) for t in plan.tracks]
    total = plan.total_bars * meter.bar_ticks
    markers: list[tuple[int, str]] = []
    if lead:
        keys[0] = (0, keys[0][1])
        played = sort_notes(np.concatenate([make_notes(clicks), shift(played, ticks=lead)]))
        markers = [(0, COUNT_IN_MARKER), (lead, BAR_ONE_MARKER)]
    return write_midi(
        plan.title,
        plan.tempo,
        meter,
        keys,
        tracks,
        played,
        total + lead,
        tempos=[(t + lead, bpm) for t, bpm in ritardando(plan.tempo, meter, total)],
        markers=markers,
    )


Pass = Callable[[Compilation, Progress], Compilation]
PASSES: list[tuple[str, Pass]] = [
    ("material", material_pass),
    ("parse", parse_pass),
    ("form", form_pass),
    ("keys", keys_pass),
    ("harmony", harmony_pass),
    ("melody", melody_pass),
    ("compose", compose_pass),
    ("ornament", ornament_pass),
    ("arrange", arrange_pass),
    ("render", render_pass),
]
PLANNING = ("parse", "form", "keys", "harmony", "melody")
PRE_PLAN = ("material",)  # passes that run before a plan exists (the invariants start after parse)


def compile_song(
    spec: SongSpec,
    *,
    progress: Progress | None = None,
    debug: bool = False,
    stop_after: str | None = None,
    locked: Mapping[str, Segment] | None = None,
) -> Compilation:
    """Run the passes in order (up to ``stop_after``, inclusive) and return the compilation.
    ``locked``: sections kept from a previous song (id -> its chosen candidate's notes)."""
    progress = progress or Silent()
    c = Compilation(spec=spec, locked=dict(locked or {}))
    for name, fn in PASSES:
        progress.pass_started(name)
        t0 = time.perf_counter()
        c = fn(c, progress)
        c = replace(c, timings={**c.timings, name: time.perf_counter() - t0})
        if debug and name not in PRE_PLAN:
            validate(c, name)
        if name == stop_after:
            break
    return c
