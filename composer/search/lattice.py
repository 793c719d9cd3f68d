"""Stitching: a beam search over partial songs through the lattice of candidates.

A *path* is a choice of one candidate for every section generated so far. Sections are visited
in generation order (a source before what repeats or varies it; otherwise time order), and a
path carries its own chosen segments, so every dependency stays exact: each path's candidates
for the next section are generated with *that path's* previous section and source as context
(``GenerationContext.previous`` / ``.source``), repeats are spliced from *that path's* source,
and novelty is measured against *that path's* other sections.

Per section every path of the beam proposes ``candidates`` candidates, checked in one batched
kernel call and scored (:mod:`composer.search.batch`), and is extended by its best ``beam``
survivors. Paths whose context is the same *for the generator* share one proposal: a generator
may define ``condition_key(section, context)``, a hashable value of everything it reads from the
context; paths with equal keys get the same candidates (generated once, for the first of them),
each path still checking, scoring and ranking them against its own song. For the
``transformer`` generator an all-new section then samples once for the whole beam instead of
once per path (the beam's paths differ in the melodies chosen, which it does not read there).
A candidate's objective is
``(1 - JUNCTION_WEIGHT) * reward total + JUNCTION_WEIGHT * junction`` with the junction
(:mod:`composer.search.junction`) against its neighbours in time already chosen on the path; a
path's
score is the bar-weighted sum of its sections' objectives. The ``beam`` best paths, fewest hard
violations first, survive. Cost: ``beam * candidates`` candidates per section, so it grows
linearly with the song. ``beam = 1`` is greedy left-to-right stitching. (Sharing one budget of
``candidates`` among the paths was measured too: each path then sees only a few candidates and
the songs scored lower than greedy best-of-16; see the README's alignment table.)
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from functools import partial

import networkx as nx
import numpy as np

from composer.generators.base import GenerationContext, SectionGenerator
from composer.reward_model import SegmentScorer
from composer.search import adaptive
from composer.search.band_rewards import played_band
from composer.search.batch import (
    JUNCTION_WEIGHT,
    Batch,
    Choice,
    Scored,
    SongContext,
    check,
    rank,
    score_batch,
)
from composer.search.junction import junction
from composer.search.material import source_in_key, splice_repeat
from composer.search.similarity import melody, motif_set
from composer.segment import Segment
from grammar.errors import GeneratorError
from kernels.notes import NOTE_DTYPE, TRACK_MELODY, validate_notes
from planners.form import generation_order
from planners.plan import SectionPlan, SongPlan
from planners.seeding import rng_for
from planners.styles import get_style

# Novelty is measured against the material of at most this many other labels (the nearest
# before the section): forms rarely have more, and it keeps each section's context bounded.
NOVELTY_LABELS = 8


@dataclass(frozen=True)
class SearchConfig:
    """How hard and how wide to search. ``beam``: paths kept (1 = greedy). ``diversity``:
    0..1, how far from the argmax the search may stray and how similar two candidates may be
    (see :func:`composer.search.batch.rank`). ``weights``: reward weights
    (:func:`composer.search.rewards.resolve_weights`). ``model``: the learned reward, or None."""

    weights: Mapping[str, float]
    beam: int = 4
    diversity: float = 0.25
    model: SegmentScorer | None = None
    adaptive: bool = False  # candidates in rounds until one leads (composer.search.adaptive)


@dataclass(frozen=True)
class PartialSong:
    """One path of the beam: the candidate chosen for each section so far, and its score."""

    chosen: dict[str, Scored] = field(default_factory=dict)
    batches: dict[str, Batch] = field(default_factory=dict)
    score: float = 0.0  # bar-weighted sum of objectives
    hard: int = 0  # hard violations of the chosen candidates
    key: float = 0.0  # score plus the search's noise: what paths are ranked by
    bars: int = 0  # bars chosen so far


def _seam(plan: SongPlan, path: PartialSong, sect: SectionPlan, notes: np.ndarray) -> float:
    """Mean junction of ``notes`` (for ``sect``) with its neighbours in time already on the
    path; 1 if it has none yet."""
    meter = plan.meter()
    values = []
    if sect.index > 0:
        prev = plan.sections[sect.index - 1]
        if prev.id in path.chosen:
            p = path.chosen[prev.id].segment.notes
            values.append(junction(p, prev.bars * meter.bar_ticks, notes, meter.beat_ticks))
    if sect.index + 1 < len(plan.sections):
        nxt = plan.sections[sect.index + 1]
        if nxt.id in path.chosen:
            n = path.chosen[nxt.id].segment.notes
            values.append(junction(notes, sect.bars * meter.bar_ticks, n, meter.beat_ticks))
    return float(np.mean(values)) if values else 1.0


def _context(
    plan: SongPlan,
    graph: nx.MultiDiGraph,
    path: PartialSong,
    sect: SectionPlan,
    source: Segment | None,
) -> SongContext:
    """Motif sets of the path's chosen sections of other labels (one per label: its first
    chosen section; the NOVELTY_LABELS labels nearest before this section, so the context and
    the cost per section stay bounded) and of the sections this one contrasts."""
    firsts: dict[str, Scored] = {}
    for s in plan.sections[: sect.index][::-1]:
        if len(firsts) == NOVELTY_LABELS:
            break
        if s.id in path.chosen and s.label != sect.label:
            firsts[s.label] = path.chosen[s.id]  # walking back: the label's first one wins
    contrasts = [u for u, _, k in graph.in_edges(sect.id, keys=True) if k == "contrasts"]
    verses, peak = [], None
    for s in plan.sections[: sect.index]:
        if s.id not in path.chosen:
            continue
        notes = path.chosen[s.id].segment.notes
        mel = notes[notes["track"] == TRACK_MELODY]["pitch"]
        if mel.size:
            peak = max(peak or 0, int(mel.max()))
            if s.role == "verse":
                verses.append(mel.astype(np.float64))
    choruses = [s.index for s in plan.sections if s.role in ("chorus", "refrain")]
    return SongContext(
        beats_per_bar=plan.meter().bar_ticks // plan.meter().beat_ticks,
        style=get_style(plan.style).family,  # the core style whose targets it shares
        source=source,
        others=[s.motifs for s in firsts.values()],
        contrasts=[path.chosen[u].motifs for u in contrasts if u in path.chosen],
        band=played_band(plan, sect),
        meter=plan.meter(),
        hook=plan.hook,
        verse_pitch=float(np.concatenate(verses).mean()) if verses else None,
        song_peak=peak,
        last_chorus=bool(choruses) and sect.index == choruses[-1],
    )


def search(
    plan: SongPlan,
    graph: nx.MultiDiGraph,
    gen: SectionGenerator,
    config: SearchConfig,
    on_section: object = None,
    fixed: Mapping[str, Scored] | None = None,
) -> tuple[dict[str, Choice], dict[str, float]]:
    """The best path through the lattice: a Choice per section, and seconds per sub-step
    (generate, check, score, stitch). ``on_section(done, total, section_id)`` reports progress.

    ``fixed``: sections already decided (``compose revise`` keeps them note for note): fixed
    nodes of the lattice, on every path from the start, never generated again. They are the
    context of the others (previous section, source, novelty), and a candidate next to one is
    scored with the junctions on both sides. Only the other sections get a Choice."""
    bar_ticks = plan.meter().bar_ticks
    fixed = dict(fixed or {})
    order = [sid for sid in generation_order(graph) if sid not in fixed]
    beam: list[PartialSong] = [PartialSong(chosen=fixed)]
    proposed: dict[str, int] = {}
    condition_key = getattr(gen, "condition_key", None)
    t = dict.fromkeys(("generate", "check", "score", "stitch"), 0.0)
    for k, sid in enumerate(order):
        sect = plan.section(sid)
        rng = rng_for(plan.seed, "generate", sid)
        noise = rng_for(plan.seed, "search", sid)
        grown: list[PartialSong] = []
        shared: dict[Hashable, list[Segment]] = {}  # condition key -> the candidates proposed
        memo: dict[int, tuple[np.ndarray, dict[str, float], int]] = {}  # band features
        for path in beam:
            t0 = time.perf_counter()
            prev = plan.sections[sect.index - 1] if sect.index else None
            previous = path.chosen[prev.id].segment if prev and prev.id in path.chosen else None
            source = None
            if sect.source is not None:
                src = plan.section(sect.source)
                source = source_in_key(path.chosen[sect.source].segment, src, sect, bar_ticks)
            variant = 1 if sect.relation == "varies" else 0
            ctx = GenerationContext(plan, source, previous, variant)
            key = condition_key(sect, ctx) if callable(condition_key) else None
            context = _context(plan, graph, path, sect, source)
            cands = shared.get(key, []) if key is not None else []
            scored: list[Scored] | None = None
            if not cands:
                if config.adaptive and adaptive.applies(plan, sect):
                    score = partial(_score, sect, plan, source, previous, context, config, memo)
                    cands, scored = adaptive.propose(gen, plan, sect, ctx, rng, score)
                else:
                    cands = gen.generate(sect, ctx, plan.candidates, rng)
                _check_candidates(gen.name, sid, cands, sect.bars * bar_ticks)
                proposed[sid] = proposed.get(sid, 0) + len(cands)
                if key is not None:
                    shared[key] = cands
            if sect.relation == "repeats" and source is not None:
                src = plan.section(sect.source or "")
                cands = splice_repeat(cands, source, sect, src, bar_ticks)
            t1 = t2 = time.perf_counter()
            if scored is None:
                result = check(cands, sect, plan, source, previous)
                t2 = time.perf_counter()
                scored = score_batch(
                    result, cands, sect, context, config.weights, config.model, memo
                )
            t3 = time.perf_counter()
            batch = rank(_seamed(plan, path, sect, scored), config.diversity, noise)
            for s in batch.ranked[: config.beam]:
                grown.append(_extend(path, sid, s, batch, sect.bars))
            t4 = time.perf_counter()
            for name, dt in zip(t, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                t[name] += dt
        grown.sort(key=lambda p: (p.hard, -p.key))
        beam = grown[: config.beam]
        if callable(on_section):
            on_section(k + 1, len(order), sid)
    t0 = time.perf_counter()
    choices = _choices(beam, proposed)
    t["stitch"] += time.perf_counter() - t0
    return choices, t


def _score(
    sect: SectionPlan,
    plan: SongPlan,
    source: Segment | None,
    previous: Segment | None,
    context: SongContext,
    config: SearchConfig,
    memo: dict[int, tuple[np.ndarray, dict[str, float], int]],
    cands: list[Segment],
) -> list[Scored]:
    """Check and score ``cands`` on one path (what the search does with a proposal)."""
    result = check(cands, sect, plan, source, previous)
    return score_batch(result, cands, sect, context, config.weights, config.model, memo)


def _seamed(
    plan: SongPlan, path: PartialSong, sect: SectionPlan, scored: list[Scored]
) -> list[Scored]:
    """Every candidate with its junction against the path and its objective filled in."""
    out = []
    for s in scored:
        j = _seam(plan, path, sect, s.segment.notes)
        obj = (1 - JUNCTION_WEIGHT) * s.rewards["total"] + JUNCTION_WEIGHT * j
        out.append(Scored(s.index, s.segment, s.violations, s.rewards, j, obj, s.motifs))
    return out


def _extend(path: PartialSong, sid: str, s: Scored, batch: Batch, bars: int) -> PartialSong:
    return PartialSong(
        {**path.chosen, sid: s},
        {**path.batches, sid: batch},
        path.score + bars * s.objective,
        path.hard + s.hard,
        path.key + bars * (s.objective + batch.noise.get(s.index, 0.0)),
        path.bars + bars,
    )


def _choices(beam: list[PartialSong], proposed: dict[str, int]) -> dict[str, Choice]:
    """Per section of the best path: the chosen candidate, the best other candidate of its
    batch (fewest hard violations, then objective), and the path margin: per bar, how much
    better the best path is than the best surviving path as clean (as few hard violations)
    that chose differently there (negative only when the diversity noise preferred it)."""
    best = beam[0]
    out = {}
    for sid, s in best.chosen.items():
        if sid not in best.batches:  # a fixed node: not chosen by this search
            continue
        batch = best.batches[sid]
        others = sorted(
            (o for o in batch.scored if o.index != s.index),
            key=lambda o: (o.hard, -o.objective, o.index),
        )
        rivals = [
            p.score
            for p in beam[1:]
            if p.hard == best.hard and p.chosen[sid].segment is not s.segment
        ]
        out[sid] = Choice(
            s,
            others[0] if others else None,
            len(batch.scored),
            batch.pruned,
            batch.duplicates,
            batch.diversity,
            (best.score - max(rivals)) / best.bars if rivals else None,
            proposed[sid],
        )
    return out


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


def fixed_node(segment: Segment) -> Scored:
    """A kept section as a fixed node of the lattice: its notes (and melody motifs, the
    novelty context of the others); scored afterwards by :func:`fixed_choices`."""
    return Scored(0, segment, {}, {"total": 0.0}, motifs=motif_set(melody(segment.notes)))


def fixed_choices(
    plan: SongPlan,
    graph: nx.MultiDiGraph,
    fixed: Mapping[str, Scored],
    chosen: Mapping[str, Choice],
    config: SearchConfig,
) -> dict[str, Choice]:
    """A Choice for every fixed node, once the song around it is chosen: checked and scored
    like a candidate (the only one), with its junctions against its final neighbours."""
    path = PartialSong(chosen={**fixed, **{k: c.chosen for k, c in chosen.items()}})
    out = {}
    for sid, node in fixed.items():
        sect = plan.section(sid)
        result = check([node.segment], sect, plan, None, None)
        context = _context(plan, graph, path, sect, None)
        s = score_batch(result, [node.segment], sect, context, config.weights, config.model)[0]
        j = _seam(plan, path, sect, node.segment.notes)
        obj = (1 - JUNCTION_WEIGHT) * s.rewards["total"] + JUNCTION_WEIGHT * j
        scored = Scored(0, node.segment, s.violations, s.rewards, j, obj, s.motifs)
        out[sid] = Choice(scored, None, 1, 0, proposed=1)
    return out
