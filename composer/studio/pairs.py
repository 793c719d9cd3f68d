"""A/B pairs for a listener to rate: two candidates of one section in the same song, or two
whole songs, with what the ratings store keeps of each (notes and kernel features).

- :func:`section_pair`: the song as the search chose it, and the same song with one section
  replaced by its runner-up (the best other candidate of the chosen one's batch), arranged and
  performed again; every other section is note for note the same. The stored notes are the two
  candidates (section-relative ticks); the features are their rows of
  :func:`composer.search.batch.check` in context (the section it repeats or varies, the section
  before it), as the search computed them.
- :func:`song_pair`: the same spec composed with two seeds. The stored notes are the two songs
  (absolute ticks); the features are the bar-weighted mean over sections of each section's row.

A spec without a seed gets a fresh one (each pair is a new comparison; the seed is stored in
the rating's ``spec`` or, for two songs, its ``details``, so the pair can be made again). Which
of the two is "A" is drawn from the seed, so a listener cannot learn that A is always the
search's choice; ``details`` records it.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from composer.app.api import Song
from composer.compilation import Compilation, Progress, Silent
from composer.pipeline import arrange_pass, compile_song, render_pass
from composer.render.report import build_report
from composer.search.batch import Choice, check
from composer.search.material import source_in_key
from composer.studio.ratings import Rating
from grammar.errors import SpecError
from grammar.spec import SEED_RANGE, SongSpec, merge_overrides
from kernels.features import FEATURES
from planners.plan import SectionPlan
from planners.seeding import rng_for

MAX_DRAW = 10_000  # pairs drawn from one spec (the studio's `draw`)


def fresh_seed() -> int:
    """A seed for a spec without one (stored with the rating, so the pair can be made again);
    leaves room for the second song's seed."""
    return secrets.randbelow(SEED_RANGE[1] - 2 * MAX_DRAW - 1)


@dataclass(frozen=True)
class Side:
    """One side of a pair: the whole song to listen to, and what is stored of it."""

    song: Song
    notes: np.ndarray  # what the rating keeps: the section's candidate, or the whole song
    features: dict[str, float]
    label: str  # "chosen", "runner-up", "seed 7"


@dataclass(frozen=True)
class Pair:
    kind: str  # "section" or "song"
    spec: SongSpec
    a: Side
    b: Side
    section: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def rating(self, outcome: str, tags: Sequence[str] = (), rater: str = "me") -> Rating:
        """The listener's verdict on this pair, ready for the ratings store."""
        return Rating(
            rater=rater,
            kind=self.kind,  # type: ignore[arg-type]  # validated by Rating
            section=self.section,
            spec=self.spec.model_dump(mode="json", exclude_none=True),
            notes_a=self.a.notes,
            notes_b=self.b.notes,
            features_a=self.a.features,
            features_b=self.b.features,
            outcome=outcome,  # type: ignore[arg-type]
            tags=tuple(tags),
            details=self.details,
        )


def song_of(c: Compilation) -> Song:
    assert c.plan is not None and c.notes is not None
    return Song(plan=c.plan, notes=c.notes, midi=c.midi, report=build_report(c, c.config))


def _context(c: Compilation, sect: SectionPlan, choices: dict[str, Choice]) -> tuple[Any, Any]:
    """The source (in this section's key) and the previous section's segment, as chosen."""
    plan = c.need_plan()
    bar_ticks = plan.meter().bar_ticks
    source = None
    if sect.source is not None:
        src = plan.section(sect.source)
        source = source_in_key(choices[sect.source].chosen.segment, src, sect, bar_ticks)
    previous = None
    if sect.index > 0:
        previous = choices[plan.sections[sect.index - 1].id].chosen.segment
    return source, previous


def _named(row: np.ndarray) -> dict[str, float]:
    return {name: float(row[k]) for k, name in enumerate(FEATURES)}


def song_features(c: Compilation) -> dict[str, float]:
    """The bar-weighted mean over sections of each chosen candidate's features in context."""
    plan = c.need_plan()
    choices = dict(c.choices)
    rows, weights = [], []
    for sect in plan.sections:
        source, previous = _context(c, sect, choices)
        result = check([choices[sect.id].chosen.segment], sect, plan, source, previous)
        rows.append(result.features[0])
        weights.append(sect.bars)
    return _named(np.average(np.array(rows), axis=0, weights=weights))


def _seeded(spec: SongSpec, seed: int) -> SongSpec:
    return merge_overrides(spec, {"seed": seed})


def eligible_sections(c: Compilation) -> list[str]:
    """Sections with a runner-up to compare against, the cleanest comparisons first: sections
    that neither follow another (a repeat is mostly its source's notes) nor are followed
    (swapping a source would leave its repeats on the old material)."""
    plan = c.need_plan()
    sources = {s.source for s in plan.sections if s.source is not None}
    ids = [s.id for s in plan.sections if c.choices[s.id].runner_up is not None]
    return sorted(ids, key=lambda sid: (plan.section(sid).source is not None) + (sid in sources))


def section_pair(
    spec: SongSpec,
    section: str | None = None,
    *,
    progress: Progress | None = None,
    draw: int = 0,
) -> Pair:
    """Two candidates of one section in the same song (see the module docstring). ``section``
    None: one drawn (with ``draw``, from the seed) among :func:`eligible_sections`."""
    progress = progress or Silent()
    seed = spec.seed if spec.seed is not None else fresh_seed()
    spec = _seeded(spec, seed)
    c = compile_song(spec, progress=progress)
    plan = c.need_plan()
    ids = eligible_sections(c)
    if section is None:
        if not ids:
            raise SpecError("section", "no section of this song has a second candidate")
        sources = {s.source for s in plan.sections}
        clean = [i for i in ids if plan.section(i).source is None and i not in sources] or ids
        section = clean[int(rng_for(seed, "ab-section", draw).integers(len(clean)))]
    elif section not in {s.id for s in plan.sections}:
        names = ", ".join(s.id for s in plan.sections)
        raise SpecError("section", f"'{section}' is not a section of this song ({names})")
    elif section not in ids:
        raise SpecError("section", f"'{section}' has only one candidate to compare")
    choice = c.choices[section]
    assert choice.runner_up is not None
    swapped = {
        **c.choices,
        section: replace(choice, chosen=choice.runner_up, runner_up=choice.chosen),
    }
    other = replace(c, choices=swapped, notes=None, midi=b"")
    progress.pass_started("arrange")
    other = arrange_pass(other, progress)
    progress.pass_started("render")
    other = render_pass(other, progress)
    sect = plan.section(section)
    source, previous = _context(c, sect, dict(c.choices))
    result = check([choice.chosen.segment, choice.runner_up.segment], sect, plan, source, previous)
    sides = [
        Side(song_of(c), choice.chosen.segment.notes, _named(result.features[0]), "chosen"),
        Side(
            song_of(other), choice.runner_up.segment.notes, _named(result.features[1]), "runner-up"
        ),
    ]
    flip = bool(rng_for(seed, "ab-order", section, draw).integers(2))
    a, b = sides[::-1] if flip else sides
    details = {"seed": seed, "a": a.label, "b": b.label, "draw": draw}
    return Pair("section", spec, a, b, section=section, details=details)


def song_pair(
    spec: SongSpec,
    seeds: tuple[int, int] | None = None,
    *,
    progress: Progress | None = None,
    draw: int = 0,
) -> Pair:
    """The same spec composed with two seeds (default: the spec's seed, or a fresh one, plus
    ``2 * draw``, and the next)."""
    if seeds is None:
        base = spec.seed if spec.seed is not None else fresh_seed()
        base += 2 * draw  # another pair for each draw (fresh_seed leaves room)
        seeds = (base, base + 1)
    if seeds[0] == seeds[1]:
        raise SpecError("seeds", f"two songs need two seeds, got {seeds[0]} twice")
    sides = []
    for s in seeds:
        c = compile_song(_seeded(spec, s), progress=progress)
        assert c.notes is not None
        sides.append(Side(song_of(c), c.notes, song_features(c), f"seed {s}"))
    details = {"seeds": list(seeds), "a": sides[0].label, "b": sides[1].label, "draw": draw}
    return Pair("song", spec, sides[0], sides[1], details=details)
