"""The planner's temperature calibration (planners/learn/calibration.py), on small corpora
simulated from the shipped model."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from grammar.keys import parse_key
from planners.learn.calibration import calibrate, cross_validated, simulate
from planners.learn.model import fit
from planners.progression import load_models

C = parse_key("C major")


def _shape(n: int = 120, length: int = 12) -> list[tuple[list[str], list[int]]]:
    return [(["I"] * length, [j % 2 for j in range(length)]) for _ in range(n)]


def test_cross_validated_scores_each_fold_with_the_others() -> None:
    seqs = [(["I", "V", "I"], [0, 1, 0]), (["I", "IV", "V", "I"], [0, 1, 0, 1])] * 6
    folds = 4
    lp = 0.0
    for k in range(folds):
        model = fit([s for i, s in enumerate(seqs) if i % folds != k])
        lp += sum(model.logprob(*s) for s in seqs[k::folds])
    n = sum(len(s) for s, _ in seqs)
    assert cross_validated(seqs, folds=folds) == pytest.approx(lp / n)
    # a fold never sees its own pieces: worse than the in-sample figure
    assert cross_validated(seqs, folds=folds) <= sum(fit(seqs).logprob(*s) for s in seqs) / n


def test_simulate_keeps_the_shape_and_follows_the_model() -> None:
    model = load_models()["chorale"]["major"]
    like = _shape(400, 6)
    out = simulate(model, like, np.random.default_rng(0))
    assert [len(s) for s, _ in out] == [6] * 400
    assert all(p == [0, 1, 0, 1, 0, 1] for _, p in out)
    assert all(x in model.states for s, _ in out for x in s)
    # the first chords follow the start distribution
    firsts = Counter(s[0] for s, _ in out)
    top = model.states[int(np.argmax(model.start_probs))]
    assert firsts[top] / 400 == pytest.approx(model.start_probs.max(), abs=0.08)


def test_calibration_is_deterministic_and_hotter_for_a_more_surprising_corpus() -> None:
    model = load_models()["chorale"]["major"]
    rng = np.random.default_rng(1)
    plain = simulate(model, _shape(), rng)
    # the same music with a third of its chords replaced at random: more surprising
    known = [s for s in model.states if s != "?"]
    noisy = [
        ([x if rng.random() > 0.33 else known[int(rng.integers(len(known)))] for x in s], p)
        for s, p in plain
    ]
    t_plain = calibrate(plain, C, "all", 2, bars=4, plans=30)
    assert t_plain == calibrate(plain, C, "all", 2, bars=4, plans=30)
    t_noisy = calibrate(noisy, C, "all", 2, bars=4, plans=30)
    assert 0.5 <= t_plain < t_noisy <= 3.0
