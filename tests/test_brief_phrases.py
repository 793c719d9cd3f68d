"""The prompt interpreter's key, tempo, meter and form phrases (English), on small cases.

Styles, moods, feels and the other languages are in test_brief.py and brief_cases.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grammar.brief.interpret import interpret
from grammar.brief.phrases import find_forms, find_keys
from grammar.forms import parse_form
from grammar.keys import parse_key
from grammar.meter import parse_time_signature


def test_spec_example_jazz_ballad() -> None:
    brief = interpret("a wistful jazz ballad in Eb major, 72 bpm")
    assert (brief.key, brief.bpm, brief.meter, brief.form, brief.style) == (
        "Eb major",
        72,
        None,
        None,
        "jazz",
    )


def test_spec_example_key_tempo_meter() -> None:
    brief = interpret("in C# minor, 60 bpm, 3/4")
    assert (brief.key, brief.bpm, brief.meter) == ("C# minor", 60, "3/4")


def test_empty_prompt_says_nothing() -> None:
    for text in ("", "something nice"):
        brief = interpret(text)
        assert (brief.key, brief.bpm, brief.meter, brief.form, brief.style) == (None,) * 5
        assert not brief.musical


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("a song in Eb major", "Eb major"),
        ("in E flat major please", "Eb major"),
        ("E-flat minor lament", "Eb minor"),
        ("something in c# minor", "C# minor"),
        ("eb major", "Eb major"),
        ("groove on F#m at 120", "F# minor"),
        ("F# minor", "F# minor"),
        ("in Bb", "Bb major"),
        ("in the key of G, please", "G major"),
        ("Key of D", "D major"),
        ("in E flat", "Eb major"),
        ("in A minor", "A minor"),
        ("in a minor", "A minor"),
        ("in A", "A major"),
        ("a tune in A minor key", "A minor"),
        ("B♭ major hymn", "Bb major"),
        ("in D, then in G", "D major"),
        ("in Cb major", "Cb major"),
        ("in C# minor, 60 bpm, 3/4", "C# minor"),
    ],
)
def test_key(text: str, key: str) -> None:
    assert interpret(text).key == key


@pytest.mark.parametrize(
    "text",
    [
        "a wistful jazz ballad",
        "in a minor key",
        "a major hit",
        "a minor change",
        "in H major",
        "in Fb major",
        "in D# major",
        "Am I dreaming?",
        "Dm7 G7 groove",
        "in AABA form",
        "a Cmaj7 vibe",
        "written in 3/4",
        "in a flat field",
        "be major",
    ],
)
def test_no_key(text: str) -> None:
    assert interpret(text).key is None


def test_key_hints_always_parse() -> None:
    for text in ["in Eb major", "in c# minor", "F#m", "in Bb"]:
        key = interpret(text).key
        assert key is not None and str(parse_key(key)) == key


@pytest.mark.parametrize(
    ("text", "tempo"),
    [
        ("72 bpm", 72),
        ("72bpm", 72),
        ("72 BPM", 72),
        ("bpm 72", 72),
        ("BPM: 90", 90),
        ("tempo 72", 72),
        ("tempo of 88", 88),
        ("at 72", 72),
        ("♩=72", 72),
        ("♩ = 72", 72),
        ("q=72", 72),
        ("q = 100", 100),
        ("in 3/4 at 96", 96),
        ("slow, 60 bpm, later tempo 120", 60),
    ],
)
def test_tempo(text: str, tempo: int) -> None:
    assert interpret(text).bpm == tempo


@pytest.mark.parametrize("text", ["at 3/4", "at 16 bars", "in 4/4", "72", "a 12-bar blues"])
def test_no_tempo(text: str) -> None:
    assert interpret(text).bpm is None


@pytest.mark.parametrize(
    ("text", "meter"),
    [
        ("in 3/4", "3/4"),
        ("6/8 time", "6/8"),
        ("a waltz in 6/8", "6/8"),
        ("a march in 6/8", "6/8"),
        ("4/5 then 12/8", "12/8"),
        ("5 / 4 groove", "5/4"),
    ],
)
def test_time_signature(text: str, meter: str) -> None:
    brief = interpret(text)
    assert (brief.meter or brief.implied_meter) == meter


@pytest.mark.parametrize("text", ["a ballad", "on 1/3/2024", "24/7 vibes", "4/5 meter"])
def test_no_time_signature(text: str) -> None:
    brief = interpret(text)
    assert brief.meter is None and brief.implied_meter is None


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("in AABA form", "AABA"),
        ("AABA form", "AABA"),
        ("a 32-bar AA'BA form", "AA'BA"),
        ("form: ABAC", "ABAC"),
        ("ABAB structure", "ABAB"),
    ],
)
def test_form(text: str, form: str) -> None:
    hint = interpret(text).form
    assert hint == form
    parse_form(hint)


@pytest.mark.parametrize("text", ["A form of music", "in C", "AABA", "a good form"])
def test_no_form(text: str) -> None:
    assert interpret(text).form is None


def test_everything_at_once() -> None:
    brief = interpret("An upbeat Irish reel in D major, q=116, 6/8 time, in AABB form")
    assert (brief.key, brief.bpm, brief.meter, brief.form, brief.style) == (
        "D major",
        116,
        "6/8",
        "AABB",
        "reel",
    )
    assert brief.tempo_position is not None and brief.tempo_position > 0.5  # "upbeat"


def test_phrases_carry_their_place() -> None:
    text = "in D, then AABA form in G"
    assert find_keys(text) == [(3, 4, "D major"), (24, 25, "G major")]
    assert find_forms(text) == [(11, 20, "AABA")]


@given(st.text(max_size=200))
def test_never_crashes_and_phrases_always_validate(text: str) -> None:
    brief = interpret(text)
    if brief.key is not None:
        assert str(parse_key(brief.key)) == brief.key
    if brief.meter is not None:
        assert str(parse_time_signature(brief.meter)) == brief.meter
    if brief.form is not None:
        parse_form(brief.form)
    for _, _, key in find_keys(text):
        assert str(parse_key(key)) == key
    for _, _, form in find_forms(text):
        parse_form(form)
