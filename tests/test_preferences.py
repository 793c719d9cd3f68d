"""``preferences:`` in a spec, user profiles, the report's account of every choice, and the
``eval`` / ``train-reward`` commands: bad input is one line and exit 2, as everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from composer.app import api
from composer.cli import main
from composer.search.batch import HARD
from grammar.errors import SpecError
from grammar.spec import load_profile, validate_spec

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("prefs", "field", "words"),
    [
        ({"wieghts": {}}, "preferences.wieghts", "allowed: weights, profile"),
        ({"weights": {"nonsense": 1}}, "preferences.weights", "unknown reward 'nonsense'"),
        ({"weights": {"novelty": -1}}, "preferences.weights", "0..100"),
        ({"beam": 0}, "preferences.beam", ""),
        ({"diversity": 1.5}, "preferences.diversity", ""),
        ({"profile": " "}, "preferences.profile", "empty"),
    ],
)
def test_bad_preferences_name_the_field(prefs: dict, field: str, words: str) -> None:
    with pytest.raises(SpecError) as err:
        validate_spec({"preferences": prefs})
    assert err.value.field == field and words in str(err.value)


def test_profile_files(tmp_path: Path) -> None:
    good = tmp_path / "me.yaml"
    good.write_text("weights: {novelty: 2, groove: 0.5}\n")
    assert load_profile(good) == {"novelty": 2.0, "groove": 0.5}
    for text, words in [
        ("weights: {novelty: high}\n", "numbers"),
        ("weights: {nope: 1}\n", "unknown reward"),
        ("colour: blue\n", "one field"),
        ("[1, 2\n", "YAML syntax error"),
    ]:
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(SpecError, match=words):
            load_profile(bad)
    with pytest.raises(SpecError, match="no such file"):
        load_profile(tmp_path / "absent.yaml")


def test_weights_flow_from_style_profile_and_spec_into_the_report(tmp_path: Path) -> None:
    profile = tmp_path / "me.yaml"
    profile.write_text("weights: {novelty: 2, groove: 0.5}\n")
    song = api.compose(
        {
            "form": "AB",
            "style": "jazz",
            "seed": 1,
            "candidates": 4,
            "preferences": {"profile": str(profile), "weights": {"groove": 3}, "beam": 2},
        }
    )
    search = song.report.search
    assert search is not None and search.beam == 2 and search.diversity == 0.25
    assert search.weights["novelty"] == 2.0 and search.weights["groove"] == 3.0
    assert search.weights["style_rhythm"] == pytest.approx(0.75 * 1.5)  # the jazz multiplier
    assert search.learned_model is not None and search.learned_model.startswith("bt-mlp")


def test_report_explains_every_choice() -> None:
    song = api.compose({"form": "A A' B A", "style": "pop", "seed": 4, "candidates": 12})
    first = song.report.sections[0].choice
    assert first.candidates == first.proposed == 12  # one path at the start
    for s in song.report.sections:
        c = s.choice
        assert 1 <= c.candidates <= c.proposed <= 4 * 12 and c.candidate < c.candidates
        assert c.candidates == 12 or s.relation == "repeats"  # a literal repeat proposes one
        assert "total" in s.scores and "learned" in s.scores
        if c.runner_up_objective is not None:
            assert c.margin == pytest.approx(c.objective - c.runner_up_objective, abs=2e-4)
            assert "total" in c.reward_margins and set(c.reward_margins) <= set(s.scores)
        hard = sum(v for k, v in s.violations.items() if k in HARD)
        if c.decided_by == "violations":
            assert c.runner_up_violations is not None and c.runner_up_violations > hard
        assert 0.0 <= c.diversity <= 1.0 and 0.0 <= c.junction <= 1.0
    assert any(s.relation == "varies" and "form_relation" in s.scores for s in song.report.sections)
    assert any("novelty" in s.scores for s in song.report.sections)


def _spec_dir(tmp_path: Path) -> Path:
    d = tmp_path / "specs"
    d.mkdir()
    (d / "tiny.yaml").write_text(
        "form: AABA\nstyle: folk\nsections: {A: {bars: 4}, B: {bars: 4}}\n"
    )
    return d


def test_eval_command_writes_metrics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["eval", str(_spec_dir(tmp_path)), "-o", str(out), "--seed", "1", "--seed", "2",
                 "--candidates", "4"])  # fmt: skip
    assert code == 0
    results = json.loads((out / "eval.json").read_text())
    assert [r["seed"] for r in results["songs"]] == [1, 2]
    for row in results["songs"]:
        assert 0 <= row["interval_overlap"] <= 1 and 0 <= row["in_key_rate"] <= 1
        assert row["hard_violations"] >= 0 and 0 < row["reward_total"] <= 1
    assert results["diversity"]["tiny"] is not None
    assert "interval_overlap (held out)" in (out / "eval.md").read_text()
    assert "reward_total" in capsys.readouterr().out
    assert (out / "tiny-1.mid").is_file() and (out / "tiny-1.json").is_file()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["eval", "/nonexistent/specs"], "eval: no such folder"),
        (["eval", "."], "no *.yaml specs"),
        (["train-reward", "--seed", "x"], "--seed"),
    ],
)
def test_eval_and_train_bad_input(
    args: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and words in err and err.count("\n") == 1


@pytest.mark.slow
def test_alignment_beats_one_candidate(tmp_path: Path) -> None:
    """The must-show in miniature: same specs, same seeds; best-of-16 with stitching scores
    higher on the rewards with no more hard violations than the first proposal."""
    from composer.app.api import evaluate

    specs = tmp_path / "specs"
    specs.mkdir()
    for name in ("ballad", "jig", "hymn"):
        (specs / f"{name}.yaml").write_text((ROOT / "examples" / f"{name}.yaml").read_text())
    aligned = evaluate(specs, tmp_path / "a", [1, 2], {"candidates": 16}, save_results=False)
    n1 = evaluate(
        specs,
        tmp_path / "b",
        [1, 2],
        {"candidates": 1, "preferences": {"beam": 1}},
        save_results=False,
    )
    a, b = aligned["summary"], n1["summary"]
    assert a["reward_total"] > b["reward_total"]
    assert a["hard_violations"] <= b["hard_violations"]
    assert a["seed_diversity"] is not None and b["seed_diversity"] is not None
