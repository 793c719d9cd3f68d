"""The ornament pass (composer.generators.ornaments): small hand-checked cases, then a composed
song whose ornamented sections the checker finds no worse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from composer.generators import ornaments as O
from grammar.meter import parse_time_signature

C_MAJOR = sum(1 << pc for pc in (0, 2, 4, 5, 7, 9, 11))
C7 = sum(1 << pc for pc in (0, 4, 7, 10))


def _harmony(extra: int = 0) -> O.Harmony:
    return O.Harmony(allowed=lambda t: C_MAJOR | C7 | extra, chord=lambda t: C7, scale=C_MAJOR)


def _always() -> np.random.Generator:
    return np.random.default_rng(0)  # with rate=1.0 every eligible note is decorated


def _length(notes: list[O.Note]) -> int:
    return max(o + d for o, d, _, _ in notes)


def test_an_approach_tone_takes_the_last_eighth_of_the_note_before() -> None:
    meter = parse_time_signature("4/4")
    notes = [(0, 960, 67, 80), (960, 960, 64, 80), (1920, 1920, 60, 80)]  # G, E on beat 3, C
    out, done = O.ornament_melody(notes, ("approach",), meter, _harmony(), frozenset({1}),
                                  (48, 84), _always(), rate=1.0)  # fmt: skip
    # E (a tone of C7 on the strong beat 3) approached from Eb? not in key nor chord: from D
    assert done == (1,)
    assert out[:3] == [(0, 720, 67, 80), (720, 240, 62, 68), (960, 960, 64, 80)]
    assert _length(out) == _length(notes) and out[-1] == notes[-1]  # bar 2 protected
    # with the blues' b3 allowed, the third is approached from a semitone below: Eb -> E
    blue = 1 << 3
    out, _ = O.ornament_melody(notes, ("approach",), meter, _harmony(blue), frozenset({1}),
                               (48, 84), _always(), rate=1.0)  # fmt: skip
    assert out[1] == (720, 240, 63, 68)


def test_a_cut_in_a_jig_is_a_grace_from_the_step_above_before_the_beat() -> None:
    meter = parse_time_signature("6/8")
    notes = [(0, 240, 62, 80), (240, 240, 64, 80), (480, 240, 66, 80), (720, 720, 66, 80)]
    out, done = O.ornament_melody(notes, ("cut",), meter, _harmony(), frozenset(), (48, 84),
                                  _always(), rate=1.0)  # fmt: skip
    assert done == (3,)  # the note on the second felt beat (a repeated F#)
    assert out[2:] == [(480, 180, 66, 80), (660, 60, 67, 68), (720, 720, 66, 80)]
    assert _length(out) == _length(notes)


def test_a_roll_and_a_turn_keep_the_note_on_its_beat_and_its_length() -> None:
    roll, _ = O.ornament_melody([(0, 720, 64, 80)], ("roll",), parse_time_signature("6/8"),
                                _harmony(), frozenset(), (48, 84), _always(), rate=1.0)  # fmt: skip
    assert [p for _, _, p, _ in roll] == [64, 65, 64, 62, 64]
    assert roll[0][0] == 0 and _length(roll) == 720 and sum(d for _, d, _, _ in roll) == 720
    turn, _ = O.ornament_melody([(0, 1440, 64, 80)], ("turn",), parse_time_signature("4/4"),
                                _harmony(), frozenset(), (48, 84), _always(), rate=1.0)  # fmt: skip
    assert [p for _, _, p, _ in turn] == [64, 65, 64, 62, 64] and _length(turn) == 1440


def test_nothing_outside_the_idiom_the_range_or_the_short_note_budget() -> None:
    meter = parse_time_signature("4/4")
    notes = [(0, 480, 64, 80), (480, 480, 64, 80), (960, 1920, 65, 80)]
    assert O.ornament_melody(notes, (), meter, _harmony(), frozenset(), (48, 84),
                             _always(), rate=1.0)[1] == ()  # fmt: skip
    _, done = O.ornament_melody(notes, ("mordent",), meter, _harmony(), frozenset(), (64, 84),
                                _always(), rate=1.0)  # fmt: skip
    assert 0 not in done and 1 not in done  # the lower step D would leave the range
    _, done = O.ornament_melody(notes, ("mordent",), meter, _harmony(), frozenset(), (48, 84),
                                _always(), rate=1.0, max_short=2)  # fmt: skip
    assert len(done) == 1  # a mordent adds two 32nds: the budget holds one
    assert O.kinds_of(["trill", "cut", "roll"], False) == ("cut", "roll")
    assert O.kinds_of([], True) == ("approach",)


def test_seeded_deterministic_and_only_keeps_the_other_decisions() -> None:
    meter = parse_time_signature("6/8")
    rng = np.random.default_rng(0)
    pitches = rng.integers(62, 76, 48)
    notes = [(i * 240, 240, int(p), 80) for i, p in enumerate(pitches)]
    a = O.ornament_melody(notes, ("cut", "roll"), meter, _harmony(), frozenset(), (48, 84),
                          np.random.default_rng(7), rate=1.0)  # fmt: skip
    b = O.ornament_melody(notes, ("cut", "roll"), meter, _harmony(), frozenset(), (48, 84),
                          np.random.default_rng(7), rate=1.0)  # fmt: skip
    assert a == b and len(a[1]) >= 3
    keep = frozenset(a[1][:2])
    c = O.ornament_melody(notes, ("cut", "roll"), meter, _harmony(), frozenset(), (48, 84),
                          np.random.default_rng(7), rate=1.0, only=keep)  # fmt: skip
    assert c[1] == tuple(sorted(keep))
    cutoff = notes[a[1][2] - 1][0]  # up to the note the third ornament may shorten
    assert [n for n in c[0] if n[0] < cutoff] == [n for n in a[0] if n[0] < cutoff]


@pytest.mark.parametrize("example", ["jig", "blues"])
def test_ornamented_songs_pass_the_checker_as_before(example: str) -> None:
    import yaml

    from composer.pipeline import compile_song
    from composer.search.batch import HARD, check
    from grammar.spec import validate_spec
    from kernels.checker import VIOLATIONS
    from kernels.notes import TRACK_MELODY

    spec = yaml.safe_load((Path(__file__).parents[1] / "examples" / f"{example}.yaml").read_text())
    spec.update(generator="rules", candidates=2)
    before = compile_song(validate_spec(spec), stop_after="compose")
    after = compile_song(validate_spec(spec), stop_after="ornament")
    plan = after.need_plan()
    guarded = [k for k, v in enumerate(VIOLATIONS) if v in HARD or v in O.GUARDED]
    total = 0
    for s in plan.sections:
        old, new = before.choices[s.id].chosen.segment, after.choices[s.id].chosen.segment
        total += new.provenance.get("ornaments", 0)
        res = check([old, new], s, plan)
        assert (res.violations[1][guarded] <= res.violations[0][guarded]).all()
        m_old = old.notes[old.notes["track"] == TRACK_MELODY]
        m_new = new.notes[new.notes["track"] == TRACK_MELODY]
        assert (m_old["onset"] + m_old["duration"]).max() == (
            m_new["onset"] + m_new["duration"]
        ).max()
        assert np.array_equal(  # the band is untouched
            old.notes[old.notes["track"] != TRACK_MELODY], new.notes[new.notes["track"] != 0]
        )
    assert total >= 1  # the idiom is heard somewhere


def test_phrase_ends_and_the_four_bar_grid_are_left_as_written() -> None:
    from planners.plan import MelodyPlan, PhrasePlan, RhythmVocabulary, SectionPlan

    phrases = (PhrasePlan(start_bar=1, bars=2, long_end=False), PhrasePlan(start_bar=3, bars=3),
               PhrasePlan(start_bar=6, bars=5))  # fmt: skip
    plan = MelodyPlan(phrases=phrases, low=60, high=72, centre=66, density=1.0,
                      rhythm=RhythmVocabulary(durations=(240, 480)))  # fmt: skip
    sec = SectionPlan(id="A1", label="A", name="A", role="verse", index=0, start_bar=1, bars=10,
                      key="C", melody=plan)  # fmt: skip
    # phrase ends long at bars 5 and 10 (1-based), the grid at 4 and 8; bar 2 runs on
    assert O.phrase_end_bars(sec) == frozenset({3, 4, 7, 9})
