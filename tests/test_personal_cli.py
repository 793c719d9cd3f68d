"""``compose learn`` from a real ratings store, ``compose --profile NAME`` and ``preferences:
{profile: NAME}``, and their one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from composer.cli import main
from composer.preferences.listeners import LISTENERS
from composer.preferences.simulate import simulated_ratings
from composer.studio.ratings import RatingsStore

SPECS = [
    {"form": "AB", "generator": "rules", "seed": 3, "key": "D minor", "candidates": 4},
    {"form": "ABA", "style": "jazz", "generator": "rules", "seed": 4, "candidates": 4},
]
SONG = ["--form", "AB", "--generator", "rules", "--candidates", "4", "--seed", "2"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SONGC_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "data"


def test_learn_then_compose_with_the_profile(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = RatingsStore()
    for r in simulated_ratings(LISTENERS["syncopated"], SPECS, 30, seed=1, rater="sync"):
        store.add_rating(r)
    # a both_bad rating says nothing about the order: left out, counted
    extra = simulated_ratings(LISTENERS["syncopated"], SPECS[:1], 1, seed=9, rater="sync")[0]
    store.add_rating(type(extra)(**{**extra.__dict__, "outcome": "both_bad", "id": None}))
    assert main(["learn", "--profile", "sync"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ratings"] == 30 and out["skipped_both_bad"] == 1
    assert 0.0 <= out["cv_accuracy"] <= 1.0
    assert Path(out["path"]) == home / "profiles" / "sync" / "model-v0001.json"
    assert main(["learn", "--profile", "sync"]) == 0  # again: a new version, nothing overwritten
    assert json.loads(capsys.readouterr().out)["path"].endswith("model-v0002.json")

    assert main([*SONG, "--profile", "sync", "-q", "-o", "a.mid"]) == 0
    report = json.loads((tmp_path / "a.json").read_text())
    assert report["search"]["learned_model"] == "profile:sync@v0002"
    assert report["search"]["weights"]["learned"] == 6.0
    spec = tmp_path / "s.yaml"
    spec.write_text("form: AB\ngenerator: rules\ncandidates: 4\npreferences: {profile: sync}\n")
    assert main(["--spec", str(spec), "-q", "-o", "b.mid"]) == 0
    assert json.loads((tmp_path / "b.json").read_text())["search"]["learned_model"] == (
        "profile:sync@v0002"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([*SONG, "--profile", "a/b"], "error: profile: 'a/b' is not a profile name"),
        ([*SONG, "--profile", "nobody"], "error: profile: no profile 'nobody' in"),
        (["learn", "--profile", "../x"], "error: profile: '../x' is not a profile name"),
        (["learn", "--profile", "newbie"], "error: profile: 'newbie': rater 'newbie' has 0"),
    ],
)
def test_profile_errors_are_one_line(
    argv: list[str], message: str, home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err
    assert not (tmp_path / "song.mid").exists() and not list(tmp_path.glob("*.mid"))


def test_spec_profile_errors(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("form: AB\ngenerator: rules\npreferences: {profile: ghost}\n")
    assert main(["--spec", str(spec), "-q", "-o", "c.mid"]) == 2
    assert "error: profile: no profile 'ghost'" in capsys.readouterr().err
    assert not (tmp_path / "c.mid").exists()
    spec.write_text("form: AB\ngenerator: rules\npreferences: {profile: ghost, learned: false}\n")
    assert main(["--spec", str(spec), "-q", "-o", "c.mid"]) == 2
    assert "error: preferences.learned: is false, but profile 'ghost'" in capsys.readouterr().err


def test_segment_scorer_is_the_search_score(home: Path) -> None:
    """The plain reward offered to DPO scores a candidate as the search's learned slot does."""
    import numpy as np

    from composer.pipeline import compile_song
    from composer.preferences.model import fit
    from composer.preferences.profiles import save_profile
    from composer.preferences.search import personal_reward, segment_scorer
    from composer.search.batch import section_arrays
    from grammar.spec import validate_spec
    from kernels.batch import check_batch
    from tests.test_personal import rate, synthetic_items

    save_profile("hi", fit(*rate(LISTENERS["high"], synthetic_items(200, 1), 40, seed=2)))
    c = compile_song(validate_spec({"form": "AB", "generator": "rules", "candidates": 2}))
    plan = c.need_plan()
    sect = plan.sections[1]
    notes = c.choices[sect.id].chosen.segment.notes
    got = segment_scorer("hi")(notes, sect, plan)
    features = check_batch([notes], section_arrays(sect, plan)).features
    want = personal_reward("hi").score(features, sect.key_obj().tonic)[0]
    assert 0.0 < got < 1.0 and np.isclose(got, want)
    higher = notes.copy()
    higher["pitch"][higher["track"] == 0] += 5  # the same melody a fourth higher
    assert segment_scorer("hi")(higher, sect, plan) > got
