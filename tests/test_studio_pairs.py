"""A/B pairs: two takes of one section differ there and nowhere else; two songs differ; what a
rating keeps of each side is its notes and its kernel features."""

from __future__ import annotations

import numpy as np
import pytest

from composer.studio.pairs import section_pair, song_pair
from grammar.errors import SpecError
from grammar.spec import validate_spec
from kernels.features import FEATURES
from kernels.notes import TRACK_DRUMS

SPEC = validate_spec({"form": "AABA", "candidates": 4, "generator": "rules", "seed": 3})


def _in(notes: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return notes[(notes["onset"] >= lo) & (notes["onset"] < hi)]


@pytest.mark.slow
def test_two_takes_of_a_section_differ_there_only() -> None:
    pair = section_pair(SPEC)
    assert pair.section == "B1"  # the one section that neither repeats nor is repeated
    plan = pair.a.song.plan
    sect = plan.section("B1")
    lo = plan.section_start_tick(sect)
    hi = lo + sect.bars * plan.meter().bar_ticks
    a, b = pair.a.song.notes, pair.b.song.notes
    a, b = a[a["track"] != TRACK_DRUMS], b[b["track"] != TRACK_DRUMS]
    for start, end in ((0, lo), (hi, 1 << 40)):
        np.testing.assert_array_equal(_in(a, start, end), _in(b, start, end))
    assert not np.array_equal(_in(a, lo, hi), _in(b, lo, hi))
    assert {pair.details["a"], pair.details["b"]} == {"chosen", "runner-up"}
    assert pair.a.notes["onset"].max() < sect.bars * plan.meter().bar_ticks  # section-relative
    assert list(pair.a.features) == list(FEATURES) and pair.a.features != pair.b.features
    r = pair.rating("tie", ["form"], "cy")
    assert (r.kind, r.section, r.spec["seed"]) == ("section", "B1", 3)
    np.testing.assert_array_equal(r.notes_a, pair.a.notes)


@pytest.mark.slow
def test_two_songs_and_bad_sections() -> None:
    pair = song_pair(SPEC)
    assert pair.details["seeds"] == [3, 4] and pair.section is None
    assert pair.a.song.midi != pair.b.song.midi
    assert len(pair.a.notes) == len(pair.a.song.notes)
    assert pair.a.features["melody_notes"] > 0
    with pytest.raises(SpecError, match="not a section"):
        section_pair(SPEC, "Z9")
    with pytest.raises(SpecError, match="two seeds"):
        song_pair(SPEC, (5, 5))
