"""Chord symbols, roman numerals, diatonic chords and progressions."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grammar.chords import (
    QUALITIES,
    SUFFIX_ALIASES,
    Chord,
    chord_from_degree,
    parse_chord,
    parse_progression,
    parse_roman,
    roman_numeral,
)
from grammar.errors import GrammarError
from grammar.keys import key_from_sharps, parse_key

C = parse_key("C major")
AM = parse_key("A minor")
EB = parse_key("Eb major")


# --- parse_chord ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "canonical", "root", "intervals", "quality"),
    [
        ("C", "C", 0, (0, 4, 7), "maj"),
        ("Cmaj", "C", 0, (0, 4, 7), "maj"),
        ("CM", "C", 0, (0, 4, 7), "maj"),
        ("Cm", "Cm", 0, (0, 3, 7), "min"),
        ("Cmin", "Cm", 0, (0, 3, 7), "min"),
        ("C-", "Cm", 0, (0, 3, 7), "min"),
        ("Cdim", "Cdim", 0, (0, 3, 6), "dim"),
        ("Co", "Cdim", 0, (0, 3, 6), "dim"),
        ("C°", "Cdim", 0, (0, 3, 6), "dim"),
        ("Caug", "Caug", 0, (0, 4, 8), "aug"),
        ("C+", "Caug", 0, (0, 4, 8), "aug"),
        ("Csus2", "Csus2", 0, (0, 2, 7), "sus2"),
        ("Csus4", "Csus4", 0, (0, 5, 7), "sus4"),
        ("Csus", "Csus4", 0, (0, 5, 7), "sus4"),
        ("C7", "C7", 0, (0, 4, 7, 10), "7"),
        ("Cmaj7", "Cmaj7", 0, (0, 4, 7, 11), "maj7"),
        ("CM7", "Cmaj7", 0, (0, 4, 7, 11), "maj7"),
        ("CΔ", "Cmaj7", 0, (0, 4, 7, 11), "maj7"),
        ("CΔ7", "Cmaj7", 0, (0, 4, 7, 11), "maj7"),
        ("Cma7", "Cmaj7", 0, (0, 4, 7, 11), "maj7"),
        ("Cm7", "Cm7", 0, (0, 3, 7, 10), "m7"),
        ("Cmin7", "Cm7", 0, (0, 3, 7, 10), "m7"),
        ("C-7", "Cm7", 0, (0, 3, 7, 10), "m7"),
        ("Cm7b5", "Cm7b5", 0, (0, 3, 6, 10), "m7b5"),
        ("Cø", "Cm7b5", 0, (0, 3, 6, 10), "m7b5"),
        ("Cø7", "Cm7b5", 0, (0, 3, 6, 10), "m7b5"),
        ("Chalf-dim", "Cm7b5", 0, (0, 3, 6, 10), "m7b5"),
        ("Cdim7", "Cdim7", 0, (0, 3, 6, 9), "dim7"),
        ("Co7", "Cdim7", 0, (0, 3, 6, 9), "dim7"),
        ("C°7", "Cdim7", 0, (0, 3, 6, 9), "dim7"),
        ("C6", "C6", 0, (0, 4, 7, 9), "6"),
        ("Cm6", "Cm6", 0, (0, 3, 7, 9), "m6"),
        ("C9", "C9", 0, (0, 4, 7, 10, 14), "9"),
        ("Cmaj9", "Cmaj9", 0, (0, 4, 7, 11, 14), "maj9"),
        ("Cm9", "Cm9", 0, (0, 3, 7, 10, 14), "m9"),
        ("C11", "C11", 0, (0, 7, 10, 14, 17), "11"),
        ("Cm11", "Cm11", 0, (0, 3, 7, 10, 14, 17), "m11"),
        ("C13", "C13", 0, (0, 4, 7, 10, 14, 21), "13"),
        ("Cmaj13", "Cmaj13", 0, (0, 4, 7, 11, 14, 21), "maj13"),
        ("Cm13", "Cm13", 0, (0, 3, 7, 10, 14, 21), "m13"),
        ("Cadd9", "Cadd9", 0, (0, 4, 7, 14), "add9"),
        ("C7sus4", "C7sus4", 0, (0, 5, 7, 10), "7sus4"),
        ("CmMaj7", "CmMaj7", 0, (0, 3, 7, 11), "mMaj7"),
        ("Cm(maj7)", "CmMaj7", 0, (0, 3, 7, 11), "mMaj7"),
        ("C7b9", "C7b9", 0, (0, 4, 7, 10, 13), "7b9"),
        ("C7#9", "C7#9", 0, (0, 4, 7, 10, 15), "7#9"),
        ("C7#11", "C7#11", 0, (0, 4, 7, 10, 18), "7#11"),
        ("C7b5", "C7b5", 0, (0, 4, 6, 10), "7b5"),
        ("C7#5", "C7#5", 0, (0, 4, 8, 10), "aug7"),
        ("Caug7", "C7#5", 0, (0, 4, 8, 10), "aug7"),
        ("C+7", "C7#5", 0, (0, 4, 8, 10), "aug7"),
        ("C6/9", "C6/9", 0, (0, 4, 7, 9, 14), "69"),
        ("C69", "C6/9", 0, (0, 4, 7, 9, 14), "69"),
    ],
)
def test_every_suffix_spelling(
    symbol: str, canonical: str, root: int, intervals: tuple[int, ...], quality: str
) -> None:
    chord = parse_chord(symbol)
    assert chord.symbol == canonical
    assert chord.root == root and chord.bass == root
    assert chord.intervals == intervals
    assert chord.quality == quality
    assert chord.roman is None


@pytest.mark.parametrize(
    ("symbol", "root", "intervals", "canonical"),
    [
        ("Db7", 1, (0, 4, 7, 10), "Db7"),  # music21 reads this as D7
        ("Ab", 8, (0, 4, 7), "Ab"),
        ("Abm", 8, (0, 3, 7), "Abm"),
        ("Bb7", 10, (0, 4, 7, 10), "Bb7"),
        ("Bbmaj7", 10, (0, 4, 7, 11), "Bbmaj7"),
        ("F#m7b5", 6, (0, 3, 6, 10), "F#m7b5"),
        ("B♭7", 10, (0, 4, 7, 10), "Bb7"),
        ("F♯m", 6, (0, 3, 7), "F#m"),
        ("Cb", 11, (0, 4, 7), "Cb"),
        ("E#m", 5, (0, 3, 7), "E#m"),
        ("Ebb", 2, (0, 4, 7), "Ebb"),
        (" G7 ", 7, (0, 4, 7, 10), "G7"),
    ],
)
def test_roots_and_accidentals(
    symbol: str, root: int, intervals: tuple[int, ...], canonical: str
) -> None:
    chord = parse_chord(symbol)
    assert (chord.root, chord.intervals, chord.symbol) == (root, intervals, canonical)


@pytest.mark.parametrize(
    ("symbol", "canonical", "root", "bass", "quality"),
    [
        ("C7/E", "C7/E", 0, 4, "7"),
        ("Am/G", "Am/G", 9, 7, "min"),
        ("D/F#", "D/F#", 2, 6, "maj"),
        ("Bb/D", "Bb/D", 10, 2, "maj"),
        ("Ab/Eb", "Ab/Eb", 8, 3, "maj"),
        ("C6/9/E", "C6/9/E", 0, 4, "69"),
        ("C6/E", "C6/E", 0, 4, "6"),
        ("Cmaj7/B", "Cmaj7/B", 0, 11, "maj7"),
        ("C/D", "C/D", 0, 2, "maj"),
        ("C/C", "C", 0, 0, "maj"),
    ],
)
def test_slash_chords(symbol: str, canonical: str, root: int, bass: int, quality: str) -> None:
    chord = parse_chord(symbol)
    assert (chord.symbol, chord.root, chord.bass, chord.quality) == (canonical, root, bass, quality)


def test_pitch_classes_and_mask_include_the_bass() -> None:
    chord = parse_chord("C/D")
    assert chord.pitch_classes == frozenset({0, 4, 7, 2})
    assert chord.mask == (1 << 0) | (1 << 4) | (1 << 7) | (1 << 2)
    assert parse_chord("Cmaj9").pitch_classes == frozenset({0, 4, 7, 11, 2})


@pytest.mark.parametrize(
    "symbol", ["Hm7", "", "C7/H", "Cfoo", "c7", "Cm7/", "7", "C/E/G", "Cmaj7b", "Xyz", "C##7x"]
)
def test_unknown_chords(symbol: str) -> None:
    with pytest.raises(GrammarError, match="unknown chord"):
        parse_chord(symbol)


def test_unknown_chord_message() -> None:
    with pytest.raises(GrammarError, match=r"^unknown chord 'Hm7'$"):
        parse_chord("Hm7")


@pytest.mark.parametrize(
    ("a", "b"), [("C#7", "Db7"), ("F#m", "Gbm"), ("A#dim7", "Bbdim7"), ("Cb", "B"), ("E#", "F")]
)
def test_enharmonic_chords_share_pitch_classes(a: str, b: str) -> None:
    ca, cb = parse_chord(a), parse_chord(b)
    assert ca.pitch_classes == cb.pitch_classes and ca.root == cb.root and ca.symbol != cb.symbol


def test_table_is_consistent() -> None:
    for quality, (suffix, intervals) in QUALITIES.items():
        assert intervals[0] == 0 and list(intervals) == sorted(set(intervals))
        chord = parse_chord("G" + suffix)
        assert chord.quality == quality and chord.symbol == "G" + suffix
    for alias, quality in SUFFIX_ALIASES.items():
        assert parse_chord("Eb" + alias).quality == quality


@given(
    st.sampled_from(["C", "C#", "Db", "D", "Eb", "E", "F", "F#", "Gb", "G", "Ab", "A", "Bb", "B"]),
    st.sampled_from(sorted(QUALITIES)),
    st.sampled_from([None, "E", "G#", "Bb"]),
)
def test_canonical_symbol_round_trips(root: str, quality: str, bass: str | None) -> None:
    text = root + QUALITIES[quality][0] + (f"/{bass}" if bass else "")
    chord = parse_chord(text)
    assert parse_chord(chord.symbol) == chord
    assert chord.quality == quality


# --- parse_roman -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numeral", "symbol", "root", "bass", "quality"),
    [
        ("I", "C", 0, 0, "maj"),
        ("ii", "Dm", 2, 2, "min"),
        ("ii7", "Dm7", 2, 2, "m7"),
        ("iii", "Em", 4, 4, "min"),
        ("IV", "F", 5, 5, "maj"),
        ("V", "G", 7, 7, "maj"),
        ("V7", "G7", 7, 7, "7"),
        ("vi", "Am", 9, 9, "min"),
        ("viio", "Bdim", 11, 11, "dim"),
        ("vii°", "Bdim", 11, 11, "dim"),
        ("viiø7", "Bm7b5", 11, 11, "m7b5"),
        ("vii/o7", "Bm7b5", 11, 11, "m7b5"),
        ("viiø", "Bm7b5", 11, 11, "m7b5"),
        ("viio7", "Bdim7", 11, 11, "dim7"),
        ("Imaj7", "Cmaj7", 0, 0, "maj7"),
        ("IVM7", "Fmaj7", 5, 5, "maj7"),
        ("III+", "Eaug", 4, 4, "aug"),
        ("I6", "C/E", 0, 4, "maj"),
        ("I64", "C/G", 0, 7, "maj"),
        ("V65", "G7/B", 7, 11, "7"),
        ("V43", "G7/D", 7, 2, "7"),
        ("V42", "G7/F", 7, 5, "7"),
        ("V2", "G7/F", 7, 5, "7"),
        ("ii65", "Dm7/F", 2, 5, "m7"),
        ("bVII", "Bb", 10, 10, "maj"),
        ("bIII", "Eb", 3, 3, "maj"),
        ("bVI", "Ab", 8, 8, "maj"),
        ("♭VII", "Bb", 10, 10, "maj"),
        ("bII6", "Db/F", 1, 5, "maj"),
        ("#iv°", "F#dim", 6, 6, "dim"),
        ("#ivo7", "F#dim7", 6, 6, "dim7"),
        ("V7/V", "D7", 2, 2, "7"),
        ("V/V", "D", 2, 2, "maj"),
        ("V/vi", "E", 4, 4, "maj"),
        ("V7/ii", "A7", 9, 9, "7"),
        ("V7/IV", "C7", 0, 0, "7"),
        ("viio7/ii", "C#dim7", 1, 1, "dim7"),
        ("viio7/V", "F#dim7", 6, 6, "dim7"),
        ("V65/V", "D7/F#", 2, 6, "7"),
        ("iv", "Fm", 5, 5, "min"),
        ("v", "Gm", 7, 7, "min"),
    ],
)
def test_roman_in_c_major(numeral: str, symbol: str, root: int, bass: int, quality: str) -> None:
    chord = parse_roman(numeral, C)
    assert (chord.symbol, chord.root, chord.bass, chord.quality) == (symbol, root, bass, quality)
    assert chord.roman == numeral


@pytest.mark.parametrize(
    ("numeral", "symbol"),
    [
        ("i", "Am"),
        ("iio", "Bdim"),
        ("iiø7", "Bm7b5"),
        ("III", "C"),
        ("IIImaj7", "Cmaj7"),
        ("iv", "Dm"),
        ("IV", "D"),
        ("v", "Em"),
        ("V", "E"),
        ("V7", "E7"),
        ("VI", "F"),
        ("VII", "G"),
        ("vii°", "G#dim"),
        ("viio7", "G#dim7"),
        ("V65", "E7/G#"),
        ("V43", "E7/B"),
        ("V42", "E7/D"),
        ("i6", "Am/C"),
        ("i64", "Am/E"),
        ("bII6", "Bb/D"),
        ("bVII", "G"),
        ("bIII", "C"),
        ("bVI", "F"),
        ("V7/V", "B7"),
        ("V7/iv", "A7"),
        ("V/III", "G"),
        ("V7/VI", "C7"),
        ("viio7/V", "D#dim7"),
        ("I", "A"),
    ],
)
def test_roman_in_a_minor(numeral: str, symbol: str) -> None:
    assert parse_roman(numeral, AM).symbol == symbol


@pytest.mark.parametrize(
    ("numeral", "symbol"),
    [
        ("ii7", "Fm7"),
        ("V7", "Bb7"),
        ("IV", "Ab"),
        ("vi", "Cm"),
        ("V7/V", "F7"),
        ("V65", "Bb7/D"),
        ("viio7", "Ddim7"),
        ("bVII", "Db"),
        ("iv", "Abm"),
        ("bVI", "Cb"),
        ("V7/ii", "C7"),
    ],
)
def test_roman_in_e_flat_major_is_spelled_in_the_key(numeral: str, symbol: str) -> None:
    assert parse_roman(numeral, EB).symbol == symbol


def test_roman_in_sharp_minor_uses_leading_tone_spelling() -> None:
    key = parse_key("C# minor")
    assert parse_roman("V7", key).symbol == "G#7"
    assert parse_roman("V65", key).symbol == "G#7/B#"
    assert parse_roman("viio7", key).symbol == "B#dim7"


@pytest.mark.parametrize(
    "numeral", ["IIX", "", "VIII", "Iv", "H", "ii/", "V/viio", "Imaj", "iii+", "V7/", "x7"]
)
def test_unknown_roman(numeral: str) -> None:
    with pytest.raises(GrammarError):
        parse_roman(numeral, C)


def test_unknown_roman_message() -> None:
    with pytest.raises(GrammarError, match=r"^unknown roman numeral 'IIX'$"):
        parse_roman("IIX", C)


def test_roman_matches_chord_symbol_pitches() -> None:
    assert parse_roman("V7", C).pitch_classes == parse_chord("G7").pitch_classes
    assert parse_roman("V7/V", C).pitch_classes == parse_chord("D7").pitch_classes


# --- chord_from_degree -------------------------------------------------------------------------

C_MAJOR_TRIADS = [
    ("C", 0, (0, 4, 7), "I"),
    ("Dm", 2, (0, 3, 7), "ii"),
    ("Em", 4, (0, 3, 7), "iii"),
    ("F", 5, (0, 4, 7), "IV"),
    ("G", 7, (0, 4, 7), "V"),
    ("Am", 9, (0, 3, 7), "vi"),
    ("Bdim", 11, (0, 3, 6), "viio"),
]
C_MAJOR_SEVENTHS = [
    ("Cmaj7", 0, (0, 4, 7, 11), "Imaj7"),
    ("Dm7", 2, (0, 3, 7, 10), "ii7"),
    ("Em7", 4, (0, 3, 7, 10), "iii7"),
    ("Fmaj7", 5, (0, 4, 7, 11), "IVmaj7"),
    ("G7", 7, (0, 4, 7, 10), "V7"),
    ("Am7", 9, (0, 3, 7, 10), "vi7"),
    ("Bm7b5", 11, (0, 3, 6, 10), "viiø7"),
]
A_MINOR_TRIADS = [
    ("Am", 9, (0, 3, 7), "i"),
    ("Bdim", 11, (0, 3, 6), "iio"),
    ("C", 0, (0, 4, 7), "III"),
    ("Dm", 2, (0, 3, 7), "iv"),
    ("E", 4, (0, 4, 7), "V"),
    ("F", 5, (0, 4, 7), "VI"),
    ("G#dim", 8, (0, 3, 6), "viio"),
]
A_MINOR_SEVENTHS = [
    ("Am7", 9, (0, 3, 7, 10), "i7"),
    ("Bm7b5", 11, (0, 3, 6, 10), "iiø7"),
    ("Cmaj7", 0, (0, 4, 7, 11), "IIImaj7"),
    ("Dm7", 2, (0, 3, 7, 10), "iv7"),
    ("E7", 4, (0, 4, 7, 10), "V7"),
    ("Fmaj7", 5, (0, 4, 7, 11), "VImaj7"),
    ("G#dim7", 8, (0, 3, 6, 9), "viio7"),
]


@pytest.mark.parametrize(
    ("key_text", "seventh", "expected"),
    [
        ("C major", False, C_MAJOR_TRIADS),
        ("C major", True, C_MAJOR_SEVENTHS),
        ("A minor", False, A_MINOR_TRIADS),
        ("A minor", True, A_MINOR_SEVENTHS),
    ],
)
def test_chord_from_degree(
    key_text: str, seventh: bool, expected: list[tuple[str, int, tuple[int, ...], str]]
) -> None:
    key = parse_key(key_text)
    for degree, (symbol, root, intervals, roman) in enumerate(expected, start=1):
        chord = chord_from_degree(key, degree, seventh)
        assert (chord.symbol, chord.root, chord.intervals, chord.roman) == (
            symbol,
            root,
            intervals,
            roman,
        )
        assert chord.bass == root


def test_chord_from_degree_spelled_in_key() -> None:
    assert [chord_from_degree(EB, d, True).symbol for d in range(1, 8)] == [
        "Ebmaj7",
        "Fm7",
        "Gm7",
        "Abmaj7",
        "Bb7",
        "Cm7",
        "Dm7b5",
    ]
    fsharp_minor = parse_key("F# minor")
    assert chord_from_degree(fsharp_minor, 5, True).symbol == "C#7"
    assert chord_from_degree(fsharp_minor, 7, True).symbol == "E#dim7"


def test_chord_from_degree_rejects_bad_degree() -> None:
    with pytest.raises(GrammarError):
        chord_from_degree(C, 8)


# --- roman_numeral ---------------------------------------------------------------------------

ROUND_TRIP_KEYS = [
    "C major",
    "G major",
    "Eb major",
    "F# major",
    "Db major",
    "A minor",
    "C# minor",
    "Bb minor",
    "E minor",
    "Ab minor",
]


@pytest.mark.parametrize("key_text", ROUND_TRIP_KEYS)
def test_roman_round_trip(key_text: str) -> None:
    key = parse_key(key_text)
    for degree in range(1, 8):
        for seventh in (False, True):
            chord = chord_from_degree(key, degree, seventh)
            numeral = str(chord.roman)
            assert roman_numeral(chord, key) == numeral
            assert roman_numeral(replace(chord, roman=None), key) == numeral
            back = parse_roman(numeral, key)
            assert back.pitch_classes == chord.pitch_classes
            assert back.symbol == chord.symbol


@pytest.mark.parametrize(
    ("symbol", "key_text", "numeral"),
    [
        ("Dm7", "C major", "ii7"),
        ("G7", "C major", "V7"),
        ("F", "C major", "IV"),
        ("Am", "C major", "vi"),
        ("Bdim", "C major", "viio"),
        ("Bm7b5", "C major", "viiø7"),
        ("C/E", "C major", "I6"),
        ("C/G", "C major", "I64"),
        ("G7/B", "C major", "V65"),
        ("G7/D", "C major", "V43"),
        ("G7/F", "C major", "V42"),
        ("Bb", "C major", "bVII"),
        ("Eb", "C major", "bIII"),
        ("Ab", "C major", "bVI"),
        ("Fm", "C major", "iv"),
        ("D7", "C major", "V7/V"),
        ("D", "C major", "V/V"),
        ("E", "C major", "V/vi"),
        ("E7", "C major", "V7/vi"),
        ("A7", "C major", "V7/ii"),
        ("C7", "C major", "V7/IV"),
        ("B7", "C major", "V7/iii"),
        ("D7/F#", "C major", "V65/V"),
        ("C#dim7", "C major", "viio7/ii"),
        ("F#dim7", "C major", "viio7/V"),
        ("Db/F", "C major", "bII6"),
        ("Fb/Ab", "Eb major", "bII6"),
        ("E7", "A minor", "V7"),
        ("E", "A minor", "V"),
        ("G#dim7", "A minor", "viio7"),
        ("G", "A minor", "VII"),
        ("C", "A minor", "III"),
        ("B7", "A minor", "V7/V"),
        ("Bb", "A minor", "bII"),
        ("Fm7", "Eb major", "ii7"),
        ("F7", "Eb major", "V7/V"),
        ("Db", "Eb major", "bVII"),
        ("G7sus4", "C major", "V7sus4"),
        ("G9", "C major", "V9"),
    ],
)
def test_roman_numeral_labels(symbol: str, key_text: str, numeral: str) -> None:
    assert roman_numeral(parse_chord(symbol), parse_key(key_text)) == numeral


def test_roman_numeral_keeps_written_numeral() -> None:
    chord = parse_roman("V7/V", C)
    assert roman_numeral(chord, C) == "V7/V"
    assert roman_numeral(replace(chord, roman=None), C) == "V7/V"


@given(
    st.integers(-7, 7),
    st.sampled_from(["major", "minor"]),
    st.sampled_from(
        [
            "I",
            "i",
            "ii7",
            "V7",
            "V65",
            "V43",
            "V42",
            "IV6",
            "bVII",
            "bVI",
            "bIII",
            "V7/V",
            "V/vi",
            "viio7",
            "viiø7",
            "iv64",
            "IVmaj7",
            "V7/IV",
            "viio7/V",
        ]
    ),
)
def test_labels_parse_back_to_the_same_chord(sharps: int, mode: str, numeral: str) -> None:
    key = key_from_sharps(sharps, mode)  # type: ignore[arg-type]
    chord = replace(parse_roman(numeral, key), roman=None)
    label = roman_numeral(chord, key)
    back = parse_roman(label, key)
    assert (back.root, back.intervals, back.bass) == (chord.root, chord.intervals, chord.bass)


# --- parse_progression -----------------------------------------------------------------------


def _symbols(bars: list[list[Chord]]) -> list[list[str]]:
    return [[c.symbol for c in bar] for bar in bars]


def test_progression_basic() -> None:
    bars = parse_progression("| Dm7 G7 | Cmaj7 | % | ii7 V7 | I ||", C)
    assert _symbols(bars) == [["Dm7", "G7"], ["Cmaj7"], ["Cmaj7"], ["Dm7", "G7"], ["C"]]
    assert bars[3][0].roman == "ii7" and bars[0][0].roman is None


@pytest.mark.parametrize(
    "text",
    ["C | F | G | C", "| C | F | G | C |", "C | F | G | C ||", "|C|F|G|C|", "  C |F|  G |C  "],
)
def test_progression_bar_lines(text: str) -> None:
    assert _symbols(parse_progression(text, C)) == [["C"], ["F"], ["G"], ["C"]]


def test_progression_mixes_symbols_and_numerals() -> None:
    bars = parse_progression("Abmaj7 | Db7 | ii7 V7 | bVII I", EB)
    assert _symbols(bars) == [["Abmaj7"], ["Db7"], ["Fm7", "Bb7"], ["Db", "Eb"]]


def test_progression_repeat_copies_previous_bar() -> None:
    bars = parse_progression("C G | % | % | F", C)
    assert _symbols(bars) == [["C", "G"]] * 3 + [["F"]]


def test_progression_allows_eight_chords() -> None:
    assert len(parse_progression(" ".join(["C"] * 8), C)[0]) == 8


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no chords"),
        ("  | | ", "no chords"),
        ("C | | F", "bar 2 is empty"),
        ("C | F |  | G", "bar 3 is empty"),
        ("C | Hm7", "bar 2: unknown chord 'Hm7'"),
        ("C | F IIX", "bar 2: unknown roman numeral 'IIX'"),
        ("% | C", "bar 1"),
        ("C | % G", "bar 2"),
        ("C | " + " ".join(["G"] * 9), "bar 2 has 9 chords, at most 8"),
    ],
)
def test_progression_errors(text: str, message: str) -> None:
    with pytest.raises(GrammarError, match=message.replace("(", r"\(")):
        parse_progression(text, C)


def test_one_quality_table_every_reader_agrees_with() -> None:
    """grammar.chords is the one home of the chord qualities: every quality has a class, and the
    tables other layers keep by quality (MusicXML kinds, the melody model's tokens, the chorale
    labeller's templates) name the same qualities with the same intervals."""
    from composer.generators.transformer import tokens
    from composer.render.musicxml import KINDS
    from grammar.chords import CLASS_INTERVALS, QUALITIES, QUALITY_CLASS, triad_class
    from planners.learn.labelling import TEMPLATES, quality_class

    assert set(QUALITY_CLASS) == set(QUALITIES) == set(KINDS)
    assert tokens.QUALITY_CLASS is QUALITY_CLASS  # the melody model reads grammar's table
    assert tokens.CLASS_INTERVALS is CLASS_INTERVALS
    for quality, (intervals, suffix) in TEMPLATES.items():
        assert (suffix, intervals) == QUALITIES[quality]
        assert quality_class(quality) == triad_class(quality)
    assert triad_class("7") == "M" and triad_class("m7b5") == "o" and triad_class("aug7") == "+"
