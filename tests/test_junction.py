"""Junction scores and melody similarity against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from composer.search import junction
from composer.search.similarity import contour_similarity, melody, motif_set, motif_similarity
from kernels.notes import make_notes

BAR = 1920
BEAT = 480


def test_lead() -> None:
    assert junction.lead(None, 60) == 1.0
    assert junction.lead(60, 65) == pytest.approx(math.exp(-1))
    assert junction.lead(60, 60) == 1.0


def test_voice_parallel_perfect_intervals_across_the_seam() -> None:
    # melody 67 over bass 48 (a fifth, mod 12 = 7), both step up a tone: parallel fifths
    assert junction.voice(67, 48, 69, 50) == 0.0
    # contrary motion into the same fifth is fine; the bass moves by a tone
    assert junction.voice(67, 48, 65, 50) == 1.0
    # a bass leap of a ninth (14 semitones) costs exp(-(14 - 7) / 5)
    assert junction.voice(72, 48, 72, 62) == pytest.approx(math.exp(-7 / 5))
    assert junction.voice(None, 48, 72, 50) == 1.0


def test_seam_gap_and_clash() -> None:
    prev = make_notes([(0, 960, 60, 80, 0)])  # melody ends after 2 beats of a 4-beat section
    nxt = make_notes([(480, 480, 62, 80, 0)])  # and the next enters on its second beat
    # silence: 2 beats + 1 beat = 3 beats -> exp(-(3 - 1) / 2)
    assert junction.seam(prev, BAR, nxt, BEAT) == pytest.approx(math.exp(-1))
    tight = make_notes([(0, BAR, 60, 80, 0)])
    assert junction.seam(tight, BAR, make_notes([(0, 480, 62, 80, 0)]), BEAT) == 1.0
    ringing = make_notes([(960, 1440, 60, 80, 0)])  # rings 480 ticks into the next section
    assert junction.seam(ringing, BAR, make_notes([(0, 480, 62, 80, 0)]), BEAT) == 0.0
    assert junction.seam(ringing, BAR, make_notes([(0, 480, 60, 80, 0)]), BEAT) == 1.0


def test_parts_and_weighted_sum() -> None:
    prev = make_notes([(0, BAR, 67, 80, 0), (0, BAR, 48, 80, 2)])
    nxt = make_notes([(0, BAR, 69, 80, 0), (0, BAR, 50, 80, 2)])
    p = junction.parts(prev, BAR, nxt, BEAT)
    assert p["lead"] == pytest.approx(math.exp(-2 / 5))
    assert p["voice"] == 0.0 and p["seam"] == 1.0
    assert p["junction"] == pytest.approx(0.5 * math.exp(-2 / 5) + 0.25)
    assert junction.junction(None, BAR, nxt, BEAT) == 1.0


def test_motifs_are_transposition_and_time_invariant() -> None:
    a = np.array([60, 62, 64, 65, 67])  # intervals +2 +2 +1 +2: trigrams (2,2,1), (2,1,2)
    assert motif_set(a).size == 2
    assert motif_similarity(motif_set(a), motif_set(a + 5)) == 1.0
    b = np.array([60, 62, 64, 65, 64])  # (2,2,1), (2,1,-1): one shared of three
    assert motif_similarity(motif_set(a), motif_set(b)) == pytest.approx(1 / 3)
    assert motif_similarity(motif_set(a[:3]), motif_set(b[:3])) == 0.0  # too short: empty
    assert contour_similarity(a, b) == pytest.approx(3 / 4)
    notes = make_notes([(480, 480, 64, 80, 0), (0, 480, 60, 80, 0), (0, 480, 48, 80, 2)])
    assert melody(notes).tolist() == [60, 64]
