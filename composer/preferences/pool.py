"""Pools of items to rate: candidates of every section of composed songs, as item rows.

The simulated listeners (:mod:`composer.preferences.listeners`) and the benchmark rate pairs
drawn from such a pool, and the studio can draw its next A/B pair from one
(:func:`composer.preferences.active.next_pair`). A song is composed once; then every section
gets ``per_section`` fresh candidates from the song's generator in the context the search gave
it (the chosen previous section and source), checked in one kernel call. Each candidate is
heard with the band the song plays there: its drums are the arranged song's drums of that
section (the search's candidates carry melody, chords and bass only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from composer.arrange import section_band, section_energies
from composer.compilation import Compilation
from composer.generators.base import GenerationContext
from composer.generators.registry import get_generator
from composer.pipeline import compile_song, song_notes
from composer.preferences.arrangement import variants
from composer.preferences.features import drum_density, item_features, notes_features
from composer.search.batch import check, section_arrays
from composer.search.material import source_in_key
from grammar.spec import validate_spec
from kernels.notes import TRACK_DRUMS
from planners.plan import SectionPlan, SongPlan
from planners.seeding import rng_for


@dataclass(frozen=True)
class Pool:
    """``features``: ``(n, len(ITEM_FEATURES))`` item rows; ``group``: the section each row is
    a candidate of (an index into ``sections``); ``sections``: ``(song index, section id)``."""

    features: np.ndarray
    group: np.ndarray
    sections: tuple[tuple[int, str], ...]

    def __len__(self) -> int:
        return int(self.features.shape[0])


@dataclass(frozen=True)
class SectionCandidates:
    """Fresh candidates of one section of a composed song: their notes (with the band they
    carry, ticks from the section start), kernel feature rows as the search computes them (in
    context) and the drum hits per bar of the arranged song there."""

    section: SectionPlan
    notes: tuple[np.ndarray, ...]
    kernel: np.ndarray
    drums: float | np.ndarray  # one for all candidates, or one each

    @property
    def items(self) -> np.ndarray:
        return item_features(self.kernel, self.section.key_obj().tonic, self.drums)


def arrangement_drums(plan: SongPlan, sect: SectionPlan) -> list[float]:
    """Drum hits per bar of the section arranged at each energy a profile may choose there
    (:func:`composer.preferences.arrangement.variants`: the form's first)."""
    form = section_energies(plan)
    out = []
    for v in variants(form[sect.index]):
        rows, _, _ = section_band(
            plan, sect, energies=[*form[: sect.index], v, *form[sect.index + 1 :]]
        )
        out.append(sum(1 for r in rows if r[4] == TRACK_DRUMS) / sect.bars)
    return out


def song_candidates(
    c: Compilation, per_section: int, seed: int = 0, tag: str = "", arrangements: bool = False
) -> list[SectionCandidates]:
    """``per_section`` fresh candidates of every section of composed song ``c``, proposed by its
    generator in the context the search chose (previous section and source). ``arrangements``:
    candidate ``k`` is heard with the drums of the section's ``k``-th arrangement variant in
    turn (:func:`arrangement_drums`), so two candidates of one section can differ in drums too,
    as a pair would that varies the arrangement; else every one with the song's drums."""
    plan = c.need_plan()
    notes = song_notes(c)
    bar_ticks = plan.meter().bar_ticks
    gen = get_generator(plan.generator, None if plan.checkpoint is None else Path(plan.checkpoint))
    out = []
    for sect in plan.sections:
        previous = (
            c.choices[plan.sections[sect.index - 1].id].chosen.segment if sect.index else None
        )
        source = None
        if sect.source is not None:
            src = plan.section(sect.source)
            source = source_in_key(c.choices[sect.source].chosen.segment, src, sect, bar_ticks)
        ctx = GenerationContext(plan, source, previous, 1 if sect.relation == "varies" else 0)
        cands = gen.generate(sect, ctx, per_section, rng_for(seed, "pool", f"{tag}/{sect.id}"))
        result = check(cands, sect, plan, source, previous)
        start = plan.section_start_tick(sect)
        inside = (notes["onset"] >= start) & (notes["onset"] < start + sect.bars * bar_ticks)
        drums: float | np.ndarray = drum_density(notes[inside], sect.bars)
        if arrangements:
            heard = arrangement_drums(plan, sect)
            drums = np.array([heard[k % len(heard)] for k in range(len(cands))])
        out.append(SectionCandidates(sect, tuple(x.notes for x in cands), result.features, drums))
    return out


def build_pool(
    specs: Sequence[dict[str, Any]], per_section: int = 8, seed: int = 0, arrangements: bool = False
) -> Pool:
    """Compose each spec, then propose ``per_section`` candidates for each of its sections
    (``arrangements``: heard with the section's arrangement variants, :func:`song_candidates`)."""
    rows: list[np.ndarray] = []
    groups: list[int] = []
    sections: list[tuple[int, str]] = []
    for k, data in enumerate(specs):
        c = compile_song(validate_spec(data))
        for sc in song_candidates(c, per_section, seed, str(k), arrangements):
            rows.append(sc.items)
            groups.extend([len(sections)] * len(sc.notes))
            sections.append((k, sc.section.id))
    return Pool(np.concatenate(rows), np.array(groups, dtype=np.int64), tuple(sections))


def random_pairs(
    n_items: int, n_pairs: int, rng: np.random.Generator, group: np.ndarray | None = None
) -> np.ndarray:
    """``(n_pairs, 2)`` distinct item index pairs drawn uniformly (within one group each when
    ``group`` is given: two candidates of the same section)."""
    if n_items < 2:
        raise ValueError("a pool of pairs needs at least 2 items")
    if group is None:
        a = rng.integers(0, n_items, n_pairs)
        b = (a + rng.integers(1, n_items, n_pairs)) % n_items
        return np.stack([a, b], axis=1)
    out = []
    members = [np.flatnonzero(group == g) for g in np.unique(group)]
    members = [m for m in members if m.size >= 2]
    if not members:
        raise ValueError("no group has two items")
    for g in rng.integers(0, len(members), n_pairs):
        a, b = rng.choice(members[g], 2, replace=False)
        out.append((a, b))
    return np.array(out, dtype=np.int64)


def song_items(c: Compilation) -> tuple[np.ndarray, np.ndarray]:
    """Item rows of a composed song's chosen sections, as the listener hears them (each with
    the arranged song's drums there), and each section's bars (for bar-weighted means)."""
    plan = c.need_plan()
    notes = song_notes(c)
    bar_ticks = plan.meter().bar_ticks
    rows = []
    for sect in plan.sections:
        start = plan.section_start_tick(sect)
        inside = (notes["onset"] >= start) & (notes["onset"] < start + sect.bars * bar_ticks)
        seg = c.choices[sect.id].chosen.segment.notes
        row = notes_features([seg], section_arrays(sect, plan))
        row[:, -1] = drum_density(notes[inside], sect.bars)
        rows.append(row)
    return np.concatenate(rows), np.array([s.bars for s in plan.sections], dtype=np.float64)
