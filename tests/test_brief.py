"""The prompt interpreter (grammar/brief): lexicon data, numbers in context, keys in five
languages, style fallback, explicit values win, never fatal, and "what was understood" in the
plan, the report and the compose output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from composer.cli import app, main
from grammar.brief.apply import read_prompt, resolve_style
from grammar.brief.interpret import interpret
from grammar.brief.lexicon import LexiconError, lexicon, normalise
from grammar.brief.text import fold
from grammar.spec import validate_spec
from planners.brief import assign_instruments, form_for_length, place_tempo
from planners.form import resolve_song
from planners.styles import STYLES

FAST = ["--candidates", "2", "--generator", "rules"]


@pytest.fixture(autouse=True)
def _no_embedding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONGC_EMBED", "0")


def test_fold_keeps_positions() -> None:
    for text in ["Ré mineur", "Ländler in G-Dur", "chœur", "İstanbul", "naïve ♭ ♯", "’"]:
        assert len(fold(text)) == len(text)
    assert fold("Ré Mineur") == "re mineur"


def test_lexicon_compiles_and_every_concept_has_words() -> None:
    lex = lexicon()
    kinds = {kind for kind, _ in lex.meanings.values()}
    assert {"style", "substyle", "feel", "tempo", "mood", "energy", "instrument", "mode"} <= kinds
    for style in lex.styles:
        assert ("style", style) in lex.meanings.values()
    for inst in lex.instruments:
        assert ("instrument", inst) in lex.meanings.values(), inst
    assert lex.meaning("Walzer") == ("style", "waltz")
    assert normalise("Build-Up") == "build up"


def test_a_bad_lexicon_edit_names_the_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    from grammar.brief import lexicon as module

    real = module._read

    def broken(name: str) -> dict:
        data = real(name)
        if name == "de.yaml":
            data["moods"]["nonexistent"] = ["foo"]
        return data

    monkeypatch.setattr(module, "_read", broken)
    module.lexicon.cache_clear()
    try:
        with pytest.raises(LexiconError, match=r"de\.yaml: moods\.nonexistent"):
            module.lexicon()
    finally:
        module.lexicon.cache_clear()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("valse triste en ré mineur", "D minor"),
        ("G-Dur", "G major"),
        ("H-Moll", "B minor"),
        ("B-Dur", "Bb major"),
        ("Es-Dur", "Eb major"),
        ("As-Dur", "Ab major"),
        ("cis-Moll", "C# minor"),
        ("Fa mayor", "F major"),
        ("en la menor", "A minor"),
        ("in Sol maggiore", "G major"),
        ("si bemolle maggiore", "Bb major"),
        ("fa dièse mineur", "F# minor"),
        ("in Eb major", "Eb major"),
    ],
)
def test_keys_in_five_languages(text: str, key: str) -> None:
    assert interpret(text).key == key


@pytest.mark.parametrize(
    "text", ["la vie en rose", "mi casa", "do it again", "si tu veux", "a major hit", "Am I?"]
)
def test_solfege_and_letters_need_a_mode_word(text: str) -> None:
    assert interpret(text).key is None


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("120 bpm", "bpm", 120),
        ("a lullaby at 8 pm", "bpm", None),
        ("um 20 Uhr", "bpm", None),
        ("at 8:30", "bpm", None),
        ("at 132", "bpm", 132),
        ("at 8", "bpm", None),
        ("1/2 of my heart", "meter", None),
        ("3/4 of the way", "meter", None),
        ("in 5/8 time", "meter", "5/8"),
        ("in 6/8, please", "meter", "6/8"),
        ("1/3/2024", "meter", None),
        ("5 minutes", "seconds", 300.0),
        ("a five-minute song", "seconds", 300.0),
        ("90 seconds", "seconds", 90.0),
        ("32 bars", "bars", 32),
        ("a 12-bar blues", "bars", None),
        ("im 3/4-Takt", "bars", None),
    ],
)
def test_numbers_only_in_context(text: str, kind: str, value: object) -> None:
    b = interpret(text)
    assert getattr(b, kind) == value


def test_out_of_range_hints_are_warnings() -> None:
    b = interpret("a march at 900 bpm, 4/5 time, 90 minutes long")
    assert b.bpm is None and b.meter is None and b.seconds is None
    assert len(b.warnings) == 3


def test_style_fallback_and_resolution() -> None:
    assert resolve_style("jazz", STYLES) == ("jazz", None)
    assert resolve_style("bossa", ["pop", "bossa_nova", "jazz"]) == ("bossa_nova", None)
    assert resolve_style("bossa", STYLES) == ("bossa", None)  # a shipped style since issue 14
    core = ("classical", "folk", "pop", "jazz", "blues", "waltz", "march")
    used, note = resolve_style("bossa", core)
    assert used == "jazz" and note is not None and "bossa" in note
    assert resolve_style("latin", ["Bossa-Nova"])[0] == "Bossa-Nova"
    assert resolve_style("jig", ["folk"])[0] == "folk"
    assert resolve_style("hymn", ["pop"]) == (None, "no hymn style yet and no fallback")


def test_explicit_values_win_and_are_recorded() -> None:
    spec = validate_spec(
        {
            "prompt": "a fast jig in D minor, 6/8, 150 bpm",
            "key": "G major",
            "tempo": 90,
            "time_signature": "3/4",
            "style": "pop",
        }
    )
    filled, reading = read_prompt(spec, STYLES)
    assert (filled.key, filled.tempo, filled.time_signature, filled.style) == (
        "G major",
        90,
        "3/4",
        "pop",
    )
    assert reading is not None and set(reading.overridden) >= {"key", "tempo", "time_signature"}
    plan = resolve_song(filled, reading)
    assert plan.tempo == 90 and plan.key == "G major"
    assert plan.understood is not None
    assert any(s.source == "explicit" for s in plan.understood.said)


def test_tempo_words_are_placed_in_the_range() -> None:
    assert place_tempo(0.0, 60, 90, 120) == 60
    assert place_tempo(0.5, 60, 90, 120) == 90
    assert place_tempo(0.75, 60, 90, 120) == 105
    assert place_tempo(1.2, 60, 90, 120) == 132
    assert place_tempo(9, 60, 200, 290) == 300


def test_instruments_take_parts() -> None:
    assert assign_instruments(("piano",), (40, 1, 2)) == (
        (0, 0, 2),
        {"chords": "piano", "melody": "piano"},
    )
    programs, _ = assign_instruments(("slap bass", "tenor sax", "strings"), (1, 2, 3))
    assert programs == (66, 48, 36)


def test_form_for_length() -> None:
    assert form_for_length(32) == "AABA"
    assert form_for_length(16) == "AB"
    assert form_for_length(48, unit=12) == "A A A A"
    assert form_for_length(150).startswith("intro [verse chorus]x")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=160))
def test_never_fatal(text: str) -> None:
    spec = validate_spec({"prompt": text}) if text.strip() else validate_spec({})
    filled, _ = read_prompt(spec, STYLES)
    plan = resolve_song(filled)
    assert 20 <= plan.tempo <= 300
    if plan.understood is not None:
        assert plan.understood.lines()[0].startswith("prompt: ")


def test_compose_prints_what_was_understood(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s.mid"
    prompt = "an upbeat bossa nova in A minor for a cafe, at 900 bpm"
    assert main(["--prompt", prompt, "--form", "AB", "--seed", "1", *FAST, "-o", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith('prompt: "bossa nova" -> style bossa')
    assert '"for a cafe" not used' in lines[0]
    assert lines[1].startswith("defaults: ") and "ignored '900 bpm'" in lines[1]
    assert lines[2].startswith("wrote ")
    rep = json.loads(out.with_suffix(".json").read_text())
    assert rep["understood"]["unused"] == ["for a cafe"]
    assert rep["key"] == "A minor" and 128 <= rep["tempo"] <= 148
    quiet = tmp_path / "q.mid"
    assert main(["--prompt", prompt, "--form", "AB", *FAST, "-q", "-o", str(quiet)]) == 0
    assert capsys.readouterr().out == ""


def test_plan_shows_it_and_nothing_musical_says_so() -> None:
    res = CliRunner().invoke(app, ["plan", "--prompt", "for my aunt", "--seed", "1"])
    assert res.exit_code == 0
    assert 'prompt: nothing musical understood; "for my aunt" not used' in res.stdout
    res = CliRunner().invoke(app, ["plan", "--prompt", "Walzer in H-Moll", "--seed", "1"])
    assert "B minor" in res.stdout and "3/4" in res.stdout


def test_no_drums_and_a_feel_in_the_prompt_are_played(tmp_path: Path) -> None:
    """ "no drums" drops the drum track (no note on channel 10 in the MIDI read back) and
    "shuffle" moves a straight style's off-beat eighths to 2/3 of the beat; the style's own
    feel and kit stay where the prompt says nothing about them."""
    import mido

    from composer.app import api

    def song(prompt: str) -> tuple[api.Song, list[int]]:
        spec = {"prompt": prompt, "form": "A", "sections": {"A": {"bars": 4}}, "seed": 2}
        s = api.compose({**spec, "quantized": True, "generator": "rules", "candidates": 1})
        path = tmp_path / "s.mid"
        path.write_bytes(s.midi)
        channels = [m.channel for m in mido.MidiFile(path) if m.type == "note_on"]
        return s, channels

    plain, channels = song("a pop song")
    assert plain.plan.swing is None and 9 in channels
    assert plain.report.feel is not None and plain.report.feel.swing == 0.5
    quiet, channels = song("a pop song with no drums")
    assert "drums" not in [t.role for t in quiet.plan.tracks] and 9 not in channels
    shuffled, _ = song("a pop song with a shuffle")
    assert shuffled.plan.swing == 0.67
    assert shuffled.report.feel is not None and shuffled.report.feel.swing == 0.67
    # the played comp: off-beat eighths now fall at 2/3 of the beat
    mid = tmp_path / "sh.mid"
    mid.write_bytes(shuffled.midi)
    f = mido.MidiFile(mid)
    beat = f.ticks_per_beat
    now, offs = 0, set()
    for msg in f.tracks[2]:  # the Chords track
        now += msg.time
        if msg.type == "note_on" and msg.velocity and now % beat:
            offs.add(round((now % beat) / beat, 2))
    assert offs and all(o >= 0.6 for o in offs), offs
