"""Issue 11, hardening: each failure found by trying the tool as a new user (and by fuzzing) has a
regression test here. Bad input is one line, exit 2, the field named, nothing written; nothing
shipped or given as input is overwritten; interrupts leave nothing half-written."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from composer.app import api
from composer.app.output import write_files
from composer.cli import COMMAND_ORDER, main
from grammar.errors import ComposeError, OutputError, SpecError
from grammar.spec import load_spec, validate_spec

ROOT = Path(__file__).resolve().parent.parent
FAST = ["--generator", "rules", "--candidates", "1", "--quiet"]
ROOTLESS = pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit code and stderr of the CLI; stderr must be at most one line on an error."""
    rc = main(argv)
    err = capsys.readouterr().err
    return rc, err


def one_line_error(rc: int, err: str, field: str) -> None:
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert field in lines[0], err
    assert "Traceback" not in err and len(err) < 600, err


def spec_file(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def spec_error(text: str, tmp_path: Path) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec(spec_file(tmp_path, text))
    return info.value


# --- Security and integrity -----------------------------------------------------------------


def test_train_state_is_loaded_with_weights_only(tmp_path: Path) -> None:
    """A train-state file planted in the cache is a pickle: it must not run code on resume."""
    import torch

    from composer.training.melody import _load_state

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[Any, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    planted = tmp_path / "train-state-x.pt"
    torch.save({"model": {}, "opt": {}, "step": 0, "best": 1.0, "log": [Evil()]}, planted)
    with pytest.raises(SpecError, match=r"--resume.*--no-resume"):
        _load_state(planted, "cpu")
    assert not marker.exists()
    # a real state (tensors, numbers, a log of dicts) still loads
    good = tmp_path / "train-state-y.pt"
    state = {"model": {"w": torch.ones(2)}, "opt": {}, "step": 3, "best": 0.5, "log": [{"a": 1}]}
    torch.save(state, good)
    assert _load_state(good, "cpu")["step"] == 3


def test_yaml_alias_bomb_is_refused_fast(tmp_path: Path) -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        levels.append(f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} [{', '.join(['*' + prev] * 10)}]")
    text = "\n".join(levels) + "\ntempo: *i\n"
    assert len(text) < 1000
    t0 = time.perf_counter()
    err = spec_error(text, tmp_path)
    assert time.perf_counter() - t0 < 5
    assert "aliases" in str(err) and len(str(err)) < 300


def test_yaml_bomb_inside_a_field_small_enough_for_the_alias_count(tmp_path: Path) -> None:
    """Few aliases, each doubling: refused by the expanded-size bound, not after gigabytes."""
    lines = ["tempo:", "  - &a0 [1, 1, 1, 1, 1, 1, 1, 1]"]
    for i in range(1, 40):
        lines.append(f"  - &a{i} [*a{i - 1}, *a{i - 1}]")
    err = spec_error("\n".join(lines) + "\n", tmp_path)
    assert "values once aliases are expanded" in str(err)


def test_deep_yaml_nesting_is_one_line(tmp_path: Path) -> None:
    err = spec_error("tempo: " + "[" * 5000 + "]" * 5000 + "\n", tmp_path)
    assert "nested more than" in str(err)
    # the same in a profile
    profile = spec_file(tmp_path, "weights: " + "{a: " * 3000 + "1" + "}" * 3000, "p.yaml")
    with pytest.raises(SpecError, match=r"preferences\.profile.*nested"):
        api.compose({"preferences": {"profile": str(profile)}, "form": "A"})


def test_huge_integer_in_yaml_is_one_line(tmp_path: Path) -> None:
    err = spec_error("seed: " + "7" * 5001 + "\n", tmp_path)
    assert "5001 digits" in str(err) and len(str(err)) < 300


def test_duplicate_yaml_keys_are_refused(tmp_path: Path) -> None:
    err = spec_error("tempo: 90\nkey: C major\ntempo: 100\n", tmp_path)
    assert "duplicate key 'tempo' at line 3" in str(err)
    err = spec_error("sections:\n  A: {bars: 4, bars: 8}\nform: A\n", tmp_path)
    assert "duplicate key 'bars'" in str(err)


def test_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    err = spec_error("# " + "x" * 2_000_000 + "\n", tmp_path)
    assert "bytes (at most" in str(err)


@pytest.mark.parametrize(
    "data",
    [
        {"key": "H" * 100_000},
        {"style": "x" * 100_000},
        {"time_signature": "9" * 100_000},
        {"form": "Q" * 100_000 + "?"},
        {"sections": {"A" * 100_000: {"bars": 2}}},
        {"title": "t" * 100_000},
        {"tempo": 10**4000},
    ],
    ids=["key", "style", "meter", "form", "section label", "title", "tempo"],
)
def test_error_messages_never_print_a_value_unbounded(data: dict[str, Any]) -> None:
    with pytest.raises(ComposeError) as info:
        api.plan(data)
    text = str(info.value)
    assert len(text) <= 560 and "\n" not in text


def test_shipped_reward_model_needs_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from composer.reward_model import MODEL_PATH
    from composer.training import reward as trainer

    def no_work(*a: Any, **k: Any) -> None:
        raise AssertionError("trained before checking the output")

    monkeypatch.setattr(trainer, "train", no_work)
    before = MODEL_PATH.read_bytes()
    rc, err = run(["train-reward", "--limit", "1"], capsys)
    one_line_error(rc, err, "--force")
    rc, err = run(["train-reward", "-o", str(tmp_path / "missing" / "r.json")], capsys)
    one_line_error(rc, err, "does not exist")
    existing = tmp_path / "r.json"
    existing.write_text("{}")
    rc, err = run(["train-reward", "-o", str(existing)], capsys)
    one_line_error(rc, err, "exists")
    for limit in ("0", "-3"):
        rc, err = run(["train-reward", "--limit", limit, "-o", str(tmp_path / "n.json")], capsys)
        one_line_error(rc, err, "--limit")
    assert MODEL_PATH.read_bytes() == before


@ROOTLESS
def test_train_reward_into_read_only_folder_fails_before_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    rc, err = run(["train-reward", "-o", str(ro / "r.json")], capsys)
    one_line_error(rc, err, "not writable")


def test_read_only_output_folder_is_checked_before_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same check as above, for root too (root may write anywhere): os.access says no."""
    ro = tmp_path / "ro"
    ro.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == ro else real(p, mode))
    rc, err = run(["train-reward", "-o", str(ro / "r.json")], capsys)
    one_line_error(rc, err, "not writable")
    specs = tmp_path / "specs"
    specs.mkdir()
    spec_file(specs, "form: A\n", "a.yaml")
    rc, err = run(["eval", str(specs), "-o", str(ro / "ev")], capsys)
    one_line_error(rc, err, "not writable")
    rc, err = run(["--form", "A", *FAST, "-o", str(ro / "s.mid")], capsys)
    one_line_error(rc, err, "not writable")


def test_shipped_checkpoint_needs_force_and_train_checks_before_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    from composer.training.melody import TrainConfig, preflight

    with pytest.raises(SpecError, match="--force"):
        preflight(TrainConfig())
    preflight(TrainConfig(), force=True)  # `make model`
    rc, err = run(["train", "--steps", "1"], capsys)
    one_line_error(rc, err, "--force")
    a_file = tmp_path / "model.bin"
    a_file.write_text("x")
    rc, err = run(["train", "--out", str(a_file)], capsys)
    one_line_error(rc, err, "is a file")
    rc, err = run(["train", "--out", str(tmp_path / "m"), "--device", "tpu9"], capsys)
    one_line_error(rc, err, "unknown device 'tpu9'")
    if not torch.cuda.is_available():
        rc, err = run(["train", "--out", str(tmp_path / "m"), "--device", "cuda"], capsys)
        one_line_error(rc, err, "--device")
    rc, err = run(["train", "--out", str(tmp_path / "no" / "m")], capsys)
    one_line_error(rc, err, "does not exist")
    rc, err = run(["train", "--data", str(tmp_path / "nodata"), "--out", str(tmp_path)], capsys)
    one_line_error(rc, err, "data")


def test_train_with_too_few_pieces_says_how_many() -> None:
    from composer.training.melody import ENOUGH_PIECES, _check_split

    with pytest.raises(SpecError) as info:
        _check_split({"train": [1, 2, 3], "valid": [], "test": []})
    text = str(info.value)
    assert "3 usable pieces (3 for training, 0 for validation)" in text
    assert f"at least {ENOUGH_PIECES} pieces" in text


def test_output_that_is_an_input_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = spec_file(tmp_path, "form: A\n", "spec.mid")
    rc, err = run(["--spec", str(spec), "-o", str(spec), "--force", *FAST], capsys)
    one_line_error(rc, err, "is an input")
    assert spec.read_text() == "form: A\n"
    # the report beside the MIDI would replace the spec
    spec2 = spec_file(tmp_path, "form: A\n", "song.json")
    rc, err = run(
        ["--spec", str(spec2), "-o", str(tmp_path / "song.mid"), "--force", *FAST], capsys
    )
    one_line_error(rc, err, "is an input")
    assert spec2.read_text() == "form: A\n"
    # and a preferences profile
    prof = spec_file(tmp_path, "weights: {groove: 1}\n", "p.json")
    spec3 = spec_file(tmp_path, f"form: A\npreferences: {{profile: '{prof}'}}\n", "s3.yaml")
    rc, err = run(["--spec", str(spec3), "-o", str(tmp_path / "p.mid"), "--force", *FAST], capsys)
    one_line_error(rc, err, "is an input")


def test_render_checks_its_midi_first_and_never_overwrites_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the input's problem is reported before the outputs are looked at
    rc, err = run(["render", str(tmp_path), "-o", str(tmp_path / "x.wav")], capsys)
    one_line_error(rc, err, "is a folder")
    # a MIDI file is never replaced by its own rendering, even with --force
    midi = tmp_path / "song.wav"  # a MIDI file with an audio suffix, asked to render onto itself
    midi.write_bytes(b"MThd" + bytes(10))
    rc, err = run(["render", str(midi), "-o", str(midi), "--force"], capsys)
    one_line_error(rc, err, "is an input")
    assert midi.read_bytes() == b"MThd" + bytes(10)


def test_eval_output_follows_compose_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    spec_file(specs, "form: A\nsections: {A: {bars: 2}}\n", "a.yaml")
    spec_file(specs, "tempo: 8\n", "b.yaml")  # bad: named, skipped, exit 2 at the end
    deep = tmp_path / "nonexistent" / "deep" / "ev"
    rc, err = run(["eval", str(specs), "-o", str(deep), "--seed", "1", "--candidates", "1"], capsys)
    one_line_error(rc, err, "does not exist")
    assert not (tmp_path / "nonexistent").exists()
    out = tmp_path / "ev"
    argv = ["eval", str(specs), "-o", str(out), "--seed", "1", "--candidates", "1"]
    rc, err = run(argv, capsys)
    assert rc == 2
    assert "b.yaml: tempo: 8 is below 20 bpm" in err and "1 spec failed" in err
    assert sorted(p.name for p in out.iterdir()) == ["a-1.json", "a-1.mid", "eval.json", "eval.md"]
    assert not list(out.glob(".*.part"))
    before = (out / "a-1.mid").read_bytes()
    rc, err = run(argv, capsys)
    one_line_error(rc, err, "exists (pass --force")
    rc, err = run([*argv, "--force"], capsys)
    assert rc == 2 and (out / "a-1.mid").read_bytes() == before  # same seed, same song
    (specs / "b.yaml").unlink()
    rc, err = run([*argv, "--force"], capsys)
    assert rc == 0, err
    a_file = tmp_path / "f"
    a_file.write_text("")
    rc, err = run(["eval", str(a_file), "-o", str(out)], capsys)
    one_line_error(rc, err, "not a folder")


def test_interrupt_during_the_final_write_leaves_the_old_pair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    midi, report = tmp_path / "song.mid", tmp_path / "song.json"
    midi.write_bytes(b"old midi")
    report.write_bytes(b"old report")
    real = os.replace
    calls = {"n": 0}

    def interrupted_on_second(src: Any, dst: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(os, "replace", interrupted_on_second)
    with pytest.raises(KeyboardInterrupt):
        write_files({midi: b"new midi", report: b"new report"}, force=True)
    monkeypatch.setattr(os, "replace", real)
    assert midi.read_bytes() == b"old midi" and report.read_bytes() == b"old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["song.json", "song.mid"]


def test_ctrl_c_while_moving_the_pair_lands_after_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT between the two renames is held until both are done: a new pair, then the
    interrupt (never a new MIDI beside the old report)."""
    midi, report = tmp_path / "song.mid", tmp_path / "song.json"
    midi.write_bytes(b"old midi")
    report.write_bytes(b"old report")
    real = os.replace

    def signalled(src: Any, dst: Any) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        real(src, dst)

    old_handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        monkeypatch.setattr(os, "replace", signalled)
        with pytest.raises(KeyboardInterrupt):
            write_files({midi: b"new midi", report: b"new report"}, force=True)
    finally:
        signal.signal(signal.SIGINT, old_handler)
    assert midi.read_bytes() == b"new midi" and report.read_bytes() == b"new report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["song.json", "song.mid"]


def test_interrupt_while_writing_new_files_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import composer.app.output as output

    real = os.chmod
    calls = {"n": 0}

    def interrupted(path: Any, mode: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        real(path, mode)

    monkeypatch.setattr(output.os, "chmod", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_files({tmp_path / "a.mid": b"m", tmp_path / "a.json": b"r"}, force=False)
    assert list(tmp_path.iterdir()) == []
    # and a second new file that cannot be moved into place takes the first one with it
    monkeypatch.setattr(output.os, "chmod", real)
    real_replace = os.replace
    n = {"k": 0}

    def fails_second(src: Any, dst: Any) -> None:
        n["k"] += 1
        if n["k"] == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", fails_second)
    with pytest.raises(OutputError, match="No space left"):
        write_files({tmp_path / "b.mid": b"m", tmp_path / "b.json": b"r"}, force=False)
    assert list(tmp_path.iterdir()) == []


def test_sigint_prints_interrupted_and_writes_nothing(tmp_path: Path) -> None:
    """In a real process: Ctrl-C while composing -> 'interrupted', exit 130, no files."""
    code = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "import composer.app.api as api\n"
        "def slow(*a, **k):\n"
        "    print('composing', flush=True)\n"
        "    time.sleep(60)\n"
        "api.compose = slow\n"
        "from composer.cli import main\n"
        "sys.exit(main(['--form', 'A', '-o', sys.argv[1], '--quiet']))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    out = tmp_path / "song.mid"
    p = subprocess.Popen(
        [sys.executable, "-c", code, str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert p.stdout is not None
    assert p.stdout.readline().strip() == "composing"
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130
    assert err.strip() == "interrupted"
    assert list(tmp_path.iterdir()) == []


# --- Internal errors that must be one-line errors ---------------------------------------------


@pytest.mark.parametrize("bars", [6, 2])
def test_a_prime_of_another_length_with_pinned_chords(bars: int, tmp_path: Path) -> None:
    spec = {
        "form": "A A' B A",
        "sections": {"A": {"bars": 4, "chords": "C | F | G7 | C"}, "A'": {"bars": bars}},
    }
    with pytest.raises(SpecError) as info:
        api.plan(spec)
    assert info.value.field == "sections.A.chords"
    assert f"section A' (A2) has {bars} bars" in str(info.value)
    # the same length still repeats the chords
    spec["sections"]["A'"]["bars"] = 4  # type: ignore[index]
    lead = api.plan(spec)
    assert [c.symbol for c in lead.plan.sections[1].chords] == ["C", "F", "G7", "C"]


@pytest.mark.parametrize("num", [1, 3, 5, 7, 9, 11, 13, 15])
def test_odd_sixteenth_meters_are_rejected_in_the_grammar(num: int) -> None:
    with pytest.raises(SpecError, match=f"time_signature: {num}/16 is not supported"):
        validate_spec({"time_signature": f"{num}/16"})


def test_even_sixteenth_meter_composes() -> None:
    song = api.compose({"form": "A", "time_signature": "6/16", "generator": "rules",
                        "candidates": 1, "sections": {"A": {"bars": 2}}})  # fmt: skip
    assert song.report.time_signature == "6/16"


def test_readme_meter_line_matches_the_grammar() -> None:
    text = (ROOT / "README.md").read_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("time_signature:"))
    assert "n even over 16" in line


@pytest.mark.parametrize(
    ("form", "problem"),
    [
        ("[" * 3000 + "A" + "]" * 3000, "form: is 6001 characters long (at most 2000)"),
        ("[" * 900 + "A" + "]" * 900, "nests groups more than"),
        ("(" * 9 + "A" + ")" * 9, "nests groups more than"),
        ("A x" + "9" * 5001, "characters long"),
        ("A x" + "9" * 1900, "repeat count must be 1..16"),
    ],
    ids=["3000 brackets", "900 brackets", "9 levels", "5001-digit repeat", "1900-digit repeat"],
)
def test_form_bombs_are_one_line(form: str, problem: str, capsys: Any) -> None:
    rc, err = run(["plan", "--form", form], capsys)
    one_line_error(rc, err, problem)


def test_five_thousand_digit_tempo_flag_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    rc, err = run(["plan", "--tempo", "9" * 5001], capsys)
    one_line_error(rc, err, "--tempo")


def test_long_output_file_name_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, err = run(["--form", "A", *FAST, "-o", str(tmp_path / ("a" * 300 + ".mid"))], capsys)
    one_line_error(rc, err, "at most 255")


@pytest.mark.parametrize(
    ("text", "field", "got"),
    [
        ("candidates: yes\n", "candidates", "got true"),
        ("seed: true\n", "seed", "got true"),
        ("form: A\nsections: {A: {bars: on}}\n", "sections.A.bars", "got true"),
        ("tempo: true\n", "tempo", "got true"),
        ("tempo: 90.5\n", "tempo", "got 90.5"),
        ("preferences: {beam: yes}\n", "preferences.beam", "got true"),
        ("preferences: {learned: 1}\n", "preferences.learned", "must be true or false"),
        ("preferences: {weights: {groove: yes}}\n", "preferences.weights.groove", "a number"),
    ],
)
def test_strict_numbers_and_booleans(text: str, field: str, got: str, tmp_path: Path) -> None:
    err = spec_error(text, tmp_path)
    assert err.field == field and got in err.problem


def test_spec_path_says_what_it_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(loop)
    cases = {
        str(tmp_path): "is a folder",
        str(fifo): "named pipe",
        "/dev/null": "is a device",
        str(loop): "symlink loop",
        str(tmp_path / "missing.yaml"): "no such file",
    }
    for path, what in cases.items():
        rc, err = run(["plan", "--spec", path], capsys)
        one_line_error(rc, err, what)


def test_inputs_are_validated_before_the_output_exists_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "song.mid").write_bytes(b"mine")
    rc, err = run(["--key", "H major"], capsys)  # the README's example of a bad key
    one_line_error(rc, err, "key: unknown key 'H major'")


def test_messages_in_the_users_words(tmp_path: Path) -> None:
    cases = {
        "tempo: 8\n": "tempo: 8 is below 20 bpm",
        "tempo: 400\n": "tempo: 400 is above 300 bpm",
        "form: A\nsections: {A: {bars: 200}}\n": "sections.A.bars: 200 is above 128 bars",
        "candidates: 0\n": "candidates: 0 is below 1",
        "title: " + "x" * 250 + "\n": "title: is 250 characters long (at most 200)",
    }
    for text, message in cases.items():
        err = spec_error(text, tmp_path)
        assert str(err) == message
        assert "Input should" not in str(err)


def test_cadence_mismatch_names_the_chords() -> None:
    spec = {"form": "A", "sections": {"A": {"chords": "C | F | G | F C", "cadence": "half"}}}
    with pytest.raises(ComposeError) as info:
        api.plan(spec)
    text = str(info.value)
    assert "sections.A.cadence" in text and "'F C', a plagal cadence" in text
    spec["sections"]["A"]["chords"] = "C | F | G | Dm"  # type: ignore[index]
    with pytest.raises(ComposeError, match="'G Dm', no cadence"):
        api.plan(spec)


def test_huge_chord_string_is_blamed_on_the_chords() -> None:
    with pytest.raises(SpecError) as info:
        api.plan({"form": "A", "sections": {"A": {"chords": " | ".join(["C"] * 100_000)}}})
    assert info.value.field == "sections.A.chords"
    assert "characters long (at most 20000)" in str(info.value)
    with pytest.raises(SpecError) as info:  # short enough to read, too many bars to plan
        api.plan({"form": "A", "sections": {"A": {"chords": " | ".join(["C"] * 200)}}})
    assert info.value.field == "sections.A.chords"
    assert "200 bars of chords, at most 128" in str(info.value)


def test_crafted_checkpoint_is_one_line_without_a_load_report(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    import shutil

    import torch
    from safetensors.torch import save_file

    from composer.generators.transformer.model import CHECKPOINT
    from composer.generators.transformer.user_model import check_checkpoint
    from grammar.errors import GeneratorError

    ck = tmp_path / "ck"
    shutil.copytree(CHECKPOINT, ck)
    save_file({"foo": torch.zeros(3)}, str(ck / "model.safetensors"))
    capfd.readouterr()
    with pytest.raises(GeneratorError) as info:
        check_checkpoint(ck)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert "weights do not match" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"hidden_size": 1_000_000}, "parameters, at most"),
        ({"num_hidden_layers": "4"}, "num_hidden_layers must be a positive whole number"),
        ({"vocab_size": -1}, "vocab_size must be"),
    ],
)
def test_crafted_config_is_refused_before_allocating(
    change: dict[str, Any], problem: str, tmp_path: Path
) -> None:
    """A sibling of the crafted checkpoint: config.json sizes the model before any weight is
    read, so a huge one would be killed for memory instead of a one-line error."""
    import json
    import shutil

    from composer.generators.transformer.model import CHECKPOINT
    from composer.generators.transformer.user_model import check_checkpoint
    from grammar.errors import GeneratorError

    ck = tmp_path / "ck"
    shutil.copytree(CHECKPOINT, ck)
    cfg = json.loads((ck / "config.json").read_text())
    (ck / "config.json").write_text(json.dumps({**cfg, **change}))
    t0 = time.perf_counter()
    with pytest.raises(GeneratorError, match=problem):
        check_checkpoint(ck)
    assert time.perf_counter() - t0 < 10


def test_no_past_key_values_warning_when_sampling() -> None:
    from composer.generators.transformer.model import cache_kwargs, load_model
    from composer.generators.transformer.sampling import sample

    model = load_model()
    assert "cache" in cache_kwargs(model, None) or "past_key_values" in cache_kwargs(model, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows = sample(model, [1, 2, 3], 2, [], 4, eos_id=-1, pad_id=0, fast=False)
    assert rows.shape == (2, 4)


@pytest.mark.parametrize(("symbol", "meter"), [("C", "4/4"), ("¢", "2/2"), ("C|", "2/2")])
def test_meter_symbols_are_reported_as_fractions(symbol: str, meter: str) -> None:
    spec = validate_spec({"time_signature": symbol})
    assert spec.time_signature == meter
    assert api.plan(spec).plan.time_signature == meter


# --- Siblings: the same causes elsewhere ------------------------------------------------------


def test_folders_a_user_names_say_what_they_are(tmp_path: Path) -> None:
    """--checkpoint, train --data and eval's FOLDER: a FIFO, a file, a loop, named as such."""
    from composer.generators.transformer.user_model import check_checkpoint
    from composer.training.melody_data import user_files
    from grammar.errors import GeneratorError

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(loop)
    a_file = tmp_path / "f.txt"
    a_file.write_text("x")
    for path, what in ((fifo, "named pipe"), (loop, "symlink loop"), (a_file, "not a folder")):
        with pytest.raises(GeneratorError, match=what):
            check_checkpoint(path)
        with pytest.raises(SpecError, match=what):
            user_files(path)
        with pytest.raises(SpecError, match=what):
            api.evaluate(path, tmp_path / "ev", [1])
    assert not (tmp_path / "ev").exists()


def test_eval_seeds_are_checked_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    spec_file(specs, "form: A\n", "a.yaml")
    rc, err = run(["eval", str(specs), "-o", str(tmp_path / "ev"), "--seed", "-1"], capsys)
    one_line_error(rc, err, "--seed: -1 is below 0")
    assert not (tmp_path / "ev").exists()


def test_long_form_and_chord_strings_are_refused_by_length() -> None:
    with pytest.raises(SpecError, match="form: is 600000 characters long"):
        validate_spec({"form": "verse " * 100_000})
    with pytest.raises(SpecError, match=r"sections\.A\.chords: is 100000 characters long"):
        validate_spec({"sections": {"A": {"chords": "C " * 50_000}}})


def test_reward_model_module_needs_force_for_the_shipped_file(tmp_path: Path) -> None:
    from composer.training.reward import main as train_main

    with pytest.raises(SystemExit, match="--force"):
        train_main(["--limit", "1"])


# --- A newcomer's first minutes ---------------------------------------------------------------


def test_readme_and_make_demo_say_how_to_run_compose() -> None:
    readme = (ROOT / "README.md").read_text()
    assert ".venv/bin/compose" in readme and "source .venv/bin/activate" in readme
    make = (ROOT / "Makefile").read_text()
    demo = make[make.index("\ndemo:") : make.index("\ntest:")]
    assert ".venv/bin/compose" in demo and "source .venv/bin/activate" in demo
    assert "train-reward --seed 0 --force" in make and "--no-resume --force" in make


def test_help_lists_commands_in_a_newcomers_order(capsys: pytest.CaptureFixture[str]) -> None:
    with contextlib.suppress(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    listed = [ln.split()[0] for ln in out[out.index("Commands:") :].splitlines()[1:] if ln.strip()]
    assert listed == list(COMMAND_ORDER)
