"""Prompt hints: key, tempo, meter, form, style and tempo word from free text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grammar.forms import parse_form
from grammar.keys import parse_key
from grammar.meter import parse_time_signature
from grammar.prompt import STYLE_PRIORITY, STYLE_WORDS, TEMPO_WORDS, PromptHints, parse_prompt


def test_spec_example_jazz_ballad() -> None:
    hints = parse_prompt("a wistful jazz ballad in Eb major, 72 bpm")
    assert hints == PromptHints(
        key="Eb major", tempo=72, time_signature=None, form=None, style="jazz", tempo_word="slow"
    )


def test_spec_example_key_tempo_meter() -> None:
    hints = parse_prompt("in C# minor, 60 bpm, 3/4")
    assert (hints.key, hints.tempo, hints.time_signature) == ("C# minor", 60, "3/4")


def test_empty_prompt_has_no_hints() -> None:
    assert parse_prompt("") == PromptHints(None, None, None, None, None, None)
    assert parse_prompt("something nice") == PromptHints(None, None, None, None, None, None)


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
    assert parse_prompt(text).key == key


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
    assert parse_prompt(text).key is None


def test_key_hints_always_parse() -> None:
    for text in ["in Eb major", "in c# minor", "F#m", "in Bb"]:
        key = parse_prompt(text).key
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
        ("at 900 bpm", 900),
        ("in 3/4 at 96", 96),
        ("slow, 60 bpm, later tempo 120", 60),
    ],
)
def test_tempo(text: str, tempo: int) -> None:
    assert parse_prompt(text).tempo == tempo


@pytest.mark.parametrize("text", ["at 3/4", "at 16 bars", "in 4/4", "72", "a 12-bar blues"])
def test_no_tempo(text: str) -> None:
    assert parse_prompt(text).tempo is None


@pytest.mark.parametrize(
    ("text", "meter"),
    [
        ("in 3/4", "3/4"),
        ("6/8 time", "6/8"),
        ("a waltz", "3/4"),
        ("a march", "2/4"),
        ("a waltz in 6/8", "6/8"),
        ("a march in 6/8", "6/8"),
        ("4/5 then 12/8", "12/8"),
        ("jazz waltz", "3/4"),
        ("military band", "2/4"),
        ("5 / 4 groove", "5/4"),
    ],
)
def test_time_signature(text: str, meter: str) -> None:
    assert parse_prompt(text).time_signature == meter


@pytest.mark.parametrize("text", ["a ballad", "on 1/3/2024", "24/7 vibes", "4/5 meter"])
def test_no_time_signature(text: str) -> None:
    assert parse_prompt(text).time_signature is None


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
    hint = parse_prompt(text).form
    assert hint == form
    parse_form(hint)


@pytest.mark.parametrize("text", ["A form of music", "in C", "AABA", "a good form"])
def test_no_form(text: str) -> None:
    assert parse_prompt(text).form is None


@pytest.mark.parametrize(
    ("text", "style"),
    [
        ("a Bach chorale", "classical"),
        ("a hymn", "classical"),
        ("string quartet piece", "classical"),
        ("baroque", "classical"),
        ("an Irish reel", "folk"),
        ("sea shanty", "folk"),
        ("a jig", "folk"),
        ("celtic air", "folk"),
        ("bebop tune", "jazz"),
        ("bossa nova", "jazz"),
        ("lounge", "jazz"),
        ("a swing standard", "jazz"),
        ("bluesy shuffle", "blues"),
        ("a blues", "blues"),
        ("waltz", "waltz"),
        ("military march", "march"),
        ("indie rock", "pop"),
        ("synth pop anthem", "pop"),
        ("jazz waltz", "jazz"),
        ("a blues in jazz style", "blues"),
        ("folk rock", "folk"),
        ("marching hymn", "march"),
        ("Pop song", "pop"),
    ],
)
def test_style(text: str, style: str) -> None:
    assert parse_prompt(text).style == style


@pytest.mark.parametrize("text", ["popular tune", "jazzercise", "a ballad", "Bachelor party"])
def test_style_needs_whole_words(text: str) -> None:
    assert parse_prompt(text).style is None


def test_style_table() -> None:
    assert set(STYLE_WORDS) == {"classical", "folk", "pop", "jazz", "blues", "waltz", "march"}
    assert set(STYLE_PRIORITY) == set(STYLE_WORDS)
    assert "ballad" not in {w for words in STYLE_WORDS.values() for w in words}
    for style, words in STYLE_WORDS.items():
        for word in words:
            assert word == word.lower()
            assert parse_prompt(f"some {word} thing").style is not None
            if style == "pop":
                assert parse_prompt(f"some {word} thing").style == "pop"


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("slow", "slow"),
        ("a ballad", "slow"),
        ("gentle lullaby", "slow"),
        ("calm", "slow"),
        ("upbeat", "fast"),
        ("fast", "fast"),
        ("lively", "fast"),
        ("energetic", "fast"),
        ("driving", "fast"),
        ("brisk", "fast"),
        ("moderate", "moderate"),
        ("medium swing", "moderate"),
        ("walking bass", "moderate"),
        ("Slow then fast", "slow"),
        ("nothing", None),
        ("slowly", None),
    ],
)
def test_tempo_word(text: str, word: str | None) -> None:
    assert parse_prompt(text).tempo_word == word
    assert word is None or word in TEMPO_WORDS.values()


def test_everything_at_once() -> None:
    hints = parse_prompt("An upbeat Irish reel in D major, q=116, 6/8 time, in AABB form")
    assert hints == PromptHints(
        key="D major", tempo=116, time_signature="6/8", form="AABB", style="folk", tempo_word="fast"
    )


@given(st.text(max_size=200))
def test_never_crashes_and_hints_always_validate(text: str) -> None:
    hints = parse_prompt(text)
    if hints.key is not None:
        assert str(parse_key(hints.key)) == hints.key
    if hints.time_signature is not None:
        assert str(parse_time_signature(hints.time_signature)) == hints.time_signature
    if hints.form is not None:
        parse_form(hints.form)
    assert hints.style is None or hints.style in STYLE_WORDS
    assert hints.tempo_word in (None, "slow", "moderate", "fast")
