"""The listener features (composer.search.listener) and rewards against values worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from composer.search import rewards
from composer.search.listener import hook_fit, listener_features, phrases
from grammar.meter import parse_time_signature
from kernels.notes import make_notes
from planners.plan import (
    ChordEvent,
    Hook,
    MelodyPlan,
    PhrasePlan,
    RhythmVocabulary,
    SectionPlan,
)
from planners.styles import STYLES
from tests.test_rewards import BASE

Q = 480
BAR = 4 * Q
METER = parse_time_signature("4/4")


def _section(
    bars: int = 8,
    role: str = "verse",
    cadence: str = "authentic",
    melody: MelodyPlan | None = None,
    chord: str = "C",
) -> SectionPlan:
    chords = tuple(
        ChordEvent(
            bar=b + 1,
            beat=1,
            start_tick=b * BAR,
            duration_ticks=BAR,
            symbol=chord,
            roman="I",
        )
        for b in range(bars)
    )
    return SectionPlan(
        id="A1",
        label="A",
        name="A",
        role=role,
        index=0,
        start_bar=1,
        bars=bars,
        key="C major",
        chords=chords,
        cadence=cadence,
        melody=melody,
    )


def _quarters(bars: int, pitch: int = 64) -> list[tuple[int, int, int, int, int]]:
    return [(b * BAR + k * Q, Q, pitch, 90, 0) for b in range(bars) for k in range(4)]


def _plan(**kw: object) -> MelodyPlan:
    base: dict[str, object] = {
        "phrases": (
            PhrasePlan(start_bar=1, bars=4, end="half"),
            PhrasePlan(start_bar=5, bars=4, end="full"),
        ),
        "low": 60,
        "high": 76,
        "centre": 67,
        "density": 1.0,
        "rhythm": RhythmVocabulary(durations=(480, 960), max_sixteenths=0.0, max_dotted=0.0),
    }
    base.update(kw)
    return MelodyPlan(**base)


def test_unplanned_phrases_are_four_bars() -> None:
    assert phrases(_section(bars=10)) == [
        (0, 4, None, None),
        (4, 4, None, None),
        (8, 2, None, None),
    ]
    assert phrases(_section(melody=_plan())) == [(0, 4, "half", True), (4, 4, "full", True)]


def test_breathing_unplanned_by_hand() -> None:
    # 12 bars of running quarters: no phrase breathes
    rows = _quarters(12)
    f = listener_features(make_notes(rows), _section(bars=12), METER)
    assert f["lis_breathing"] == pytest.approx(0.0 + 0.4 * math.exp(-(1 / 3) / 0.25))
    # the last bar ends on a whole note and bar 4 too: last breathes; 1 of 2 inner ends (0.5)
    rows = [r for r in rows if r[0] // BAR not in (3, 11)] + [(3 * BAR, BAR, 64, 90, 0)]
    rows += [(11 * BAR, BAR, 60, 90, 0)]
    f = listener_features(make_notes(rows), _section(bars=12), METER)
    assert f["lis_breathing"] == pytest.approx(0.6 + 0.4)
    # every phrase breathing is a metronome: the inner share 1.0 is past 0.85
    rows += [(7 * BAR, BAR, 64, 90, 0)]
    rows = [r for r in rows if not (7 * BAR <= r[0] < 8 * BAR and r[1] == Q)]
    f = listener_features(make_notes(rows), _section(bars=12), METER)
    assert f["lis_breathing"] == pytest.approx(0.6 + 0.4 * math.exp(-0.15 / 0.25))


def test_breathing_planned_weights_ends_by_strength() -> None:
    # the half end (bar 4) runs on, the full end (bar 8) is a whole note
    rows = [r for r in _quarters(8) if r[0] < 7 * BAR] + [(7 * BAR, BAR, 60, 90, 0)]
    f = listener_features(make_notes(rows), _section(melody=_plan()), METER)
    assert f["lis_breathing"] == pytest.approx(1.0 / 1.8)
    # a phrase planned to run on (long_end False) that runs on is what the plan asks
    run_on = _plan(
        phrases=(
            PhrasePlan(start_bar=1, bars=4, end="breath", long_end=False),
            PhrasePlan(start_bar=5, bars=4, end="full"),
        )
    )
    f = listener_features(make_notes(rows), _section(melody=run_on), METER)
    assert f["lis_breathing"] == pytest.approx(1.0)


def test_end_strength_by_hand() -> None:
    # 4 bars (one phrase): the last bar holds E (a chord tone, not the tonic) as a whole note
    rows = [r for r in _quarters(3)] + [(3 * BAR, BAR, 64, 90, 0)]
    sec = _section(bars=4)
    f = listener_features(make_notes(rows), sec, METER)
    assert f["lis_end_strength"] == pytest.approx(0.4 + 0.3 + 0.3 * 0.5)
    # a half cadence: any chord tone is stable
    f = listener_features(make_notes(rows), _section(bars=4, cadence="half"), METER)
    assert f["lis_end_strength"] == pytest.approx(1.0)
    # the arrival a quarter on beat 2 (not a strong beat in 4/4: beats 1 and 3), F (not in C)
    rows = [*_quarters(3), (3 * BAR + Q, Q, 65, 90, 0)]
    f = listener_features(make_notes(rows), _section(bars=4, cadence="half"), METER)
    assert f["lis_end_strength"] == pytest.approx(0.4 * 0.5)


def test_register_features() -> None:
    rows = _quarters(4, pitch=67)
    rows[5] = (rows[5][0], Q, 72, 90, 0)  # the peak in bar 2
    notes = make_notes(rows)
    mean = (15 * 67 + 72) / 16
    chorus = _section(bars=4, role="chorus")
    f = listener_features(
        notes, chorus, METER, verse_pitch=mean - 1.5, song_peak=74, last_chorus=True
    )
    assert f["lis_mean_pitch"] == pytest.approx(mean)
    assert f["lis_above_verse"] == pytest.approx(0.5)
    assert f["lis_climax_fit"] == pytest.approx(math.exp(-1.0))
    assert "lis_centre_fit" not in f
    assert rewards.register_arc(f, chorus) == pytest.approx((0.5 + math.exp(-1.0)) / 2)
    # planned: the centre and the climax bar come from the plan, the verse is not asked
    plan = _plan(phrases=(PhrasePlan(start_bar=1, bars=4, end="full"),), centre=70, climax_bar=4)
    f = listener_features(
        notes, _section(bars=4, role="chorus", melody=plan), METER, verse_pitch=60
    )
    assert f["lis_centre_fit"] == pytest.approx(math.exp(-0.5 * ((mean - 70) / 3) ** 2))
    assert f["lis_climax_fit"] == pytest.approx(math.exp(-0.5 * (2 / 2) ** 2))
    assert "lis_above_verse" not in f
    assert rewards.register_arc({}, chorus) is None


def test_rhythm_idiom_planned_and_fallback() -> None:
    # 8 notes: 2 sixteenths, 1 dotted eighth, 5 quarters; 2 of them blue over C (Eb, Bb)
    durs = [120, 120, 360, 480, 480, 480, 480, 480]
    pitches = [60, 62, 63, 64, 65, 67, 70, 72]
    rows, t = [], 0
    for d, p in zip(durs, pitches, strict=True):
        rows.append((t, d, p, 90, 0))
        t += d
    notes = make_notes(rows)
    plan = _plan(
        phrases=(PhrasePlan(start_bar=1, bars=2, end="full"),),
        rhythm=RhythmVocabulary(durations=(480,), max_sixteenths=0.15, max_dotted=0.125),
    )
    sec = _section(bars=2, melody=plan)
    f = listener_features(notes, sec, METER)
    assert f["lis_sixteenth"] == pytest.approx(0.25)
    assert f["lis_dotted"] == pytest.approx(0.125)
    assert f["lis_vocab"] == pytest.approx(5 / 8)
    assert f["lis_blue"] == pytest.approx(2 / 8)
    assert rewards.rhythm_idiom(f, sec) == pytest.approx(math.exp(-0.1 / 0.05) * 5 / 8)
    # no plan: the fallback of the style family whose melody targets the context carries
    plain = _section(bars=2)
    f = listener_features(notes, plain, METER)
    blues = rewards.target_features(STYLES["blues"])
    max16, maxdot, blue = rewards.FALLBACK_IDIOM["blues"]
    expect = math.exp(-(0.25 - max16) / 0.05) * math.exp(-max(0, 0.125 - maxdot) / 0.05)
    assert blue and rewards.rhythm_idiom({**f, **blues}, plain) == pytest.approx(expect)
    assert rewards.rhythm_idiom({}, plain) is None


def test_hook_fit_by_hand() -> None:
    hook = Hook(onsets=(0, 480, 960, 1440), durations=(480, 480, 480, 480), contour=(0, 1, 2, 1))
    # the hook itself, a fourth higher: rhythm 1, shape 1
    on = [0, 480, 960, 1440]
    pi = [65, 67, 69, 67]
    o, p = np.array(on), np.array(pi)
    assert hook_fit(o, p, hook, "repeat", 0) == pytest.approx(1.0)
    assert hook_fit(o, p, hook, "sequence", 0) == pytest.approx(1.0)
    assert hook_fit(o, p, hook, "vary_rhythm", 0) == pytest.approx(0.7)
    # eighths on the same shape: onsets {0, 240, 480, 720} vs {0, 480, 960, 1440}: 2 of 6
    o2 = np.array([0, 240, 480, 720])
    assert hook_fit(o2, p, hook, "repeat", 0) == pytest.approx(0.5 * 2 / 6 + 0.5)
    assert hook_fit(o2, p, hook, "vary_rhythm", 0) == pytest.approx(0.7 + 0.3 * 4 / 6)
    # fragment: the first half (two notes, up a step) is enough
    assert hook_fit(np.array([0, 480]), np.array([60, 62]), hook, "fragment", 0) == pytest.approx(
        1.0
    )
    # at a later bar
    assert hook_fit(o + BAR, p, hook, "repeat", BAR) == pytest.approx(1.0)


def test_hook_feature_only_where_planned() -> None:
    hook = Hook(onsets=(0, 960), durations=(960, 960), contour=(0, 2))
    rows = [(0, 960, 60, 90, 0), (960, 960, 64, 90, 0), (BAR, BAR, 62, 90, 0)]
    plan = _plan(
        phrases=(PhrasePlan(start_bar=1, bars=2, end="full"),), hook="state", hook_bars=(1,)
    )
    sec = _section(bars=2, melody=plan)
    f = listener_features(make_notes(rows), sec, METER, hook=hook)
    assert f["lis_hook"] == pytest.approx(1.0)
    assert rewards.hook(f, sec) == pytest.approx(1.0)
    assert "lis_hook" not in listener_features(make_notes(rows), sec, METER)  # no song hook
    assert "lis_hook" not in listener_features(make_notes(rows), _section(bars=2), METER, hook=hook)
    assert rewards.hook({}, sec) is None


def test_listener_rewards_are_in_the_total_only_with_features() -> None:
    sec = _section(bars=4)
    without = rewards.score(BASE, sec)
    assert not {"breathing", "cadence_strength", "register_arc", "rhythm_idiom", "hook"} & set(
        without
    )
    with_ = rewards.score({**BASE, "lis_breathing": 0.5}, sec)
    assert with_["breathing"] == 0.5
    w = rewards.WEIGHTS
    names = [n for n in with_ if n != "total"]
    expect = sum(w[n] * with_[n] for n in names) / sum(w[n] for n in names)
    assert with_["total"] == pytest.approx(expect)
    assert rewards.breathing({}, sec) is None and rewards.cadence_strength({}, sec) is None
    assert set(rewards.OBJECTIVES["melody"]) >= {"breathing", "cadence_strength", "register_arc"}


def test_no_melody_no_features() -> None:
    assert listener_features(make_notes([(0, 480, 40, 90, 2)]), _section(bars=1), METER) == {}
