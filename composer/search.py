"""Check, score and choose: one section's candidates against the kernels and the rewards.

Per section, all candidates go to the kernels in one batched call
(:func:`kernels.batch.check_batch`).
Candidates with the fewest hard-constraint violations (:data:`HARD`) survive (the rest are
pruned): the kernels' checks that are errors, plus ``off_key``, a section that a
Krumhansl-Schmuckler key finder does not hear in its planned key (:mod:`planners.tonality`).
Among the survivors
the best objective wins: the weighted reward total, plus a junction term for how smoothly the
melody enters from the section already chosen before it (stitching). The runner-up is kept so
the report can say by how much the choice won.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer.rewards import junction, score
from composer.segment import Segment, last_pitch
from kernels.batch import BatchResult, check_batch
from kernels.context import SectionArrays
from kernels.notes import TRACK_MELODY
from planners.plan import SectionPlan, SongPlan
from planners.tonality import key_fit

JUNCTION_WEIGHT = 0.15  # share of the objective given to the seam with the previous section
# What prunes a candidate: errors, not taste. The kernels also count direct fifths/octaves (Bach
# writes ~2,900 in the chorales), strong-beat non-chord tones (appoggiaturas), unresolved leaps,
# tessitura and spacing: reported for every section, left to the rewards, never pruned on.
HARD = frozenset(
    {
        "out_of_key",
        "melody_range",
        "melody_overlap",
        "bass_overlap",
        "parallel_fifths",
        "parallel_octaves",
        "large_leaps",
        "voice_crossing",
        "instrument_range",
        "empty_bars",
        "voice_overlap",
        "off_key",
    }
)


@dataclass(frozen=True)
class Scored:
    index: int
    segment: Segment
    violations: dict[str, int]
    rewards: dict[str, float]  # every reward and 'total'
    junction: float
    objective: float

    @property
    def hard(self) -> int:
        """Violations of the HARD constraints (the others are reported, not pruned on)."""
        return sum(v for k, v in self.violations.items() if k in HARD)


@dataclass(frozen=True)
class Choice:
    chosen: Scored
    runner_up: Scored | None
    candidates: int
    pruned: int  # candidates dropped for having more violations than the best

    @property
    def margin(self) -> float | None:
        """Objective lead over the runner-up (negative when the choice won on violations)."""
        return None if self.runner_up is None else self.chosen.objective - self.runner_up.objective

    @property
    def decided_by(self) -> str:
        """'violations' if the runner-up had more, 'score' if it scored lower, 'only candidate'."""
        if self.runner_up is None:
            return "only candidate"
        return "violations" if self.runner_up.hard > self.chosen.hard else "score"


def section_arrays(section: SectionPlan, song: SongPlan) -> SectionArrays:
    meter = song.meter()
    key = section.key_obj()
    ev = section.chords
    return SectionArrays(
        length_ticks=section.bars * meter.bar_ticks,
        bar_ticks=meter.bar_ticks,
        beat_ticks=meter.beat_ticks,
        strong_offsets=np.array(meter.strong_offsets, dtype=np.int64),
        scale_mask=key.scale_mask,
        tonic=key.tonic,
        chord_starts=np.array([e.start_tick for e in ev], dtype=np.int64),
        chord_ends=np.array([e.start_tick + e.duration_ticks for e in ev], dtype=np.int64),
        chord_masks=np.array([e.chord().mask for e in ev], dtype=np.int64),
        chord_roots=np.array([e.chord().root for e in ev], dtype=np.int64),
        melody_low=song.melody_low,
        melody_high=song.melody_high,
    )


def check(
    candidates: list[Segment],
    section: SectionPlan,
    song: SongPlan,
    source: Segment | None = None,
    previous: Segment | None = None,
) -> BatchResult:
    """Violations and features of every candidate: one batched kernel call. ``source`` (the
    material the section repeats or varies, in its key) feeds the ``ref_*`` features,
    ``previous`` (the section before it) the ``boundary_*`` features."""
    prev_length = None
    if previous is not None:
        prev_length = song.section(previous.section_id).bars * song.meter().bar_ticks
    return check_batch(
        [c.notes for c in candidates],
        section_arrays(section, song),
        reference=None if source is None else source.notes,
        previous=None if previous is None else previous.notes,
        previous_length=prev_length,
    )


def score_batch(
    result: BatchResult, candidates: list[Segment], section: SectionPlan, previous: Segment | None
) -> list[Scored]:
    """Rewards, and the junction with the previous section, for each checked candidate."""
    prev_last = last_pitch(previous, TRACK_MELODY)
    key = section.key_obj()
    out = []
    for i, cand in enumerate(candidates):
        feats = result.feature_dict(i)
        rewards = score(feats, section)
        violations = result.violation_dict(i)
        violations["off_key"] = 0 if key_fit(feats, key)[1] else 1
        first = int(feats["first_pitch"])
        j = junction(prev_last, first if first >= 0 else None)
        objective = (1 - JUNCTION_WEIGHT) * rewards["total"] + JUNCTION_WEIGHT * j
        out.append(Scored(i, cand, violations, rewards, j, objective))
    return out


def choose(scored: list[Scored]) -> Choice:
    """Fewest violations first (the rest pruned), then the highest objective; ties to the
    earliest candidate, so the choice is deterministic."""
    if not scored:
        raise ValueError("no candidates to choose from")
    fewest = min(s.hard for s in scored)
    alive = [s for s in scored if s.hard == fewest]
    ranked = sorted(alive, key=lambda s: (-s.objective, s.index))
    others = sorted(
        (s for s in scored if s is not ranked[0]), key=lambda s: (s.hard, -s.objective, s.index)
    )
    return Choice(ranked[0], others[0] if others else None, len(scored), len(scored) - len(alive))
