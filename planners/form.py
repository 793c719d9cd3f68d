"""The form pass: a spec's form string -> ordered sections and the form graph.

The form graph is a networkx ``MultiDiGraph`` over section ids (a multigraph because one pair of
sections can both follow and repeat each other: ``A1 -> A2``). Edge keys are the relation:

- ``follows``: time order, ``A1 -> A2 -> B1 -> A3``;
- ``repeats``: the same material again (``A3`` repeats ``A1``);
- ``varies``: derived material (``A'`` varies ``A``);
- ``contrasts``: a new label against each earlier new label (``B1`` contrasts ``A1``).

Generation order is a topological order of the material edges (repeats, varies), ties broken by
time, so a source is always composed before the sections that reuse it.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import networkx as nx

from grammar.brief.apply import Reading, read_prompt
from grammar.chords import bar_texts
from grammar.errors import GrammarError, SpecError
from grammar.forms import FormItem, parse_form
from grammar.keys import parse_key
from grammar.spec import SECTION_BARS_RANGE, SongSpec
from kernels.notes import DRUM_CHANNEL
from planners.brief import form_for_length, length_bars, prompt_defaults
from planners.plan import Relation, SectionPlan, SongPlan, TrackPlan
from planners.styles import (
    DEFAULT_CANDIDATES,
    DEFAULT_GENERATOR,
    DEFAULT_TITLE,
    STYLES,
    feel_swing,
    get_style,
    is_style_path,
)
from planners.styles.files import KITS

DEFAULT_FORM = "AABA"
MAX_TOTAL_BARS = 1024  # ~40 minutes at 100 bpm in 4/4: past that a request is a typo
SHORT_ROLES = {"intro": 4, "outro": 4, "coda": 4, "tag": 2, "break": 2}
DEFAULT_BARS = 8
MATERIAL = ("repeats", "varies")
CONTRASTING_ROLES = ("bridge", "episode")


def resolve_song(spec: SongSpec, reading: Reading | None = None) -> SongPlan:
    """Globals of the plan: explicit spec values, else what the prompt's brief says
    (:mod:`planners.brief`), else the style's defaults. No sections yet."""
    if reading is None and spec.prompt:
        spec, reading = read_prompt(spec, STYLES)
    style = get_style(spec.style)
    brief = prompt_defaults(spec, reading, style)
    programs = brief.programs
    tracks: tuple[TrackPlan, ...] = (
        TrackPlan(name="Melody", role="melody", program=programs[0], channel=0),
        TrackPlan(name="Chords", role="chords", program=programs[1], channel=1),
        TrackPlan(name="Bass", role="bass", program=programs[2], channel=2),
    )
    asked = reading.brief if reading is not None else None
    # General MIDI drums: channel 10, the kit as its program; "no drums" in the prompt drops them
    if style.drums is not None and (asked is None or asked.drums is not False):
        kit = KITS[style.drums.kit]
        tracks += (TrackPlan(name="Drums", role="drums", program=kit, channel=DRUM_CHANNEL),)
    return SongPlan(
        title=spec.title or DEFAULT_TITLE,
        prompt=spec.prompt,
        # a user's style file is kept as its absolute path, so later passes load the same file
        style=str(Path(spec.style).expanduser().resolve())
        if spec.style and is_style_path(spec.style)
        else style.name,
        key=str(parse_key(spec.key or brief.key or style.key)),
        tempo=spec.tempo or brief.tempo or style.tempo[1],
        time_signature=spec.time_signature or style.time_signature,
        seed=spec.seed if spec.seed is not None else secrets.randbelow(2**31),
        candidates=spec.candidates or DEFAULT_CANDIDATES,
        generator=spec.generator or DEFAULT_GENERATOR,
        # a folder as written (~ and relative to the working directory, like a profile), made
        # absolute so that the report says exactly which model was used
        checkpoint=None
        if spec.checkpoint is None
        else str(Path(spec.checkpoint).expanduser().resolve()),
        melody_low=style.melody_range[0],
        melody_high=style.melody_range[1],
        tracks=tracks,
        swing=feel_swing(asked.feel if asked is not None else None, style),
        count_in=spec.count_in is not False,
        understood=brief.understood,
    )


def letter_roles(items: list[FormItem]) -> dict[str, str]:
    """Roles for letter labels: the first is the theme; a label heard once between returns of
    the theme is the bridge (or an episode when there are several such, as in a rondo)."""
    labels = [it.label for it in items]
    theme = labels[0]
    singles = [
        lab
        for lab in dict.fromkeys(labels)
        if lab != theme and labels.count(lab) == 1 and theme in labels[labels.index(lab) + 1 :]
    ]
    roles: dict[str, str] = {}
    for lab in dict.fromkeys(labels):
        if lab == theme:
            roles[lab] = "theme"
        elif lab in singles:
            roles[lab] = "bridge" if len(singles) == 1 else "episode"
        else:
            roles[lab] = "contrast"
    return roles


def plan_form(spec: SongSpec, song: SongPlan) -> tuple[SongPlan, nx.MultiDiGraph]:
    """Lay out the sections in time (ids, roles, bars, relations) and build the form graph."""
    style = get_style(song.style)
    asked = None if spec.form else length_bars(song.understood, song.tempo, song.time_signature)
    form = spec.form or (
        DEFAULT_FORM if asked is None else form_for_length(asked, 12 if style.blues_form else 8)
    )
    items = parse_form(form)
    labels = {it.label for it in items} | {it.name for it in items}
    for name in spec.sections:
        if name not in labels:
            raise SpecError(
                f"sections.{name}",
                f"no section labelled '{name}' in the form '{form}'",
            )
    roles = letter_roles(items)
    graph = nx.MultiDiGraph()
    sections: list[SectionPlan] = []
    counts: dict[str, int] = {}
    first_of_label: dict[str, str] = {}
    first_of_name: dict[str, str] = {}
    bar = 1
    for index, item in enumerate(items):
        counts[item.label] = counts.get(item.label, 0) + 1
        sid = f"{item.label}{counts[item.label]}"
        names = (item.name, item.label)
        role_set = spec.setting(names, "role")
        role = role_set[1] if role_set else item.role or roles.get(item.label, "theme")
        bars = _section_bars(spec, names, role, style.blues_form)
        relation: Relation = "new"
        source: str | None = None
        if item.name in first_of_name:
            relation, source = "repeats", first_of_name[item.name]
        elif item.label in first_of_label:
            relation, source = "varies", first_of_label[item.label]
        sections.append(
            SectionPlan(
                id=sid,
                label=item.label,
                name=item.name,
                role=role,
                index=index,
                start_bar=bar,
                bars=bars,
                key=song.key,
                relation=relation,
                source=source,
            )
        )
        graph.add_node(sid, label=item.label, name=item.name, role=role, index=index)
        if index:
            graph.add_edge(sections[index - 1].id, sid, key="follows")
        if source is not None:
            graph.add_edge(source, sid, key=relation)
        else:
            for other in first_of_label.values():
                graph.add_edge(other, sid, key="contrasts")
        first_of_label.setdefault(item.label, sid)
        first_of_name.setdefault(item.name, sid)
        bar += bars
    total = bar - 1
    if total > MAX_TOTAL_BARS:
        raise SpecError("form", f"the song would have {total} bars, at most {MAX_TOTAL_BARS}")
    return song.model_copy(update={"sections": tuple(sections)}), graph


def _section_bars(spec: SongSpec, names: tuple[str, str], role: str, blues: bool) -> int:
    """Bars of a section: as set for its name or label, else the length of its chords (a
    progression that fails to parse is reported by the harmony pass, which parses it), else a
    default by role (12 in blues so each section is one chorus of the blues)."""
    bars = spec.setting(names, "bars")
    if bars is not None:
        return int(bars[1])
    chords = spec.setting(names, "chords")
    if chords is not None:
        try:
            n = len(bar_texts(chords[1]))
        except GrammarError:
            n = 0
        if n > SECTION_BARS_RANGE[1]:  # blamed on the chords, not on the form they lengthen
            raise SpecError(chords[0], f"{n} bars of chords, at most {SECTION_BARS_RANGE[1]}")
        if n:
            return n
    if role in SHORT_ROLES:
        return SHORT_ROLES[role]
    return 12 if blues else DEFAULT_BARS


def generation_order(graph: nx.MultiDiGraph) -> list[str]:
    """Section ids in an order where every source precedes what repeats or varies it."""
    material = nx.DiGraph()
    material.add_nodes_from(graph.nodes(data=True))
    material.add_edges_from((u, v) for u, v, k in graph.edges(keys=True) if k in MATERIAL)
    return list(
        nx.lexicographical_topological_sort(material, key=lambda n: graph.nodes[n]["index"])
    )
