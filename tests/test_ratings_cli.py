"""`compose rate` and `compose ratings export|import` from the terminal."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from composer.cli import app, main
from composer.studio.ratings import HOME_ENV, RatingsStore
from tests.test_ratings import make_rating

SMALL = ["--form", "AB", "--generator", "rules", "--candidates", "4", "--seed", "2"]
needs_audio = pytest.mark.skipif(
    shutil.which("fluidsynth") is None, reason="FluidSynth is not installed (make render-deps)"
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "songc"))
    return tmp_path / "songc"


def test_export_and_import_move_ratings(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = RatingsStore()
    for k in range(3):
        store.add_rating(make_rating(k))
    out = tmp_path / "r.jsonl"
    assert main(["ratings", "export", str(out)]) == 0
    assert "wrote 3 ratings" in capsys.readouterr().out
    text = out.read_bytes()
    assert main(["ratings", "export", str(out)]) == 2  # never overwritten silently
    assert "exists" in capsys.readouterr().err
    assert out.read_bytes() == text
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "elsewhere"))
    assert main(["ratings", "import", str(out)]) == 0
    assert "added 3 ratings, 0 already there (3 in all)" in capsys.readouterr().out
    assert main(["ratings", "import", str(out)]) == 0
    assert "added 0 ratings, 3 already there (3 in all)" in capsys.readouterr().out
    again = tmp_path / "again.jsonl"
    assert main(["ratings", "export", str(again)]) == 0
    assert again.read_bytes() == text


def test_a_bad_import_is_one_line_and_stores_nothing(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"rater": "x"}\n')
    assert main(["ratings", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: line 1.") and err.count("\n") == 1
    assert main(["ratings", "import", str(tmp_path / "missing.jsonl")]) == 2
    assert RatingsStore().count() == 0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--outcome", "maybe"], "--outcome"),
        (["--tags", "tempo"], "--tags"),
        (["--kind", "album"], "--kind"),
        (["--kind", "song", "--section", "A1"], "--section"),
    ],
)
def test_rate_refuses_bad_flags_before_any_work(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], field: str
) -> None:
    rc = main(["rate", *SMALL, "--out-dir", str(tmp_path / "ab"), *args])
    assert rc == 2
    assert capsys.readouterr().err.startswith(f"error: {field}: ")
    assert not (tmp_path / "ab").exists() and not home.exists()


@needs_audio
def test_rate_never_overwrites_audio(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ab = tmp_path / "ab"
    ab.mkdir()
    (ab / "a.wav").write_bytes(b"mine")
    assert main(["rate", *SMALL, "--out-dir", str(ab), "--outcome", "a"]) == 2
    assert "exists" in capsys.readouterr().err
    assert (ab / "a.wav").read_bytes() == b"mine"
    assert not home.exists() or RatingsStore().count() == 0


@needs_audio
@pytest.mark.slow
def test_rate_writes_both_takes_asks_and_stores(home: Path, tmp_path: Path) -> None:
    ab = tmp_path / "ab"
    res = CliRunner().invoke(
        app,
        ["rate", *SMALL, "--out-dir", str(ab), "--rater", "bo"],
        input="maybe\nb\nharmony, form\n",
    )
    assert res.exit_code == 0, res.output
    assert "is not one of a, b, tie, both_bad" in res.output  # asked again
    for name in ("a.wav", "b.wav"):
        assert (ab / name).read_bytes()[:4] == b"RIFF"
    assert (ab / "a.wav").read_bytes() != (ab / "b.wav").read_bytes()
    [r] = RatingsStore().list_ratings()
    assert (r.kind, r.outcome, r.tags, r.rater) == ("section", "b", ("harmony", "form"), "bo")
    assert r.details["a"] in ("chosen", "runner-up") and r.details["b"] != r.details["a"]
    assert f"stored rating #{r.id}" in res.output
