"""Kernel voice leading == the music21-object reference on a sample of real Bach chorales.

benchmarks/chorale_voice_leading.py runs the same comparison on the whole corpus.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.chorales import (
    COUNTS,
    PAIRS,
    chorale_names,
    chorale_notes,
    kernel_counts,
    load,
    music21_counts,
    skip_reason,
)

# every 37th chorale of the corpus: ten, spread over it
SAMPLE = chorale_names()[::37][:10]


@pytest.mark.parametrize("name", SAMPLE)
def test_chorale_parallels_match_music21(name: str) -> None:
    score = load(name)
    reason = skip_reason(score)
    if reason is not None:
        pytest.skip(reason)
    assert kernel_counts(chorale_notes(score)) == music21_counts(score)


def test_loader_merges_ties_and_keeps_four_monophonic_tracks() -> None:
    score = load("bach/bwv269")
    notes = chorale_notes(score)
    assert set(np.unique(notes["track"])) == {0, 1, 2, 3}
    for track, part in enumerate(score.parts):
        rows = notes[notes["track"] == track]
        # one row per note once ties are merged (music21's stripTies agrees)
        assert rows.size == len(part.stripTies().flatten().notes)
        ends = rows["onset"] + rows["duration"]
        assert (rows["onset"][1:] >= ends[:-1]).all()  # monophonic: no overlaps


def test_sample_has_parallels_to_find() -> None:
    # guard against a vacuous comparison: the sample holds real parallels and direct fifths
    totals = dict.fromkeys(COUNTS, 0)
    for name in SAMPLE[:5]:
        score = load(name)
        if skip_reason(score) is None:
            counts = kernel_counts(chorale_notes(score))
            for key in COUNTS:
                totals[key] += sum(counts[p][key] for p in PAIRS)
    assert totals["direct_fifths"] > 0
    assert totals["parallel_fifths"] + totals["parallel_octaves"] > 0
