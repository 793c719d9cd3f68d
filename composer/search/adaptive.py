"""Adaptive candidate counts: sample a few of a section's candidates first, the rest only if needed.

Best-of-16 pays for 16 candidates in every section, though in many sections the first few
already hold one that the rest will not beat. With ``preferences: {adaptive: true}`` the search
first proposes :data:`FIRST` candidates of a section, checks and scores them against the first
path's song, and stops there when the best leads the runner-up by :data:`MARGIN` of objective
(the reward total weighted as the search ranks it) or is the only one without a hard violation;
otherwise it proposes the other ``candidates - FIRST`` in one batch. Two batches, not rounds of
four: a decoding step's cost is mostly reading the weights, so 4 rows cost ~45% of 16 and 12
rows ~85% (``benchmarks/bench_sampling.py``); four rounds of 4 would cost ~1.8x one batch of
16. The chorus (or refrain) and the song's last section, which a listener remembers, and a
literal repeat (spliced from its source) are proposed in one batch as before. Both batches
draw from the section's own rng in turn, so the same spec and seed give the same candidates,
alone or in a batch. The other paths of the beam that share the proposal (``condition_key``)
score the same candidates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from composer.generators.base import GenerationContext, SectionGenerator
from composer.search.batch import Scored
from composer.segment import Segment
from planners.plan import SectionPlan, SongPlan

FIRST = 4  # candidates of the first batch
MARGIN = 0.02  # objective units (rewards in 0..1): about a third of a typical batch's spread
KEY_ROLES = ("chorus", "refrain")


def applies(plan: SongPlan, section: SectionPlan) -> bool:
    """Whether ``section`` is proposed in two batches: more candidates than :data:`FIRST`, not
    a repeat (spliced from its source), not the chorus or the ending (:func:`is_key`)."""
    return plan.candidates > FIRST and section.relation != "repeats" and not is_key(plan, section)


def is_key(plan: SongPlan, section: SectionPlan) -> bool:
    """The chorus (or refrain) and the song's last section."""
    return section.role in KEY_ROLES or section.index == len(plan.sections) - 1


def lead(scored: list[Scored]) -> float:
    """How far the best candidate is ahead of the runner-up: the objective gap when both have
    the fewest hard violations; ``inf`` when the best is the only clean one; ``-inf`` (never
    ahead) while every candidate breaks a hard constraint or there is only one."""
    if len(scored) < 2:
        return -np.inf
    ranked = sorted(scored, key=lambda s: (s.hard, -s.objective))
    best, second = ranked[0], ranked[1]
    if best.hard > 0:
        return -np.inf
    if second.hard > best.hard:
        return np.inf
    return best.objective - second.objective


def propose(
    gen: SectionGenerator,
    plan: SongPlan,
    section: SectionPlan,
    ctx: GenerationContext,
    rng: np.random.Generator,
    score: Callable[[list[Segment]], list[Scored]],
) -> tuple[list[Segment], list[Scored]]:
    """The section's candidates: :data:`FIRST`, and the rest if none of those leads (see the
    module docstring); their scores from ``score`` (one call a batch; indices run on)."""
    cands = gen.generate(section, ctx, FIRST, rng)
    scored = score(cands)
    if lead(scored) >= MARGIN:
        return cands, scored
    rest = gen.generate(section, ctx, plan.candidates - len(cands), rng)
    scored += [replace(s, index=s.index + len(cands)) for s in score(rest)]
    return cands + rest, scored
