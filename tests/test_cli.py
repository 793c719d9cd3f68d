"""The command line: bad input gives one line, exit 2, no traceback, no output; good input works
in-process and in a real subprocess; the same seed gives byte-identical MIDI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from composer.cli import app, main

ROOT = Path(__file__).resolve().parent.parent
FAST = ["--candidates", "2", "--quiet"]


def _yaml(tmp_path: Path, text: str) -> str:
    p = tmp_path / "spec.yaml"
    p.write_text(text)
    return str(p)


BAD = [
    # (id, args or a yaml text, a word the one-line message must contain)
    ("unknown key", ["--key", "H major"], "key"),
    ("bad meter", ["--time-signature", "4/5"], "time_signature"),
    ("empty form", ["--form", ""], "form"),
    ("malformed form", ["--form", "A[B"], "form"),
    ("unknown section name", ["--form", "verse vrese"], "form"),
    ("zero tempo", ["--tempo", "0"], "tempo"),
    ("absurd tempo", ["--tempo", "1000"], "tempo"),
    ("tempo not a number", ["--tempo", "fast"], "--tempo"),
    ("unknown style", ["--style", "polka"], "style"),
    ("zero candidates", ["--candidates", "0"], "candidates"),
    ("unknown generator", ["--generator", "nope"], "generator"),
    ("checkpoint without transformer", ["--checkpoint", "model"], "checkpoint"),
    ("missing spec file", ["--spec", "/nonexistent/song.yaml"], "--spec"),
    ("unknown option", ["--tmepo", "90"], "--tmepo"),
    ("zero bars", "form: AB\nsections:\n  A: {bars: 0}\n", "sections.A.bars"),
    ("absurd bars", "form: AB\nsections:\n  A: {bars: 100000}\n", "sections.A.bars"),
    ("bars not a number", "form: AB\nsections:\n  A: {bars: eight}\n", "sections.A.bars"),
    (
        "unknown chord",
        "form: AB\nsections:\n  A: {bars: 2, chords: 'C | Hm7'}\n",
        "sections.A.chords",
    ),
    (
        "chords do not fill",
        "form: AB\nsections:\n  A: {bars: 4, chords: 'C | F | G'}\n",
        "sections.A.chords",
    ),
    ("repeat sign in bar 1", "form: AB\nsections:\n  A: {chords: '% | G'}\n", "sections.A.chords"),
    ("only bar lines", "form: AB\nsections:\n  A: {chords: '| |'}\n", "sections.A.chords"),
    ("unknown field", "form: AB\ntempi: 90\n", "tempi"),
    ("unknown section field", "form: AB\nsections:\n  A: {bar: 8}\n", "sections.A.bar"),
    ("section not in form", "form: AB\nsections:\n  C: {bars: 8}\n", "sections.C"),
    ("yaml syntax error", "form: [AB\n", "--spec"),
    ("yaml not a mapping", "- AABA\n", "--spec"),
    ("unsafe yaml", "form: !!python/object/apply:os.system ['echo pwned']\n", "--spec"),
    ("bad key in section", "form: AB\nsections:\n  B: {key: Q major}\n", "sections.B.key"),
    ("too long", "form: '[A]x16 [B]x16'\nsections:\n  A: {bars: 128}\n", "form"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_input_is_one_line_exit_2_no_output(
    case: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, given, word = case
    args = ["--spec", _yaml(tmp_path, given)] if isinstance(given, str) else list(given)
    out = tmp_path / "song.mid"
    assert main([*FAST, *args, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and word in lines[0], lines[0]
    assert "Traceback" not in err
    assert not out.exists() and not out.with_suffix(".json").exists()
    assert list(tmp_path.iterdir()) in ([], [tmp_path / "spec.yaml"])


def test_existing_output_is_not_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "song.mid"
    out.write_bytes(b"mine")
    assert main(["--form", "AB", *FAST, "-o", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_bytes() == b"mine"
    assert main(["--form", "AB", *FAST, "-o", str(out), "--force"]) == 0
    assert out.read_bytes().startswith(b"MThd")


def test_output_must_be_a_known_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--form", "AB", *FAST, "-o", str(tmp_path / "song.txt")]) == 2
    assert "unknown file type '.txt'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_flags_override_the_spec(tmp_path: Path) -> None:
    spec = _yaml(tmp_path, "title: T\nkey: D major\ntempo: 90\nform: AB\nseed: 1\n")
    out = tmp_path / "s.mid"
    assert main(["--spec", spec, "--tempo", "120", "--key", "F minor", *FAST, "-o", str(out)]) == 0
    rep = json.loads(out.with_suffix(".json").read_text())
    assert (rep["title"], rep["tempo"], rep["key"]) == ("T", 120, "F minor")


def test_explicit_values_beat_the_prompt(tmp_path: Path) -> None:
    out = tmp_path / "s.mid"
    args = ["--prompt", "a waltz in C# minor, 60 bpm", "--tempo", "80", "--form", "AB"]
    assert main([*args, *FAST, "-o", str(out)]) == 0
    rep = json.loads(out.with_suffix(".json").read_text())
    assert (rep["key"], rep["tempo"], rep["time_signature"], rep["style"]) == (
        "C# minor",
        80,
        "3/4",
        "waltz",
    )


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.mid", tmp_path / "b.mid", tmp_path / "c.mid"
    spec = str(ROOT / "examples" / "waltz.yaml")
    assert main(["--spec", spec, *FAST, "-o", str(a)]) == 0
    assert main(["--spec", spec, *FAST, "-o", str(b)]) == 0
    assert main(["--spec", spec, *FAST, "--seed", "4", "-o", str(c)]) == 0
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_no_seed_means_a_reported_seed_that_recreates_the_song(tmp_path: Path) -> None:
    a, b = tmp_path / "a.mid", tmp_path / "b.mid"
    assert main(["--form", "AB", *FAST, "-o", str(a)]) == 0
    seed = json.loads(a.with_suffix(".json").read_text())["seed"]
    assert main(["--form", "AB", *FAST, "--seed", str(seed), "-o", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes()


def test_schema_and_generators_and_plan(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["schema"])
    assert res.exit_code == 0
    schema = json.loads(res.stdout)
    assert schema["additionalProperties"] is False
    assert {"key", "tempo", "time_signature", "form", "sections"} <= set(schema["properties"])
    res = runner.invoke(app, ["generators"])
    assert "rules" in res.stdout.split()
    assert "transformer  (default)" in res.stdout.splitlines()
    res = runner.invoke(app, ["plan", "--form", "AABA", "--key", "Bb major", "--seed", "1"])
    assert res.exit_code == 0
    assert "A2 repeats A1" in res.stdout and "Bb major" in res.stdout
    assert not list(tmp_path.iterdir())


def test_help_lists_the_options() -> None:
    res = CliRunner().invoke(app, ["--help"])
    assert res.exit_code == 0
    for opt in (
        "--spec",
        "--form",
        "--prompt",
        "--seed",
        "--candidates",
        "--generator",
        "--checkpoint",
        "--output",
    ):
        assert opt in res.stdout


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    return subprocess.run(
        [sys.executable, "-m", "composer.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_real_subprocess(tmp_path: Path) -> None:
    ok = _run(
        [
            "--form",
            "AABA",
            "--prompt",
            "a wistful jazz ballad in Eb major, 72 bpm",
            "-o",
            "song.mid",
            "--candidates",
            "4",
        ],
        tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "song.mid").exists() and (tmp_path / "song.json").exists()
    assert "wrote song.mid" in ok.stdout
    bad = _run(["--key", "H major", "-o", "other.mid"], tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr
    assert not (tmp_path / "other.mid").exists()


def test_a_bug_is_one_line_unless_debug(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from composer.app import api

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom\n  on two lines")

    monkeypatch.setattr(api, "compose", broken)
    out = str(tmp_path / "s.mid")
    assert main(["--form", "AB", "-q", "-o", out]) == 1
    err = capsys.readouterr().err
    assert err.startswith("internal error: RuntimeError: boom on two lines")
    assert err.count("\n") == 1
    with pytest.raises(RuntimeError):
        main(["--form", "AB", "-q", "--debug", "-o", out])


def test_outputs_get_ordinary_permissions(tmp_path: Path) -> None:
    out = tmp_path / "song.mid"
    umask = os.umask(0o022)
    try:
        assert main(["--form", "AB", *FAST, "-o", str(out)]) == 0
    finally:
        os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o644
    assert out.with_suffix(".json").stat().st_mode & 0o777 == 0o644
