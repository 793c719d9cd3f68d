"""Time signatures: parsing, bar and beat lengths, strong beats."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grammar.errors import GrammarError
from grammar.meter import DENOMINATORS, TimeSignature, parse_time_signature
from kernels.notes import TICKS_PER_BEAT

Q = TICKS_PER_BEAT  # a quarter note

# text -> (bar_ticks, is_compound, beat_ticks, beats_per_bar, strong_offsets)
METERS: dict[str, tuple[int, bool, int, int, tuple[int, ...]]] = {
    "2/4": (2 * Q, False, Q, 2, (0,)),
    "3/4": (3 * Q, False, Q, 3, (0,)),
    "4/4": (4 * Q, False, Q, 4, (0, 2 * Q)),
    "6/8": (3 * Q, True, 3 * Q // 2, 2, (0, 3 * Q // 2)),
    "9/8": (9 * Q // 2, True, 3 * Q // 2, 3, (0,)),
    "12/8": (6 * Q, True, 3 * Q // 2, 4, (0, 3 * Q)),
    "5/4": (5 * Q, False, Q, 5, (0, 3 * Q)),
    "2/2": (4 * Q, False, 2 * Q, 2, (0,)),
    "3/8": (3 * Q // 2, False, Q // 2, 3, (0,)),
    "7/8": (7 * Q // 2, False, Q // 2, 7, (0, 2 * Q)),
    "6/4": (6 * Q, False, Q, 6, (0, 3 * Q)),
    "6/16": (3 * Q // 2, True, 3 * Q // 4, 2, (0, 3 * Q // 4)),
}


@pytest.mark.parametrize("text", sorted(METERS))
def test_meter_properties(text: str) -> None:
    meter = parse_time_signature(text)
    bar, compound, beat, beats, strong = METERS[text]
    assert meter.bar_ticks == bar
    assert meter.is_compound is compound
    assert meter.beat_ticks == beat
    assert meter.beats_per_bar == beats
    assert meter.strong_offsets == strong
    assert str(meter) == text


def test_spec_examples_in_ticks() -> None:
    assert parse_time_signature("4/4").strong_offsets == (0, 960)
    assert parse_time_signature("6/8").strong_offsets == (0, 720)
    assert parse_time_signature("12/8").strong_offsets == (0, 1440)
    assert parse_time_signature("5/4").strong_offsets == (0, 1440)
    assert parse_time_signature("7/8").strong_offsets == (0, 960)
    assert parse_time_signature("4/4").bar_ticks == 1920


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4/4", (4, 4)),
        (" 6/8 ", (6, 8)),
        ("3 / 4", (3, 4)),
        ("C", (4, 4)),
        ("C|", (2, 2)),
        ("¢", (2, 2)),
        ("16/16", (16, 16)),
        ("1/1", (1, 1)),
    ],
)
def test_parse(text: str, expected: tuple[int, int]) -> None:
    meter = parse_time_signature(text)
    assert (meter.numerator, meter.denominator) == expected
    assert meter == TimeSignature(*expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("4/5", "denominator must be one of 1, 2, 4, 8, 16, got 5"),
        ("3/32", "denominator must be one of 1, 2, 4, 8, 16, got 32"),
        ("4-4", "'4-4' is not a time signature like 3/4"),
        ("", "is not a time signature"),
        ("four four", "is not a time signature"),
        ("0/4", "numerator must be 1..16, got 0"),
        ("17/8", "numerator must be 1..16, got 17"),
        ("3/4/4", "is not a time signature"),
        ("c", "is not a time signature"),
    ],
)
def test_rejects(text: str, message: str) -> None:
    with pytest.raises(GrammarError, match=message):
        parse_time_signature(text)


def test_constructor_validates() -> None:
    with pytest.raises(GrammarError):
        TimeSignature(4, 3)


@given(st.integers(1, 16), st.sampled_from(DENOMINATORS))
def test_meter_invariants(numerator: int, denominator: int) -> None:
    if denominator == 16 and numerator % 2:  # not supported: rejected in the grammar (issue 11)
        with pytest.raises(GrammarError, match="even numerator"):
            parse_time_signature(f"{numerator}/{denominator}")
        return
    meter = parse_time_signature(f"{numerator}/{denominator}")
    assert meter.bar_ticks * denominator == numerator * 4 * TICKS_PER_BEAT  # exact, no rounding
    assert meter.bar_ticks % meter.beat_ticks == 0
    assert meter.beats_per_bar * meter.beat_ticks == meter.bar_ticks
    assert meter.strong_offsets[0] == 0
    assert all(0 <= o < meter.bar_ticks for o in meter.strong_offsets)
    assert list(meter.strong_offsets) == sorted(set(meter.strong_offsets))
    assert parse_time_signature(str(meter)) == meter
