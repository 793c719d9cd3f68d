"""Revise, don't restart: recompose some sections of a song and keep every other note for note.

    from composer.app.revise import load_song, revise
    song = load_song("song.json")                # the report compose wrote (or its .mid)
    new = revise(song, ["B1"], seed=3)           # a Revised: new.song, new.junctions
    new.song.write(["revised.mid"])

A composed song's report holds its state (:mod:`composer.render.songstate`): the plan, the
chosen candidate of every section, the arrangement and the played notes. :func:`revise` runs the
lattice search (:mod:`composer.search.lattice`) with every kept section as a *fixed node*, so a
recomposed section is generated with its real neighbours as context and scored with the
junctions on both sides; kept sections keep their arranged and played notes byte for byte
(each section is performed on its own stream, :mod:`composer.sections`).

What a section's ``part`` means:

- ``all`` (default): a new melody (the search) and a new band (comp, bass, drums);
- ``melody``: a new melody; the band is the same patterns, the comp moved under the new tune;
- ``accompaniment``: the same melody and drums, a new comp and bass;
- ``drums``: only new drums.

Repeats and variations of a recomposed melody are recomposed with it (they follow their
source) unless ``unlink``: then they keep their notes and become new material in the plan, and
a recomposed repeat or variation is composed as new material instead of from its source.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import networkx as nx
import numpy as np
from pydantic import ValidationError

from composer.app.api import Song
from composer.app.output import report_path
from composer.arrange import Energy, arrange_song
from composer.compilation import Progress, Silent
from composer.generators.ornaments import ornament_choices
from composer.generators.registry import get_generator
from composer.pipeline import compile_song, song_midi, song_notes
from composer.render.report import (
    PLAN_FIELDS,
    ChordReport,
    Report,
    SectionReport,
    build_report,
    choice_report,
)
from composer.render.songstate import (
    FORMAT_VERSION,
    Revision,
    SectionState,
    SongState,
    encode_notes,
)
from composer.reward_model import default_model
from composer.search.batch import Choice, Scored
from composer.search.junction import boundary, song_seams
from composer.search.lattice import SearchConfig, search
from composer.search.rewards import resolve_weights
from composer.search.similarity import melody, motif_set
from composer.sections import join, owned, perform_section
from composer.segment import Segment
from grammar.errors import SpecError, shorten
from grammar.paths import input_problem
from grammar.spec import SongSpec, validate_spec
from kernels.notes import TRACK_BASS, TRACK_CHORDS, TRACK_DRUMS, TRACK_MELODY, shift, sort_notes
from planners.plan import SectionPlan, SongPlan
from planners.seeding import rng_for
from planners.styles import get_style

Part = Literal["all", "melody", "accompaniment", "drums"]
PARTS: tuple[str, ...] = ("all", "melody", "accompaniment", "drums")
# The tracks a part's revision takes from the new arrangement (the rest stay as they were).
BAND_TRACKS: dict[str, tuple[int, ...]] = {
    "all": (TRACK_MELODY, TRACK_CHORDS, TRACK_BASS, TRACK_DRUMS),
    "melody": (TRACK_MELODY, TRACK_CHORDS, TRACK_BASS, TRACK_DRUMS),
    "accompaniment": (TRACK_CHORDS, TRACK_BASS),
    "drums": (TRACK_DRUMS,),
}
ATTEMPTS = 4  # seeds tried before saying a section cannot change (a style with one pattern)
MAX_SONG_BYTES = 64_000_000  # a report with its state: ~30 bytes a note, 1024 bars fit easily


@dataclass(frozen=True)
class Revised:
    """A revision: the new ``song`` (its report holds the new state, so it can be revised
    again), the sections whose notes were made again, the seed used, and the junction of every
    seam next to a recomposed section, before and after (``'A2|B1' -> {'before': {lead, voice,
    seam, junction}, 'after': {...}}``)."""

    song: Song
    recomposed: tuple[str, ...]
    seed: int
    junctions: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)


def load_song(path: str | Path) -> Song:
    """A composed song from its report (``song.json``) or its MIDI file (the report beside it
    is read); SpecError naming ``song`` if it is not one compose wrote."""
    p = Path(path)
    if p.suffix.lower() in (".mid", ".midi"):
        p = report_path(p)
    problem = input_problem(p)
    if problem is not None:
        raise SpecError("song", problem)
    if p.stat().st_size > MAX_SONG_BYTES:
        raise SpecError("song", f"'{shorten(p, 120)}' is larger than {MAX_SONG_BYTES:,} bytes")
    try:
        data = json.loads(p.read_bytes())
    except (ValueError, OSError):
        raise SpecError("song", f"'{shorten(p, 120)}' is not a JSON report of compose") from None
    if not isinstance(data, dict) or "sections" not in data:
        raise SpecError("song", f"'{shorten(p, 120)}' is not a JSON report of compose")
    state = data.get("song")
    if not isinstance(state, dict):
        raise SpecError(
            "song", f"'{shorten(p, 120)}' holds no song state (an older report): compose it again"
        )
    if state.get("format_version") != FORMAT_VERSION:
        raise SpecError(
            "song",
            f"song state format {shorten(state.get('format_version'))}, this version reads "
            f"{FORMAT_VERSION}: compose it again",
        )
    try:
        report = Report.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise SpecError("song", f"'{shorten(p, 120)}': {where}: {err['msg']}") from None
    assert report.song is not None
    return song_of(report)


def song_of(report: Report) -> Song:
    """The Song a report with a state describes: notes and MIDI rebuilt from the state."""
    state = report.song
    if state is None:
        raise SpecError("song", "the report holds no song state: compose it again")
    try:
        arranged = [state.notes(s.id, "arranged") for s in state.sections]
        played = [state.notes(s.id, "performed") for s in state.sections]
    except ValueError as exc:
        raise SpecError("song", f"song state: {exc}") from None
    if [s.id for s in state.sections] != [s.id for s in state.plan.sections]:
        raise SpecError("song", "song state: its sections are not the plan's")
    notes = sort_notes(np.concatenate(arranged))
    return Song(state.plan, notes, song_midi(state.plan, join(played)), report)


def _graph(plan: SongPlan, edges: Sequence[tuple[str, str, str]]) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    for s in plan.sections:
        graph.add_node(s.id, label=s.label, name=s.name, role=s.role, index=s.index)
    for u, v, k in edges:
        graph.add_edge(u, v, key=k)
    return graph


def _targets(
    plan: SongPlan, graph: nx.MultiDiGraph, asked: Sequence[str], part: str, unlink: bool
) -> list[str]:
    """The sections recomposed, in time order: the asked ones, and (a new melody, not
    unlinked) every repeat or variation of one, transitively."""
    ids = [s.id for s in plan.sections]
    if not asked:
        raise SpecError("--section", "name at least one section to revise")
    for sid in asked:
        if sid not in ids:
            raise SpecError(
                "--section", f"no section '{shorten(sid)}' in the song ({' '.join(ids)})"
            )
    out = set(asked)
    if part in ("all", "melody") and not unlink:
        todo = list(asked)
        while todo:
            sid = todo.pop()
            for _, v, k in graph.out_edges(sid, keys=True):
                if k in ("repeats", "varies") and v not in out:
                    out.add(v)
                    todo.append(v)
        for sid in asked:
            s = plan.section(sid)
            if s.relation == "repeats" and s.source not in out:
                raise SpecError(
                    "--section",
                    f"{sid} repeats {s.source}: revise {s.source} (its repeats follow), or "
                    f"pass --unlink to compose {sid} as new material",
                )
    return [i for i in ids if i in out]


def _unlinked(
    plan: SongPlan, graph: nx.MultiDiGraph, recomposed: set[str]
) -> tuple[SongPlan, nx.MultiDiGraph]:
    """The plan and graph with every material link across the line between recomposed and
    kept sections cut: such a section becomes new material."""
    cut = {
        s.id
        for s in plan.sections
        if s.source is not None and ((s.id in recomposed) != (s.source in recomposed))
    }
    if not cut:
        return plan, graph
    sections = tuple(
        s.model_copy(update={"relation": "new", "source": None}) if s.id in cut else s
        for s in plan.sections
    )
    g = graph.copy()
    for u, v, k in list(g.edges(keys=True)):
        if v in cut and k in ("repeats", "varies"):
            g.remove_edge(u, v, key=k)
    return plan.model_copy(update={"sections": sections}), g


def _config(report: Report, plan: SongPlan) -> SearchConfig:
    """The search settings the song was composed with (its report says them)."""
    s = report.search
    if s is None:
        return SearchConfig(weights=resolve_weights(get_style(plan.style).family, None, None))
    return SearchConfig(
        weights=dict(s.weights),
        beam=s.beam,
        diversity=s.diversity,
        model=default_model() if s.learned_model else None,
        adaptive=s.adaptive,
    )


def _fixed(state: SongState, section: SectionState, old: SectionReport) -> Scored:
    notes = state.notes(section.id)
    seg = Segment(
        section.id, notes, section.generator, section.seed, {"material": section.material}
    )
    return Scored(
        old.choice.candidate,
        seg,
        dict(old.violations),
        dict(old.scores),
        old.choice.junction,
        old.choice.objective,
        motif_set(melody(notes)),
    )


def _seams(plan: SongPlan, segments: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    meter = plan.meter()
    return song_seams(
        [(s.id, segments[s.id], s.bars * meter.bar_ticks) for s in plan.sections],
        meter.beat_ticks,
    )


def _track_mask(notes: np.ndarray, tracks: Sequence[int]) -> np.ndarray:
    return np.isin(notes["track"], list(tracks))


def revise(
    song: Song | str | Path,
    sections: Sequence[str],
    *,
    seed: int | None = None,
    candidates: int | None = None,
    part: str = "all",
    unlink: bool = False,
    progress: Progress | None = None,
) -> Revised:
    """Recompose ``sections`` of ``song`` (a Song, or the path of its report or MIDI) and keep
    every other section's notes (chosen, arranged and played) byte for byte.

    ``seed``: the revision's seed (default: drawn from the song's seed and its revisions so
    far); ``candidates``: per section (default: the song's); ``part``: all, melody,
    accompaniment or drums (see the module docstring); ``unlink``: see the module docstring.
    SpecError (one line, naming the field) for an unknown section or part; nothing is
    written: write ``Revised.song`` yourself."""
    if not isinstance(song, Song):
        song = load_song(song)
    if part not in PARTS:
        raise SpecError("--part", f"'{shorten(part)}' is not one of {', '.join(PARTS)}")
    if candidates is not None and not 1 <= candidates <= 256:
        raise SpecError("--candidates", f"must be 1-256, got {candidates}")
    report = song.report
    state = report.song
    if state is None:
        raise SpecError("song", "the report holds no song state: compose it again")
    old_plan = state.plan
    graph = _graph(old_plan, state.edges)
    targets = _targets(old_plan, graph, list(dict.fromkeys(sections)), part, unlink)
    plan, graph = (old_plan, graph)
    if part in ("all", "melody"):
        plan, graph = _unlinked(old_plan, graph, set(targets))
    first = seed if seed is not None else _default_seed(state, targets)
    old_segments = {s.id: state.notes(s.id) for s in state.sections}
    for attempt in range(ATTEMPTS):
        rseed = first + attempt
        result = _attempt(
            song, plan, graph, targets, set(sections), rseed, candidates, part, progress
        )
        if result is not None:
            new_segments, choices, arranged, performed = result
            break
    else:
        asked = ", ".join(dict.fromkeys(sections))
        raise SpecError(
            "--part",
            f"the {part} of {asked} came out as before with {ATTEMPTS} seeds from {first}: "
            "this style has no other pattern for it",
        )
    junctions = {}
    before, after = _seams(old_plan, old_segments), _seams(plan, new_segments)
    touched = set(targets)
    for a, b in pairwise(plan.sections):
        if a.id in touched or b.id in touched:
            name = boundary(a.id, b.id)
            junctions[name] = {"before": before[name], "after": after[name]}
    new_state = state.model_copy(
        update={
            "plan": plan,
            "edges": [(u, v, k) for u, v, k in graph.edges(keys=True)],
            "sections": [
                s
                if s.id not in touched
                else s.model_copy(
                    update={
                        "generator": choices[s.id].chosen.segment.generator
                        if s.id in choices
                        else s.generator,
                        "seed": choices[s.id].chosen.segment.seed if s.id in choices else s.seed,
                        "material": str(
                            choices[s.id].chosen.segment.provenance.get("material", "new")
                        )
                        if s.id in choices
                        else s.material,
                        "notes": encode_notes(new_segments[s.id]),
                        "arranged": encode_notes(arranged[s.id]),
                        "performed": encode_notes(performed[s.id]),
                    }
                )
                for s in state.sections
            ],
            "revisions": [
                *state.revisions,
                Revision(
                    sections=list(dict.fromkeys(sections)),
                    recomposed=targets,
                    part=part,
                    seed=rseed,
                    unlinked=unlink,
                ),
            ],
        }
    )
    new_report = _report(report, plan, graph, new_state, choices, after)
    new_song = song_of(new_report)
    return Revised(new_song, tuple(targets), rseed, junctions)


def _default_seed(state: SongState, targets: Sequence[str]) -> int:
    rng = rng_for(state.plan.seed, "revise", len(state.revisions), *targets)
    return int(rng.integers(0, 2**31 - ATTEMPTS))


def _attempt(
    song: Song,
    plan: SongPlan,
    graph: nx.MultiDiGraph,
    targets: list[str],
    asked: set[str],
    rseed: int,
    candidates: int | None,
    part: str,
    progress: Progress | None,
) -> (
    tuple[dict[str, np.ndarray], dict[str, Choice], dict[str, np.ndarray], dict[str, np.ndarray]]
    | None
):
    """One try with ``rseed``: the new segments of every section, the Choices of the
    recomposed ones (melody parts), and the recomposed sections' arranged and played notes;
    None if an asked part came out exactly as before."""
    report, state = song.report, song.report.song
    assert state is not None
    olds = {r.id: r for r in report.sections}
    segments = {s.id: state.notes(s.id) for s in state.sections}
    choices: dict[str, Choice] = {}
    if part in ("all", "melody"):
        fixed = {s.id: _fixed(state, s, olds[s.id]) for s in state.sections if s.id not in targets}
        searched = plan.model_copy(
            update={"seed": rseed, "candidates": candidates or plan.candidates}
        )
        gen = get_generator(
            plan.generator, None if plan.checkpoint is None else Path(plan.checkpoint)
        )
        on_section = (progress or Silent()).section_done
        choices, _ = search(searched, graph, gen, _config(report, plan), on_section, fixed=fixed)
        # the recomposed sections get the style's ornaments, as compose's ornament pass gives
        untouched = frozenset(s.id for s in plan.sections if s.id not in targets)
        choices = ornament_choices(searched, choices, untouched)
        for sid in targets:
            segments[sid] = choices[sid].chosen.segment.notes
    tune = sort_notes(
        np.concatenate(
            [shift(segments[s.id], ticks=plan.section_start_tick(s)) for s in plan.sections]
        )
    )
    # the energies the song was arranged with (a profile's own choice, or the form's)
    played = [olds[s.id].arrangement if s.id in olds else None for s in plan.sections]
    energies = (
        [Energy(a.level, a.energy) for a in played if a is not None]
        if all(a is not None for a in played)
        else None
    )
    same_band = arrange_song(plan, tune, energies) if part == "melody" else None
    new_band = (
        None
        if part == "melody"
        else arrange_song(plan.model_copy(update={"seed": rseed}), tune, energies)
    )
    arranged, performed = {}, {}
    for sid in targets:
        sect = plan.section(sid)
        old = state.notes(sid, "arranged")
        if part in ("all", "melody"):
            source = same_band if same_band is not None else new_band
            assert source is not None
            notes = owned(plan, source, sect)
            if sid in asked and np.array_equal(melody(segments[sid]), melody(state.notes(sid))):
                return None
        else:
            assert new_band is not None
            take = BAND_TRACKS[part]
            new = owned(plan, new_band, sect)
            notes = sort_notes(
                np.concatenate([old[~_track_mask(old, take)], new[_track_mask(new, take)]])
            )
            if np.array_equal(notes, old):
                return None
        arranged[sid] = notes
        performed[sid] = perform_section(plan, sect, notes, state.quantized, rseed)
    return segments, choices, arranged, performed


def _report(
    old: Report,
    plan: SongPlan,
    graph: nx.MultiDiGraph,
    state: SongState,
    choices: dict[str, Choice],
    seams: dict[str, dict[str, float]],
) -> Report:
    """The old report with the recomposed sections' entries made again, every section's
    junction recomputed from the new seams, the form graph and the state."""
    from composer.render.report import EdgeReport

    sections = []
    for s, entry in zip(plan.sections, old.sections, strict=True):
        values = [
            seams[boundary(a.id, b.id)]["junction"]
            for a, b in pairwise(plan.sections)
            if s.id in (a.id, b.id)
        ]
        junction = round(float(np.mean(values)), 4) if values else 1.0
        if s.id in choices:
            sections.append(_section_report(s, choices[s.id], entry, junction))
        else:
            choice = entry.choice.model_copy(update={"junction": junction})
            sections.append(
                entry.model_copy(
                    update={"choice": choice, "relation": s.relation, "source": s.source}
                )
            )
    return old.model_copy(
        update={
            "sections": sections,
            "form_graph": [
                EdgeReport(source=u, target=v, relation=k) for u, v, k in graph.edges(keys=True)
            ],
            "files": [],
            "song": state,
        }
    )


def _section_report(
    s: SectionPlan, ch: Choice, old: SectionReport, junction: float
) -> SectionReport:
    choice = choice_report(ch).model_copy(update={"junction": junction})
    return SectionReport(
        **s.model_dump(include=PLAN_FIELDS),
        chords=[
            ChordReport(bar=e.bar, beat=e.beat, symbol=e.symbol, roman=e.roman) for e in s.chords
        ],
        scores={k: round(v, 4) for k, v in ch.chosen.rewards.items()},
        violations=ch.chosen.violations,
        choice=choice,
        arrangement=old.arrangement,
    )


def check_part(part: str) -> str:
    """``part`` if it names one; SpecError naming --part otherwise."""
    if part not in PARTS:
        raise SpecError("--part", f"'{shorten(part)}' is not one of {', '.join(PARTS)}")
    return part


def compose_from(
    spec: SongSpec | dict[str, Any],
    base: Song | str | Path,
    *,
    progress: Progress | None = None,
    debug: bool = False,
) -> Song:
    """Compose ``spec`` anew, keeping the sections its ``lock:`` names from ``base`` (a Song or
    the path of its report): their chosen notes are fixed nodes of the search (the melody
    note for note; the band is the new spec's, which is the same band when the style, seed and
    chords are). SpecError naming ``lock`` for an id that is not in both songs or no longer
    fits its section."""
    if not isinstance(base, Song):
        base = load_song(base)
    spec = spec if isinstance(spec, SongSpec) else validate_spec(spec)
    state = base.report.song
    assert state is not None  # load_song and song_of refuse a report without one
    ids = [s.id for s in state.sections]
    locked = {}
    for sid in spec.lock:
        if sid not in ids:
            raise SpecError("lock", f"no section '{shorten(sid)}' in the song ({' '.join(ids)})")
        s = state.section(sid)
        locked[sid] = Segment(sid, state.notes(sid), s.generator, s.seed, {"material": "locked"})
    planned = compile_song(spec, stop_after="harmony").need_plan()
    if locked and planned.meter() != state.plan.meter():
        raise SpecError(
            "lock", f"the song is in {planned.time_signature}, the locked sections in "
            f"{state.plan.time_signature}"
        )  # fmt: skip
    c = compile_song(spec, progress=progress, debug=debug, locked=locked)
    assert c.plan is not None and c.config is not None
    return Song(plan=c.plan, notes=song_notes(c), midi=c.midi, report=build_report(c, c.config))
