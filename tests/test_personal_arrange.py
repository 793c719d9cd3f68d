"""A profile reaches the arrangement and the harmony: the personal model picks each section's
energy (drums, comp, bass patterns) and the progression among the planner's, in the direction
the listener wants; without a profile the arrangement is the form's, exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from composer.arrange import Energy, arrange_song, section_energies
from composer.pipeline import compile_song, song_notes
from composer.preferences.arrangement import profile_energies, variants
from composer.preferences.features import drum_density, item_features
from composer.preferences.harmony import band_utility, profile_harmony
from composer.preferences.listeners import LISTENERS, Listener
from composer.preferences.model import PersonalModel, fit
from composer.preferences.pool import arrangement_drums, song_candidates
from composer.preferences.profiles import save_profile
from grammar.spec import validate_spec
from kernels.features import FEATURES
from kernels.notes import TRACK_DRUMS
from planners.harmony import plan_harmony

SPEC = {"form": "ABAB", "style": "rock", "key": "C major", "generator": "rules", "seed": 3}
SPEC_SMALL = {**SPEC, "candidates": 4}


def model_for(weight: float) -> PersonalModel:
    """A model fitted on 80 ratings of a listener who wants drums busier (``weight`` > 0) or
    sparser (< 0), on synthetic item rows."""
    rng = np.random.default_rng(5)
    n = 300
    kernel = rng.random((n, len(FEATURES)))
    kernel[:, FEATURES.index("mean_pitch")] = rng.normal(70, 3, n)
    kernel[:, FEATURES.index("note_density")] = rng.normal(20, 6, n)
    x = item_features(kernel, rng.integers(0, 12, n), rng.normal(10, 3, n))
    who = Listener("t", "drums", (("drum_density", weight, 1.5),))
    i = rng.integers(0, n, 80)
    j = (i + rng.integers(1, n, 80)) % n
    return fit(x[i], x[j], who.answer(x[i], x[j], rng))


def drums_per_section(notes: np.ndarray, song: object) -> list[float]:
    bar = song.meter().bar_ticks  # type: ignore[attr-defined]
    out = []
    for s in song.sections:  # type: ignore[attr-defined]
        t0 = song.section_start_tick(s)  # type: ignore[attr-defined]
        inside = (notes["onset"] >= t0) & (notes["onset"] < t0 + s.bars * bar)
        out.append(drum_density(notes[inside], s.bars))
    return out


def test_variants_step_one_level_each_way() -> None:
    assert variants(Energy("mid", 2)) == [Energy("mid", 2), Energy("low", 1), Energy("high", 3)]
    assert variants(Energy("low", 1)) == [Energy("low", 1), Energy("mid", 2)]
    assert variants(Energy("high", 5)) == [Energy("high", 5), Energy("mid", 4)]
    assert variants(Energy("bridge", 3)) == [
        Energy("bridge", 3),
        Energy("bridge", 2),
        Energy("bridge", 4),
    ]


def test_the_profile_moves_drum_density_the_way_the_listener_wants() -> None:
    c = compile_song(validate_spec(SPEC_SMALL), stop_after="compose")
    plan, melody = c.need_plan(), song_notes(c)
    form = drums_per_section(arrange_song(plan, melody), plan)
    busy = profile_energies(plan, melody, model_for(1.0))
    calm = profile_energies(plan, melody, model_for(-1.0))
    more = drums_per_section(arrange_song(plan, melody, busy), plan)
    less = drums_per_section(arrange_song(plan, melody, calm), plan)
    assert all(m >= f for m, f in zip(more, form, strict=True)) and sum(more) > sum(form)
    assert all(m <= f for m, f in zip(less, form, strict=True)) and sum(less) < sum(form)
    assert busy != section_energies(plan) != calm
    assert profile_energies(plan, melody, model_for(1.0)) == busy  # deterministic


def test_compose_with_a_drummer_profile_arranges_busier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SONGC_HOME", str(tmp_path))
    save_profile("drums", model_for(1.0))
    plain = compile_song(validate_spec(SPEC_SMALL))
    mine = compile_song(validate_spec({**SPEC_SMALL, "preferences": {"profile": "drums"}}))
    assert plain.energies is None  # no profile: the form's energies ...
    assert plain.notes is not None and mine.notes is not None and mine.energies is not None
    plan = plain.need_plan()
    same = arrange_song(plan, song_notes(plain), section_energies(plan))
    assert np.array_equal(plain.notes, same)  # ... and the arrangement they give, exactly
    hits = [int(np.count_nonzero(c.notes["track"] == TRACK_DRUMS)) for c in (plain, mine)]  # type: ignore[index]
    assert hits[1] > hits[0]


def fitted(taste: tuple[tuple[str, float, float], ...]) -> PersonalModel:
    """A model fitted on 120 ratings of a listener with ``taste``, on synthetic item rows whose
    pitch-class shares vary as songs' do."""
    rng = np.random.default_rng(6)
    n = 400
    kernel = rng.random((n, len(FEATURES)))
    pcs = rng.dirichlet(np.ones(12), n)
    kernel[:, FEATURES.index("pc_0") : FEATURES.index("pc_0") + 12] = pcs
    x = item_features(kernel, np.zeros(n, dtype=np.int64), rng.normal(10, 3, n))
    who = Listener("t", "harmony", taste)
    i = rng.integers(0, n, 120)
    j = (i + rng.integers(1, n, 120)) % n
    return fit(x[i], x[j], who.answer(x[i], x[j], rng))


def test_a_dark_profile_picks_a_darker_progression_a_bright_one_no_darker() -> None:
    dark = LISTENERS["dark"]
    bright = Listener("bright", "the major third", tuple((f, -w, s) for f, w, s in dark.taste))
    spec = validate_spec({**SPEC_SMALL, "style": "pop", "form": "ABAC"})
    song = compile_song(spec, stop_after="keys").need_plan()
    own = plan_harmony(spec, song)
    truth = fitted(dark.taste)  # any model: band_utility of the true listener's head
    darker = profile_harmony(spec, song, fitted(dark.taste), plan_harmony)
    brighter = profile_harmony(spec, song, fitted(bright.taste), plan_harmony)
    u = {k: band_utility(p, truth) for k, p in (("own", own), ("d", darker), ("b", brighter))}
    assert u["d"] > u["own"] >= u["b"], u  # darker moved; brighter never darker than its own
    assert darker.seed == brighter.seed == song.seed  # the song keeps its seed
    assert profile_harmony(spec, song, fitted(dark.taste), plan_harmony) == darker


def test_a_model_that_learned_nothing_moves_nothing() -> None:
    spec = validate_spec({**SPEC_SMALL, "style": "pop", "form": "ABAC"})
    song = compile_song(spec, stop_after="keys").need_plan()
    x = item_features(np.random.default_rng(1).random((4, len(FEATURES))), 0)
    prior = fit(x[:0], x[:0], np.zeros(0))  # no ratings: the shipped reward, uncertain weights
    assert profile_harmony(spec, song, prior, plan_harmony) == plan_harmony(spec, song)
    c = compile_song(validate_spec(SPEC_SMALL), stop_after="compose")
    plan = c.need_plan()
    assert profile_energies(plan, song_notes(c), prior) == section_energies(plan)


def test_pool_candidates_can_be_heard_with_the_arrangement_variants() -> None:
    c = compile_song(validate_spec(SPEC_SMALL))
    plain = song_candidates(c, 3)
    varied = song_candidates(c, 3, arrangements=True)
    assert all(np.ndim(sc.drums) == 0 for sc in plain)
    drums = [np.asarray(sc.drums) for sc in varied]
    assert all(d.shape == (3,) for d in drums)
    assert any(np.unique(d).size > 1 for d in drums)  # one section's candidates differ in drums
    for p, v in zip(plain, varied, strict=True):
        assert v.drums[0] == pytest.approx(arrangement_drums(c.need_plan(), v.section)[0])
        assert np.array_equal(p.kernel, v.kernel)  # the same candidates, only the drums differ


def test_revising_a_profile_song_keeps_its_arrangement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from composer.app import api
    from composer.app.revise import revise

    monkeypatch.setenv("SONGC_HOME", str(tmp_path))
    save_profile("drums", model_for(1.0))
    song = api.compose(validate_spec({**SPEC_SMALL, "preferences": {"profile": "drums"}}))
    levels = [s.arrangement for s in song.report.sections]
    assert [a.level for a in levels if a] != [e.level for e in section_energies(song.plan)]
    done = revise(song, ["A1"], seed=3, part="melody")  # a new tune over the same band
    assert [s.arrangement for s in done.song.report.sections] == levels
    state0, state1 = song.report.song, done.song.report.song
    assert state0 is not None and state1 is not None
    a, b = state0.notes("A1", "arranged"), state1.notes("A1", "arranged")
    # the revised section's drums are the profile's arrangement, not the form's
    assert np.array_equal(a[a["track"] == TRACK_DRUMS], b[b["track"] == TRACK_DRUMS])
