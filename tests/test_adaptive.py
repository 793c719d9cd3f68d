"""Adaptive candidate counts: the lead, the rounds, and the same song for the same seed."""

from __future__ import annotations

import math

import numpy as np

from composer.app import api
from composer.search import adaptive
from composer.search.batch import Scored
from composer.segment import Segment
from kernels.notes import make_notes


def _scored(i: int, objective: float, hard: int = 0) -> Scored:
    seg = Segment("A1", make_notes([(0, 480, 60, 80, 0)]), "test", i)
    return Scored(i, seg, {"large_leaps": hard}, {"total": objective}, 1.0, objective)


def test_lead_is_the_gap_between_the_two_best_clean_candidates() -> None:
    assert math.isclose(adaptive.lead([_scored(0, 0.70), _scored(1, 0.75), _scored(2, 0.60)]), 0.05)
    # a hard violation ranks a candidate after every clean one, whatever its objective
    assert adaptive.lead([_scored(0, 0.9, hard=1), _scored(1, 0.5)]) == math.inf
    assert adaptive.lead([_scored(0, 0.9, hard=1), _scored(1, 0.5, hard=2)]) == -math.inf
    assert adaptive.lead([_scored(0, 0.9)]) == -math.inf


class _Gen:
    """Proposes candidates whose objectives the test scripts, one list per round."""

    name = "test"

    def __init__(self, rounds: list[list[float]]) -> None:
        self.rounds = rounds
        self.calls: list[int] = []

    def generate(self, section, ctx, n, rng):  # type: ignore[no-untyped-def]
        self.calls.append(n)
        objs = self.rounds[len(self.calls) - 1]
        assert len(objs) == n
        return [Segment(section.id, make_notes([(0, 480, 60, 80, 0)]), "test", o) for o in objs]


def _score(cands: list[Segment]) -> list[Scored]:
    return [_scored(i, float(c.seed)) for i, c in enumerate(cands)]


def _plan(form: str = "A B C") -> tuple[object, list]:
    plan = api.plan({"form": form, "candidates": 16, "seed": 1, "generator": "rules"}).plan
    return plan, plan.sections


def test_the_rest_is_sampled_only_when_the_first_batch_has_no_clear_leader() -> None:
    plan, (first, middle, last) = _plan()
    far, close = [0.9, 0.5, 0.5, 0.5], [0.60, 0.61, 0.60, 0.60]
    rng = np.random.default_rng(0)
    gen = _Gen([far])
    cands, scored = adaptive.propose(gen, plan, first, None, rng, _score)  # type: ignore[arg-type]
    assert gen.calls == [4] and len(cands) == len(scored) == 4
    gen = _Gen([close, [0.5] * 12])
    cands, scored = adaptive.propose(gen, plan, middle, None, rng, _score)  # type: ignore[arg-type]
    assert gen.calls == [4, 12] and [s.index for s in scored] == list(range(16))
    assert [s.objective for s in scored] == close + [0.5] * 12
    # the song's last section (and a chorus, and a repeat): one batch, as without adaptive
    assert adaptive.applies(plan, first) and not adaptive.applies(plan, last)


def test_an_adaptive_song_is_the_same_for_the_same_seed_and_proposes_fewer() -> None:
    spec = {"form": "A B A' C", "seed": 3, "generator": "rules", "candidates": 16}
    on = {**spec, "preferences": {"adaptive": True}}
    a, b, full = api.compose(on), api.compose(on), api.compose(spec)
    assert a.midi == b.midi
    assert a.report.search is not None and a.report.search.adaptive
    proposed = [s.choice.proposed for s in a.report.sections]
    assert all(p % 4 == 0 and p <= 16 * 4 for p in proposed)  # 4 or 16 a path
    full_proposed = [s.choice.proposed for s in full.report.sections]
    assert sum(proposed) < sum(full_proposed)
