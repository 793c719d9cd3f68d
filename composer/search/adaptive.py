"""Adaptive candidate counts: sample a section in rounds and stop once the best is clearly ahead.

Best-of-16 pays for 16 candidates in every section, though in many sections the first few
already hold one that the rest will not beat. With ``preferences: {adaptive: true}`` the search
proposes a section's candidates in rounds of :data:`ROUND` (up to the spec's ``candidates``),
checks and scores each round against the first path's song, and stops after a round when the
best candidate so far leads the runner-up by :data:`MARGIN` of objective (the reward total
weighted as the search ranks it), or is the only one without a hard violation. The chorus (or
refrain) and the song's last section, which a listener remembers, take at least
:data:`KEY_ROUNDS` rounds and twice the margin; a literal repeat (spliced from its source) is
not sampled in rounds at all. Every round draws from the section's own rng in turn, so the same
spec and seed give the same candidates, alone or in a batch. The other paths of the beam that
share the proposal (``condition_key``) score the same candidates, all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from composer.generators.base import GenerationContext, SectionGenerator
from composer.search.batch import Scored
from composer.segment import Segment
from planners.plan import SectionPlan, SongPlan

ROUND = 4  # candidates a round: one batch of the transformer's sampler
MARGIN = 0.02  # objective units (rewards in 0..1): about a third of a typical batch's spread
KEY_ROUNDS = 2  # at least 8 candidates for the chorus and the ending
KEY_ROLES = ("chorus", "refrain")


def applies(plan: SongPlan, section: SectionPlan) -> bool:
    """Whether ``section`` is proposed in rounds: more candidates than one round, and not a
    repeat (spliced from its source, it is sampled in one go)."""
    return plan.candidates > ROUND and section.relation != "repeats"


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
    """The section's candidates, sampled in rounds until one leads (see the module docstring),
    and their scores from ``score`` (one call a round; indices run on across rounds)."""
    key = is_key(plan, section)
    margin = 2 * MARGIN if key else MARGIN
    least = KEY_ROUNDS if key else 1
    cands: list[Segment] = []
    scored: list[Scored] = []
    rounds = 0
    while len(cands) < plan.candidates:
        new = gen.generate(section, ctx, min(ROUND, plan.candidates - len(cands)), rng)
        scored += [replace(s, index=s.index + len(cands)) for s in score(new)]
        cands += new
        rounds += 1
        if rounds >= least and lead(scored) >= margin:
            break
    return cands, scored
