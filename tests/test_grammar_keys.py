"""Keys: parsing, signatures, spelling and related keys."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grammar.errors import GrammarError
from grammar.keys import Key, key_from_sharps, note_pc, parse_key, spell_above

# Every key with a signature of at most 7 accidentals.
ALL_KEYS = [key_from_sharps(s, m) for s in range(-7, 8) for m in ("major", "minor")]


@pytest.mark.parametrize(
    ("text", "tonic", "mode", "name"),
    [
        ("Eb major", 3, "major", "Eb"),
        ("E♭ major", 3, "major", "Eb"),
        ("E flat major", 3, "major", "Eb"),
        ("E-flat major", 3, "major", "Eb"),
        ("eb major", 3, "major", "Eb"),
        ("C# minor", 1, "minor", "C#"),
        ("C♯ minor", 1, "minor", "C#"),
        ("C sharp minor", 1, "minor", "C#"),
        ("C#m", 1, "minor", "C#"),
        ("C# min", 1, "minor", "C#"),
        ("F#min", 6, "minor", "F#"),
        ("Bb", 10, "major", "Bb"),
        ("bb", 10, "major", "Bb"),
        ("a minor", 9, "minor", "A"),
        ("A MINOR", 9, "minor", "A"),
        ("Cb major", 11, "major", "Cb"),
        ("C# major", 1, "major", "C#"),
        ("  D    major  ", 2, "major", "D"),
        ("G", 7, "major", "G"),
        ("Gmaj", 7, "major", "G"),
        ("Ab minor", 8, "minor", "Ab"),
        ("A# minor", 10, "minor", "A#"),
        ("D# minor", 3, "minor", "D#"),
    ],
)
def test_parse_key_spellings(text: str, tonic: int, mode: str, name: str) -> None:
    key = parse_key(text)
    assert (key.tonic, key.mode, key.tonic_name) == (tonic, mode, name)


@pytest.mark.parametrize(
    "text", ["H major", "", "   ", "C# dorian", "Eb majr", "C#M7", "major", "E##b major"]
)
def test_parse_key_rejects(text: str) -> None:
    with pytest.raises(GrammarError):
        parse_key(text)


def test_unknown_key_message() -> None:
    with pytest.raises(GrammarError, match=r"^unknown key 'H major'$"):
        parse_key("H major")


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("Fb major", "E major"),
        ("D# major", "Eb major"),
        ("G# major", "Ab major"),
        ("Db minor", "C# minor"),
        ("B# major", "C major"),
        ("Cbb major", "Bb major"),
    ],
)
def test_more_than_seven_accidentals_rejected_with_enharmonic_hint(text: str, hint: str) -> None:
    with pytest.raises(GrammarError, match=f"did you mean '{hint}'"):
        parse_key(text)


@pytest.mark.parametrize(
    ("text", "sharps"),
    [
        ("C major", 0),
        ("A minor", 0),
        ("Eb major", -3),
        ("C# minor", 4),
        ("Cb major", -7),
        ("C# major", 7),
        ("Ab minor", -7),
        ("A# minor", 7),
        ("F major", -1),
        ("E minor", 1),
        ("Gb major", -6),
        ("F# major", 6),
        ("D minor", -1),
        ("B major", 5),
    ],
)
def test_sharps(text: str, sharps: int) -> None:
    assert parse_key(text).sharps == sharps


def test_enharmonic_keys_sound_alike_but_differ() -> None:
    for a, b in [
        ("F# major", "Gb major"),
        ("C# major", "Db major"),
        ("D# minor", "Eb minor"),
        ("Cb major", "B major"),
        ("A# minor", "Bb minor"),
    ]:
        ka, kb = parse_key(a), parse_key(b)
        assert ka.tonic == kb.tonic and ka.scale == kb.scale and ka.scale_mask == kb.scale_mask
        assert ka != kb
        assert abs(ka.sharps - kb.sharps) == 12


def test_scales() -> None:
    assert parse_key("C major").scale == (0, 2, 4, 5, 7, 9, 11)
    assert parse_key("A minor").scale == (9, 11, 0, 2, 4, 5, 7)
    assert parse_key("Eb major").scale == (3, 5, 7, 8, 10, 0, 2)


def test_scale_mask_minor_includes_raised_sixth_and_seventh() -> None:
    mask = parse_key("A minor").scale_mask
    assert {pc for pc in range(12) if mask >> pc & 1} == {9, 11, 0, 2, 4, 5, 7, 6, 8}
    assert parse_key("C major").scale_mask == sum(1 << pc for pc in (0, 2, 4, 5, 7, 9, 11))


def test_degree_pc() -> None:
    key = parse_key("Eb major")
    assert [key.degree_pc(d) for d in range(1, 8)] == list(key.scale)
    assert parse_key("A minor").degree_pc(7) == 7  # natural minor
    with pytest.raises(GrammarError):
        key.degree_pc(0)
    with pytest.raises(GrammarError):
        key.degree_pc(8)


@pytest.mark.parametrize(
    ("key", "pc", "name"),
    [
        ("Eb major", 8, "Ab"),
        ("Eb major", 3, "Eb"),
        ("Eb major", 10, "Bb"),
        ("A minor", 8, "G#"),
        ("A minor", 6, "F#"),
        ("A minor", 7, "G"),
        ("A minor", 10, "Bb"),
        ("C# minor", 0, "B#"),
        ("F# major", 5, "E#"),
        ("Cb major", 4, "Fb"),
        ("Cb major", 11, "Cb"),
        ("Gb major", 11, "Cb"),
        ("C major", 10, "Bb"),
        ("C major", 6, "F#"),
        ("C major", 8, "Ab"),
        ("D major", 8, "G#"),
        ("D major", 5, "F"),
        ("D major", 0, "C"),
        ("Eb major", 4, "E"),
        ("Eb major", 6, "Gb"),
        ("Bb major", 1, "Db"),
        ("E major", 10, "A#"),
        ("E major", 0, "C"),
        ("Bb minor", 9, "A"),
        ("Eb minor", 2, "D"),
        ("G# minor", 7, "F##"),
    ],
)
def test_spell(key: str, pc: int, name: str) -> None:
    assert parse_key(key).spell(pc) == name


def test_spell_is_the_right_pitch_and_diatonic_letters_are_distinct() -> None:
    for key in ALL_KEYS:
        for pc in range(12):
            assert note_pc(key.spell(pc)) == pc
        letters = [key.spell(pc)[0] for pc in key.scale]
        assert sorted(letters) == sorted("ABCDEFG")
        assert key.spell(key.tonic) == key.tonic_name


def test_flat_keys_prefer_flats_sharp_keys_sharps() -> None:
    assert parse_key("Eb major").spell(6) == "Gb"
    assert parse_key("A major").spell(3) == "D#"
    assert parse_key("Ab major").spell(11) == "B"  # a natural beats Cb


@pytest.mark.parametrize(
    ("key", "relative", "parallel", "dominant", "subdominant"),
    [
        ("Eb major", "C minor", "Eb minor", "Bb major", "Ab major"),
        ("C minor", "Eb major", "C major", "G minor", "F minor"),
        ("F# major", "D# minor", "F# minor", "C# major", "B major"),
        ("C# major", "A# minor", "C# minor", "Ab major", "F# major"),
        ("Cb major", "Ab minor", "B minor", "Gb major", "E major"),
        ("A minor", "C major", "A major", "E minor", "D minor"),
        ("A# minor", "C# major", "Bb major", "F minor", "D# minor"),
    ],
)
def test_related_keys(
    key: str, relative: str, parallel: str, dominant: str, subdominant: str
) -> None:
    k = parse_key(key)
    assert str(k.relative()) == relative
    assert str(k.parallel()) == parallel
    assert str(k.dominant()) == dominant
    assert str(k.subdominant()) == subdominant


def test_str() -> None:
    assert str(parse_key("eb major")) == "Eb major"
    assert str(parse_key("C#m")) == "C# minor"


def test_key_constructor_checks_spelling() -> None:
    assert Key(3, "major", "Eb") == parse_key("Eb major")
    with pytest.raises(GrammarError):
        Key(4, "major", "Eb")


def test_spell_above() -> None:
    assert spell_above("D", 4, 2) == "F#"
    assert spell_above("E", 10, 6) == "D"
    assert spell_above("E", 8, 6) == "Dbb"  # letters are kept even when it gets awkward
    assert spell_above("G#", 9, 6) == "F"
    assert spell_above("Bb", 4, 2) == "D"


@given(st.sampled_from(ALL_KEYS))
def test_key_round_trip_property(key: Key) -> None:
    assert parse_key(str(key)) == key
    assert len(key.scale) == 7 and len(set(key.scale)) == 7
    assert key.scale[0] == key.tonic
    assert bin(key.scale_mask).count("1") == (7 if key.mode == "major" else 9)
    assert -7 <= key.sharps <= 7
    assert key.relative().relative() == key
    assert key.relative().sharps == key.sharps


@given(
    st.sampled_from("ABCDEFGabcdefg"),
    st.sampled_from(["", "#", "b", "♯", "♭", " sharp", " flat"]),
    st.sampled_from(["", " major", " minor", "m", " min", " maj", "  Major  "]),
)
def test_parse_key_accepts_exactly_the_readable_signatures(
    letter: str, accidental: str, mode: str
) -> None:
    text = letter + accidental + mode
    try:
        key = parse_key(text)
    except GrammarError as error:
        assert "did you mean" in str(error)
        return
    assert -7 <= key.sharps <= 7
    assert key.tonic_name[0] == letter.upper()
