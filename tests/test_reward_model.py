"""The learned reward model: inputs, corruptions, the shipped weights, held-out accuracy on a
real chorale, and bit-for-bit retraining."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from composer.reward_model import INPUTS, RewardModel, default_model, model_inputs
from composer.training import reward_pairs as P
from kernels.features import FEATURES
from kernels.notes import make_notes

CORRUPTED = ("pitch_shuffle", "rhythm_jitter", "wrong_chord", "broken_repetition")


def _melody(pitches: list[int], step: int = 480) -> np.ndarray:
    rows = [(k * step, step, p, 80, 0) for k, p in enumerate(pitches)]
    return make_notes([*rows, (0, 1920, 48, 70, 2)])


def test_inputs_are_key_relative() -> None:
    f = np.zeros((1, len(FEATURES)))
    f[0, FEATURES.index("pc_2")] = 0.75  # D
    f[0, FEATURES.index("pc_9")] = 0.25  # A
    f[0, FEATURES.index("step_ratio")] = 0.5
    x = model_inputs(f, 2)  # in D: the tonic and the fifth
    assert x.shape == (1, len(INPUTS))
    assert x[0, INPUTS.index("degree_0")] == 0.75 and x[0, INPUTS.index("degree_7")] == 0.25
    assert x[0, INPUTS.index("step_ratio")] == 0.5
    assert np.array_equal(model_inputs(np.roll(f, 0), 2), model_inputs(f, np.array([2])))


def test_json_round_trip_and_schema_check() -> None:
    rng = np.random.default_rng(0)
    n = len(INPUTS)
    m = RewardModel(
        rng.normal(size=n), np.ones(n), rng.normal(size=(4, n)), np.zeros(4),
        rng.normal(size=4), 0.1, 0.2, 2.0, {"name": "t"},
    )  # fmt: skip
    again = RewardModel.from_json(m.to_json())
    x = rng.normal(size=(5, n))
    assert np.array_equal(m.logits(x), again.logits(x)) and again.meta == {"name": "t"}
    f = rng.random((3, len(FEATURES)))
    s = m.score(f, 5)
    assert s.shape == (3,) and ((s > 0) & (s < 1)).all()
    with pytest.raises(ValueError, match="train-reward"):
        RewardModel.from_json(m.to_json().replace('"degree_11"', '"degree_12"'))


def test_corruptions() -> None:
    rng = np.random.default_rng(1)
    notes = _melody([60, 62, 64, 65, 67, 65, 64, 62])
    shuffled = P.pitch_shuffle(notes, rng)
    assert shuffled is not None
    mel, sh = notes[notes["track"] == 0], shuffled[shuffled["track"] == 0]
    assert sorted(mel["pitch"]) == sorted(sh["pitch"]) and not np.array_equal(
        mel["pitch"], sh["pitch"]
    )
    assert np.array_equal(mel["onset"], sh["onset"])
    assert P.pitch_shuffle(_melody([60] * 8), rng) is None  # nothing to shuffle
    jit = P.rhythm_jitter(notes, 3840, rng)
    jm = jit[jit["track"] == 0]
    assert jm.size == mel.size and (jm["onset"] >= 0).all()
    assert (jm["onset"] + jm["duration"] <= 3840).all() and (jm["onset"] % 480 != 0).any()
    wrong = P.wrong_chord(notes, rng)
    d = set((wrong[wrong["track"] == 0]["pitch"] - mel["pitch"]).tolist())
    assert len(d) == 1 and d.pop() in P.WRONG
    assert np.array_equal(wrong[wrong["track"] == 2], notes[notes["track"] == 2])
    donor = _melody([70, 71, 72, 73, 74, 75, 76, 77])
    broken = P.broken_repetition(notes, donor, 1920, 2, rng)  # one of two bars swapped
    bm = broken[broken["track"] == 0]["pitch"].tolist()
    assert bm in ([70, 71, 72, 73, 67, 65, 64, 62], [60, 62, 64, 65, 74, 75, 76, 77])


def test_ranked_pairs_respect_the_margin() -> None:
    x = np.arange(4.0)[:, None] * np.ones((4, 3))
    totals = np.array([0.50, 0.51, 0.60, 0.40])
    better, worse = P.ranked_pairs(x, totals, np.random.default_rng(0))
    # 5 of the 6 pairs differ by >= 0.03 (0.50 vs 0.51 does not)
    assert len(better) == 5
    for b, w in zip(better, worse, strict=True):
        assert totals[int(b[0])] - totals[int(w[0])] >= P.RULE_MARGIN


def test_shipped_model_meets_the_held_out_bar() -> None:
    m = default_model()
    assert m is not None
    test = m.meta["accuracy"]["test"]
    for kind in CORRUPTED:
        assert test[kind] >= 0.95, kind
        assert m.meta["pairs"]["test"][kind] >= 150
    assert test["rule_ranked"] >= 0.85


@pytest.mark.slow
def test_a_held_out_chorale_beats_its_corruptions() -> None:
    """Measured here again, independently of the number stored at training time."""
    from music21 import corpus

    from composer.eval.metrics import corpus_split
    from composer.training.reward_corpus import chorale_segments

    path = "bach/bwv13.6.mxl"
    assert corpus_split(path) == "test"
    segments, melody = chorale_segments(corpus.parse(path), path)
    assert segments and melody is not None
    pairs = P.corpus_pairs(segments, np.random.default_rng(7))
    m = default_model()
    assert m is not None
    for p in pairs:
        assert p.kind in CORRUPTED and p.split == "test"
        assert (m.logits(p.better) > m.logits(p.worse)).mean() >= 0.9, p.kind


@pytest.mark.slow
def test_training_is_reproducible_bit_for_bit() -> None:
    from composer.training import reward as T

    quick = T.RewardConfig(seed=3, limit=3, rule_styles=("pop",), rule_forms=("AB",), epochs=50)
    a = T.train(quick, log=lambda _m: None)
    b = T.train(quick, log=lambda _m: None)
    assert a.model.to_json() == b.model.to_json()
    c = T.train(replace(quick, seed=4), log=lambda _m: None)
    assert c.model.to_json() != a.model.to_json()


@pytest.mark.slow
def test_train_reward_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from composer.cli import main
    from composer.training import reward as T

    full = T.train

    def quick(cfg: T.RewardConfig, log: Callable[[str], None]) -> T.Trained:
        """The command's config (seed and limit from its flags), one style, form, fewer epochs."""
        assert (cfg.seed, cfg.limit) == (1, 2)
        return full(replace(cfg, rule_styles=("folk",), rule_forms=("AB",), epochs=20), log)

    monkeypatch.setattr(T, "train", quick)
    out = tmp_path / "rm.json"
    assert main(["train-reward", "--limit", "2", "--seed", "1", "-o", str(out)]) == 0
    printed = json.loads(capsys.readouterr().out)
    model = RewardModel.from_json(out.read_text())
    assert model.meta["seed"] == 1 and printed["accuracy"] == model.meta["accuracy"]
    assert printed["path"] == str(out)
