"""Rewards against values computed by hand."""

from __future__ import annotations

import dataclasses
import math

import pytest

from composer.search import rewards
from planners.plan import SectionPlan
from planners.styles import STYLES, MelodyTargets

BASE = {
    "strong_chord_tone_ratio": 1.0,
    "weak_beat_chord_tones": 0.5,
    "offbeat_chord_tones": 0.25,
    "chord_tone_ratio": 0.5,
    "step_ratio": 0.7,
    "leap_ratio": 0.1,
    "repeat_ratio": 0.0,
    "mean_abs_interval": 2.0,
    "pitch_range": 12.0,
    "tessitura_outer_ratio": 0.0,
    "bar_rhythm_repetition": 0.5,
    "groove_consistency": 0.8,
    "contour_changes": 0.4,
    "peak_position": 0.6,
    "last_duration": 960.0,
    "last_is_tonic": 1.0,
    "last_is_chord_tone": 1.0,
    "melody_density": 4.0,
    "syncopation": 0.05,
    "ref_onset_similarity": 0.0,
    "ctx_beats_per_bar": 4.0,
    # classical's melody targets: step 0.70, 1.0 note per beat, syncopation 0.05
    **rewards.target_features(STYLES["classical"]),
    "ctx_relation": 0.0,
    "ctx_melody_similarity": -1.0,
    "ctx_contour_similarity": -1.0,
    "ctx_novelty_similarity": -1.0,
    "ctx_contrast_similarity": -1.0,
    # a C major passage shaped exactly like the major key profile: r = 1 with C major
    **{
        f"pc_{i}": w / 49.18
        for i, w in enumerate(
            [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]
        )
    },
}


def _section(cadence: str = "authentic", relation: str = "new") -> SectionPlan:
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
        relation=relation,
    )


def test_harmonic_fit_weights_metric_positions() -> None:
    assert rewards.harmonic_fit(BASE, _section()) == pytest.approx(0.5 + 0.3 * 0.5 + 0.2 * 0.25)


def test_step_balance() -> None:
    assert rewards.step_balance(BASE, _section()) == pytest.approx(1.0)
    # 0.15 off the classical target (one width): e^-1/2; leaps 0.3: e^(-4 * 0.1); half repeats
    f = {**BASE, "step_ratio": 0.55, "leap_ratio": 0.3, "repeat_ratio": 0.5}
    expect = math.exp(-0.5) * math.exp(-0.4) * 0.75
    assert rewards.step_balance(f, _section()) == pytest.approx(expect)
    # jazz aims at 0.55 steps; without the context, the first core style (classical) is assumed
    jazz = rewards.target_features(STYLES["jazz"])
    assert rewards.step_balance({**f, **jazz}, _section()) == pytest.approx(math.exp(-0.4) * 0.75)


def test_contour_range_cadence() -> None:
    assert rewards.contour(BASE, _section()) == pytest.approx(1.0)
    f = {**BASE, "contour_changes": 0.8, "peak_position": 0.0}
    assert rewards.contour(f, _section()) == pytest.approx(math.exp(-1) * math.exp(-2))
    assert rewards.range_fit({**BASE, "pitch_range": 5.0}, _section()) == pytest.approx(
        math.exp(-1)
    )
    assert rewards.range_fit({**BASE, "tessitura_outer_ratio": 1.0}, _section()) == 0.5
    assert rewards.cadence(BASE, _section("authentic")) == pytest.approx(1.0)
    # a half cadence should not land on the tonic: land = 1 * (1 - 0.5) = 0.5
    assert rewards.cadence(BASE, _section("half")) == pytest.approx(0.7 * 0.5 + 0.3)
    short = {**BASE, "last_duration": 240.0, "last_is_tonic": 0.0}
    assert rewards.cadence(short, _section()) == pytest.approx(0.7 * 0.3 + 0.3 * 0.25)


def test_rhythm() -> None:
    assert rewards.groove(BASE, _section()) == pytest.approx(0.5 * 0.8 + 0.5)
    f = {**BASE, "bar_rhythm_repetition": 0.15}
    assert rewards.groove(f, _section()) == pytest.approx(0.4 + 0.5 * math.exp(-1))
    assert rewards.style_rhythm(BASE, _section()) == pytest.approx(1.0)
    # 2 notes a beat against 1 (width 0.4): e^(-0.5 * 2.5^2); syncopation 0.2: e^-1/2
    f = {**BASE, "melody_density": 8.0, "syncopation": 0.2}
    expect = math.exp(-0.5 * 2.5**2) * math.exp(-0.5)
    assert rewards.style_rhythm(f, _section()) == pytest.approx(expect)


def test_form_relation_by_relation() -> None:
    assert rewards.form_relation(BASE, _section()) is None  # new, nothing to contrast
    assert rewards.form_relation({**BASE, "ctx_contrast_similarity": 0.75}, _section()) == 0.5
    rep = {**BASE, "ctx_relation": 1.0, "ctx_melody_similarity": 0.9}
    assert rewards.form_relation(rep, _section(relation="repeats")) == 0.9
    var = {
        **BASE,
        "ctx_relation": 2.0,
        "ctx_melody_similarity": 0.9,
        "ref_onset_similarity": 0.8,
        "ctx_contour_similarity": 0.6,
    }
    # keeps the rhythm (0.8) but changes too little (0.9 is 0.15 past 0.75: e^-1)
    assert rewards.form_relation(var, _section(relation="varies")) == pytest.approx(
        0.8 * math.exp(-1)
    )
    assert rewards.form_relation({**var, "ctx_melody_similarity": 0.5}, _section()) == 0.8


def test_novelty_and_learned() -> None:
    assert rewards.novelty(BASE, _section()) is None
    assert rewards.novelty({**BASE, "ctx_novelty_similarity": 0.3}, _section()) == 1.0
    assert rewards.novelty({**BASE, "ctx_novelty_similarity": 0.7}, _section()) == pytest.approx(
        0.5
    )
    assert rewards.learned(BASE, _section()) is None
    assert rewards.learned({**BASE, "learned_score": 0.25}, _section()) == 0.25


def test_total_is_the_weighted_mean_of_what_applies() -> None:
    out = rewards.score(BASE, _section())
    assert "novelty" not in out and "form_relation" not in out and "learned" not in out
    w = rewards.WEIGHTS
    names = [n for n in out if n != "total"]
    expect = sum(w[n] * out[n] for n in names) / sum(w[n] for n in names)
    assert out["total"] == pytest.approx(expect)
    assert 0.0 <= out["total"] <= 1.0


def test_key_clarity() -> None:
    assert rewards.key_clarity(BASE, _section()) == pytest.approx(1.0)
    flat = {**BASE, **{f"pc_{i}": 1 / 12 for i in range(12)}}
    assert rewards.key_clarity(flat, _section()) == pytest.approx(0.5)  # r = 0: no key heard


def test_weights_from_style_profile_and_spec() -> None:
    w = rewards.resolve_weights("jazz")
    assert w["style_rhythm"] == pytest.approx(0.75 * 1.5)
    assert w["harmonic_fit"] == pytest.approx(2.0 * 0.8)
    w = rewards.resolve_weights("jazz", {"style_rhythm": 3.0, "novelty": 2.0}, {"novelty": 0.0})
    assert w["style_rhythm"] == 3.0 and w["novelty"] == 0.0
    with pytest.raises(KeyError, match="nonsense"):
        rewards.resolve_weights("pop", {"nonsense": 1.0})


def test_key_clarity_uses_the_search_s_correlation_when_given() -> None:
    assert rewards.key_clarity({**BASE, "ctx_key_r": 0.2}, _section()) == pytest.approx(0.6)


def test_targets_read_through_the_song_context() -> None:
    """The melody targets come from the song's style as the context carries it, for a built-in
    style and for any other (a user's style file is not an index into a list of names)."""
    f = {k: v for k, v in BASE.items() if k not in rewards.TARGET_FEATURES}
    assert rewards.step_balance(f, _section()) == pytest.approx(1.0)  # classical assumed
    mine = dataclasses.replace(STYLES["pop"], name="mine", melody=MelodyTargets(0.4, 2.0, 0.3))
    ctx = rewards.target_features(mine)
    assert ctx == {"ctx_step_ratio": 0.4, "ctx_notes_per_beat": 2.0, "ctx_syncopation": 0.3}
    # steps 0.70 against a 0.40 target: two widths off
    assert rewards.step_balance({**f, **ctx}, _section()) == pytest.approx(math.exp(-2.0))
