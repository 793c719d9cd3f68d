"""Rewards against values computed by hand."""

from __future__ import annotations

import math

import pytest

from composer import rewards
from planners.plan import SectionPlan

BASE = {
    "strong_chord_tone_ratio": 1.0,
    "chord_tone_ratio": 0.5,
    "mean_abs_interval": 2.0,
    "repeat_ratio": 0.0,
    "pitch_range": 12.0,
    "bar_rhythm_repetition": 0.5,
    "contour_changes": 0.4,
    "last_duration": 960.0,
    "last_is_tonic": 1.0,
    "last_is_chord_tone": 1.0,
    # a C major passage shaped exactly like the major key profile: r = 1 with C major
    **{
        f"pc_{i}": w / 49.18
        for i, w in enumerate(
            [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]
        )
    },
}


def _section(cadence: str = "authentic") -> SectionPlan:
    return SectionPlan(
        id="A1",
        label="A",
        name="A",
        role="theme",
        index=0,
        start_bar=1,
        bars=8,
        key="C major",
        cadence=cadence,
    )


def test_harmonic_fit() -> None:
    assert rewards.harmonic_fit(BASE, _section()) == pytest.approx(0.6 * 1.0 + 0.4 * 0.5)


def test_melodic_shape() -> None:
    assert rewards.melodic_shape(BASE, _section()) == 1.0
    f = {**BASE, "mean_abs_interval": 5.5, "repeat_ratio": 1.0}
    # 2 semitones past 3.5 -> e^-1; all repeats -> 1 - 0.5 * (2/3) * 1.5 = 0.5
    assert rewards.melodic_shape(f, _section()) == pytest.approx(math.exp(-1) * 0.5)


def test_range_and_contour_and_rhythm() -> None:
    assert rewards.range_fit({**BASE, "pitch_range": 5.0}, _section()) == pytest.approx(
        math.exp(-1)
    )
    assert rewards.range_fit({**BASE, "pitch_range": 21.0}, _section()) == pytest.approx(
        math.exp(-1)
    )
    assert rewards.contour({**BASE, "contour_changes": 0.8}, _section()) == pytest.approx(
        math.exp(-1)
    )
    assert rewards.rhythmic_coherence({**BASE, "bar_rhythm_repetition": 0.15}, _section()) == (
        pytest.approx(math.exp(-1))
    )


def test_cadence_by_kind() -> None:
    assert rewards.cadence(BASE, _section("authentic")) == pytest.approx(1.0)
    # a half cadence should not land on the tonic: land = 1 * (1 - 0.5) = 0.5
    assert rewards.cadence(BASE, _section("half")) == pytest.approx(0.7 * 0.5 + 0.3)
    short = {**BASE, "last_duration": 240.0, "last_is_tonic": 0.0}
    assert rewards.cadence(short, _section("authentic")) == pytest.approx(0.7 * 0.3 + 0.3 * 0.5)


def test_total_is_the_weighted_mean() -> None:
    out = rewards.score(BASE, _section())
    w = rewards.WEIGHTS
    expect = sum(w[n] * out[n] for n in rewards.REWARDS) / sum(w.values())
    assert out["total"] == pytest.approx(expect)
    assert 0.0 <= out["total"] <= 1.0


def test_key_clarity() -> None:
    assert rewards.key_clarity(BASE, _section()) == pytest.approx(1.0)
    flat = {**BASE, **{f"pc_{i}": 1 / 12 for i in range(12)}}
    assert rewards.key_clarity(flat, _section()) == pytest.approx(0.5)  # r = 0: no key heard


def test_junction() -> None:
    assert rewards.junction(None, 60) == 1.0
    assert rewards.junction(60, 65) == pytest.approx(math.exp(-1))
