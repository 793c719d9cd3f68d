"""Check, score and rank: one batch of candidates for one section.

All candidates of a batch go to the kernels in one call (:func:`kernels.batch.check_batch`).
Candidates with the fewest hard-constraint violations (:data:`HARD`) survive; the rest are
pruned: the kernels' checks that are errors, plus ``off_key``, a section that a
Krumhansl-Schmuckler key finder does not hear in its planned key (:mod:`planners.tonality`).
Survivors are scored by the rewards (:mod:`composer.search.rewards`, with the learned reward model's
score among them), near-duplicates are dropped, and the rest are ranked by their objective,
optionally perturbed by Gumbel noise so the search does not over-optimise (the ``diversity``
knob, see :func:`rank`). The lattice search (:mod:`composer.search.lattice`) joins the batches of
consecutive sections into a song.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from composer.reward_model import SegmentScorer
from composer.search.band_rewards import band_features
from composer.search.listener import listener_features
from composer.search.rewards import RELATIONS, score, target_features
from composer.search.similarity import contour_similarity, melody, motif_set, motif_similarity
from composer.segment import Segment
from grammar.meter import TimeSignature, parse_time_signature
from kernels.batch import BatchResult, check_batch
from kernels.context import SectionArrays
from planners.melody_plan import blue_mask
from planners.plan import Hook, SectionPlan, SongPlan
from planners.styles import get_style
from planners.tonality import key_fit

JUNCTION_WEIGHT = 0.15  # share of a section's objective given to its seams with its neighbours
# Gumbel noise scale at diversity 1: the spread of rewards between good candidates is ~0.05, so
# at diversity 1 the choice is close to a draw among the good ones; at 0 it is the argmax.
NOISE_AT_FULL_DIVERSITY = 0.05
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
    """One checked and scored candidate. ``objective`` = (1 - JUNCTION_WEIGHT) * reward total +
    JUNCTION_WEIGHT * junction, filled in by the lattice once the neighbours are known."""

    index: int
    segment: Segment
    violations: dict[str, int]
    rewards: dict[str, float]  # every applicable reward and 'total'
    junction: float = 1.0
    objective: float = 0.0
    motifs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)

    @property
    def hard(self) -> int:
        """Violations of the HARD constraints (the others are reported, not pruned on)."""
        return sum(v for k, v in self.violations.items() if k in HARD)


@dataclass(frozen=True)
class Batch:
    """A section's candidates after checking: ``ranked`` survivors best first (by the perturbed
    objective), and what was dropped."""

    scored: tuple[Scored, ...]  # every candidate, in proposal order
    ranked: tuple[Scored, ...]  # survivors, best first
    pruned: int  # dropped for more hard violations than the best
    duplicates: int  # dropped as near-duplicates of a better survivor
    diversity: float  # mean pairwise melody dissimilarity of the candidates, 0..1
    noise: dict[int, float] = field(default_factory=dict)  # candidate index -> Gumbel noise


@dataclass(frozen=True)
class Choice:
    """What the search chose for one section, and against what."""

    chosen: Scored
    runner_up: Scored | None  # the best other candidate of the chosen one's batch
    candidates: int  # in the chosen one's batch (proposed on its path)
    pruned: int  # of that batch: more hard violations than its best
    duplicates: int = 0  # of that batch: near-duplicates of a better one
    diversity: float = 0.0  # of that batch
    path_margin: float | None = None  # lead of the best song over the best with another choice here
    proposed: int = 0  # candidates proposed for the section over all paths of the beam

    @property
    def margin(self) -> float | None:
        """Objective lead over the runner-up (negative when the choice won on violations, or
        on the path: a better seam or a better later section)."""
        return None if self.runner_up is None else self.chosen.objective - self.runner_up.objective

    @property
    def decided_by(self) -> str:
        """'violations' if the runner-up had more, 'score' if it scored lower, 'path' if it
        scored higher here but the song was better with this one, 'only candidate'."""
        if self.runner_up is None:
            return "only candidate"
        if self.runner_up.hard > self.chosen.hard:
            return "violations"
        return "score" if self.chosen.objective >= self.runner_up.objective else "path"


def section_arrays(section: SectionPlan, song: SongPlan) -> SectionArrays:
    meter = song.meter()
    key = section.key_obj()
    ev = section.chords
    return SectionArrays(
        length_ticks=section.bars * meter.bar_ticks,
        bar_ticks=meter.bar_ticks,
        beat_ticks=meter.beat_ticks,
        strong_offsets=np.array(meter.strong_offsets, dtype=np.int64),
        # planned blue notes (b3, b5, b7 in a blues) are in the idiom, not clashes
        scale_mask=key.scale_mask | blue_mask(section),
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


@dataclass(frozen=True)
class SongContext:
    """What the rewards need to know about the song around a section (see
    :data:`composer.search.rewards.CONTEXT_FEATURES`)."""

    beats_per_bar: int
    style: str
    source: Segment | None = None  # the chosen material it repeats or varies, in its key
    others: Sequence[np.ndarray] = ()  # motif sets of chosen sections of other labels
    contrasts: Sequence[np.ndarray] = ()  # motif sets of the chosen sections it contrasts
    band: np.ndarray | None = None  # the section's band as played (composer.search.band_rewards)
    # for the listener features (composer.search.listener)
    meter: TimeSignature = field(default_factory=lambda: parse_time_signature("4/4"))
    hook: Hook | None = None  # the song's planned hook
    verse_pitch: float | None = None  # mean melody pitch of the verses chosen so far
    song_peak: int | None = None  # highest melody pitch chosen so far
    last_chorus: bool = False  # this is the song's last chorus (or refrain)


def score_batch(
    result: BatchResult,
    candidates: list[Segment],
    section: SectionPlan,
    context: SongContext,
    weights: Mapping[str, float],
    model: SegmentScorer | None = None,
    memo: dict[int, tuple[np.ndarray, dict[str, float], int]] | None = None,
) -> list[Scored]:
    """Rewards of each checked candidate; its objective assumes perfect seams (junction 1)
    until the lattice knows its neighbours. ``memo``: the band features of candidates already
    scored against this section's band (they depend on nothing else), keyed by ``id`` of the
    candidate's notes (held in the memo, so the id is not reused while it lives): the paths
    of a beam that share one proposal compute them once. One memo per section."""
    key = section.key_obj()
    learned = None if model is None else model.score(result.features, key.tonic)
    targets = target_features(get_style(context.style))
    src_mel = None if context.source is None else melody(context.source.notes)
    out = []
    for i, cand in enumerate(candidates):
        feats = result.feature_dict(i)
        mel = melody(cand.notes)
        motifs = motif_set(mel)
        feats.update(
            ctx_beats_per_bar=float(context.beats_per_bar),
            **targets,
            ctx_relation=float(RELATIONS.index(section.relation)),
            ctx_melody_similarity=feats["ref_note_similarity"] if src_mel is not None else -1.0,
            ctx_contour_similarity=(
                contour_similarity(mel, src_mel) if src_mel is not None else -1.0
            ),
            ctx_novelty_similarity=_max_sim(motifs, context.others),
            ctx_contrast_similarity=_max_sim(motifs, context.contrasts),
        )
        feats.update(
            listener_features(
                cand.notes,
                section,
                context.meter,
                context.hook,
                context.verse_pitch,
                context.song_peak,
                context.last_chorus,
            )
        )
        r, heard = key_fit(feats, key)
        feats["ctx_key_r"] = r
        if learned is not None:
            feats["learned_score"] = float(learned[i])
        violations = result.violation_dict(i)
        violations["off_key"] = 0 if heard else 1
        if context.band is not None:
            hit = None if memo is None else memo.get(id(cand.notes))
            if hit is not None and hit[0] is cand.notes:
                band, above = hit[1], hit[2]
            else:
                band, above = band_features(context.band, cand.notes)
                if memo is not None:
                    memo[id(cand.notes)] = (cand.notes, band, above)
            feats.update(band)
            violations["comp_above_melody"] = above
        rewards = score(feats, section, weights)
        objective = (1 - JUNCTION_WEIGHT) * rewards["total"] + JUNCTION_WEIGHT
        out.append(Scored(i, cand, violations, rewards, 1.0, objective, motifs))
    return out


def _max_sim(motifs: np.ndarray, others: Sequence[np.ndarray]) -> float:
    return max((motif_similarity(motifs, o) for o in others), default=-1.0)


def rank(
    scored: list[Scored], diversity: float = 0.0, rng: np.random.Generator | None = None
) -> Batch:
    """Prune, de-duplicate and rank one batch.

    Candidates with more hard violations than the fewest are pruned. Survivors are ordered by
    objective plus ``diversity * NOISE_AT_FULL_DIVERSITY`` times Gumbel noise from ``rng``
    (sampling from a softmax of the rewards instead of taking the argmax: at 0 the order is
    the argmax order, ties to the earliest candidate). Walking that order, a candidate whose
    melody motifs are a near-duplicate of a kept one's (Jaccard similarity above
    ``1 - diversity / 2``, so identical melodies always) is dropped.
    """
    if not scored:
        raise ValueError("no candidates to rank")
    fewest = min(s.hard for s in scored)
    alive = [s for s in scored if s.hard == fewest]
    noise = np.zeros(len(alive))
    if diversity > 0 and rng is not None:
        noise = rng.gumbel(size=len(alive)) * diversity * NOISE_AT_FULL_DIVERSITY
    order = sorted(
        range(len(alive)), key=lambda k: (-(alive[k].objective + noise[k]), alive[k].index)
    )
    threshold = 1.0 - diversity / 2.0
    kept: list[Scored] = []
    for k in order:
        s = alive[k]
        if any(_duplicate(s, o, threshold) for o in kept):
            continue
        kept.append(s)
    return Batch(
        tuple(scored),
        tuple(kept),
        len(scored) - len(alive),
        len(alive) - len(kept),
        batch_diversity(scored),
        {alive[k].index: float(noise[k]) for k in range(len(alive))},
    )


def _duplicate(a: Scored, b: Scored, threshold: float) -> bool:
    if a.motifs.size == 0 and b.motifs.size == 0:
        return bool(np.array_equal(melody(a.segment.notes), melody(b.segment.notes)))
    if motif_similarity(a.motifs, b.motifs) < threshold:
        return False
    return threshold < 1.0 or np.array_equal(melody(a.segment.notes), melody(b.segment.notes))


def batch_diversity(scored: Sequence[Scored]) -> float:
    """Mean over pairs of candidates of 1 - the Jaccard similarity of their melody motif sets
    (0 when all are the same or there is one candidate). [0, 1], higher = more diverse."""
    n = len(scored)
    if n < 2:
        return 0.0
    total = sum(
        1.0 - motif_similarity(scored[i].motifs, scored[j].motifs)
        for i in range(n)
        for j in range(i + 1, n)
    )
    return total / (n * (n - 1) / 2)
