"""Ranking a batch: pruning, de-duplication, the diversity knob, and what a choice reports."""

from __future__ import annotations

import numpy as np
import pytest

from composer.search.batch import Choice, Scored, batch_diversity, rank
from composer.search.similarity import melody, motif_set
from composer.segment import Segment
from kernels.notes import make_notes


def _cand(i: int, pitches: list[int], total: float, hard: int = 0) -> Scored:
    notes = make_notes([(480 * k, 480, p, 80, 0) for k, p in enumerate(pitches)])
    seg = Segment("A1", notes, "test", i)
    return Scored(
        i,
        seg,
        {"large_leaps": hard, "direct_fifths": 3},
        {"total": total},
        1.0,
        total,
        motif_set(melody(notes)),
    )


UP = [60, 62, 64, 65, 67, 69]
DOWN = [72, 71, 69, 67, 65, 64]
ZIGZAG = [60, 67, 62, 69, 64, 71]


def test_hard_violators_are_pruned_first_soft_ones_are_not() -> None:
    batch = rank([_cand(0, UP, 0.9, hard=1), _cand(1, DOWN, 0.5), _cand(2, ZIGZAG, 0.4)])
    assert [s.index for s in batch.ranked] == [1, 2]
    assert batch.pruned == 1 and batch.duplicates == 0
    assert batch.scored[1].hard == 0  # direct fifths are reported, not hard


def test_identical_melodies_are_duplicates_even_at_zero_diversity() -> None:
    batch = rank([_cand(0, UP, 0.5), _cand(1, UP, 0.7), _cand(2, DOWN, 0.6)])
    assert [s.index for s in batch.ranked] == [1, 2]
    assert batch.duplicates == 1


def test_near_duplicates_go_with_diversity() -> None:
    near = [60, 62, 64, 65, 67, 65]  # shares 2 of its 4 trigrams' union with UP: 0.5
    cands = [_cand(0, UP, 0.7), _cand(1, near, 0.6)]
    assert len(rank(cands, 0.0).ranked) == 2
    assert len(rank(cands, 1.0, np.random.default_rng(0)).ranked) == 1  # threshold 0.5


def test_diversity_zero_is_the_argmax_and_noise_is_seeded() -> None:
    cands = [_cand(i, p, t) for i, (p, t) in enumerate([(UP, 0.5), (DOWN, 0.52), (ZIGZAG, 0.51)])]
    assert [s.index for s in rank(cands, 0.0).ranked] == [1, 2, 0]
    a = rank(cands, 1.0, np.random.default_rng(3))
    b = rank(cands, 1.0, np.random.default_rng(3))
    assert [s.index for s in a.ranked] == [s.index for s in b.ranked]
    assert set(a.noise) == {0, 1, 2} and any(v != 0 for v in a.noise.values())
    orders = {
        tuple(s.index for s in rank(cands, 1.0, np.random.default_rng(k)).ranked) for k in range(20)
    }
    assert len(orders) > 1  # at full diversity the close candidates trade places


def test_batch_diversity() -> None:
    assert batch_diversity([_cand(0, UP, 0.5)]) == 0.0
    assert batch_diversity([_cand(0, UP, 0.5), _cand(1, UP, 0.5)]) == 0.0
    assert batch_diversity([_cand(0, UP, 0.5), _cand(1, DOWN, 0.5)]) == 1.0


def test_choice_says_what_decided() -> None:
    a, b = _cand(0, UP, 0.8), _cand(1, DOWN, 0.6)
    assert Choice(a, None, 1, 0).decided_by == "only candidate"
    assert Choice(a, b, 2, 0).decided_by == "score"
    assert Choice(a, b, 2, 0).margin == pytest.approx(0.2)
    assert Choice(b, a, 2, 0).decided_by == "path"
    assert Choice(b, _cand(0, UP, 0.8, hard=2), 2, 1).decided_by == "violations"
