"""Hand-made fixtures for the newer violations and features, kernel vs plain-Python reference."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from kernels.batch import check_batch
from kernels.context import SectionArrays
from kernels.notes import make_notes
from tests.test_kernels_checker import B, C, M, notes, only, section_4_4, violations
from tests.test_kernels_features import features

S, A, T = 0, 1, 3  # a four-voice section: soprano 0, alto 1, tenor 3, bass 2


def satb() -> SectionArrays:
    return replace(section_4_4(), voices=np.array([S, A, T, B]))


def pairs(cand: np.ndarray, arrays: SectionArrays) -> dict[tuple[int, int], dict[str, int]]:
    return check_batch([cand], arrays).voice_pair_dict(0)


def test_direct_fifths_and_octaves() -> None:
    # C5/E4 (major sixth) -> D5/G4 similar motion up into a fifth: direct fifth
    cand = notes((0, 480, 72, M), (480, 480, 74, M), (0, 480, 64, B), (480, 480, 67, B))
    assert violations(cand) == only(direct_fifths=1)
    # E5/C4 -> G5/G4 up into an octave: direct octave; contrary into an octave is not
    assert violations(
        notes((0, 480, 76, M), (480, 480, 79, M), (0, 480, 60, B), (480, 480, 67, B))
    ) == only(direct_octaves=1)
    assert (
        violations(notes((0, 480, 76, M), (480, 480, 72, M), (0, 480, 55, B), (480, 480, 60, B)))
        == only()
    )


def test_parallels_between_every_pair_of_voices() -> None:
    # alto and tenor move in parallel fifths, soprano and bass hold: only (A, T) counts
    cand = make_notes(
        [
            (0, 960, 79, 80, S),
            (0, 480, 67, 80, A),
            (480, 480, 69, 80, A),
            (0, 480, 60, 80, T),
            (480, 480, 62, 80, T),
            (0, 960, 48, 80, B),
        ]
    )
    got = pairs(cand, satb())
    assert got[(A, T)]["parallel_fifths"] == 1
    assert sum(c["parallel_fifths"] for c in got.values()) == 1
    assert violations(cand, satb())["parallel_fifths"] == 1
    # with the default voices (melody, bass) nothing is parallel
    assert violations(cand)["parallel_fifths"] == 0


def test_voice_crossing_and_spacing() -> None:
    # alto above soprano (crossing); soprano 20 semitones above alto at 480 (wide spacing);
    # tenor-bass 19 apart is allowed (the lowest pair is exempt)
    cand = make_notes(
        [
            (0, 480, 64, 80, S),
            (0, 480, 67, 80, A),
            (480, 480, 84, 80, S),
            (480, 480, 64, 80, A),
            (0, 960, 55, 80, T),
            (0, 960, 36, 80, B),
        ]
    )
    got = violations(cand, satb())
    assert got["voice_crossing"] == 1
    assert got["voice_spacing"] == 1
    assert got["voice_overlap"] == 0


def test_voice_overlap_in_inner_voices() -> None:
    # the alto (track 1) overlaps itself once; as accompaniment (default voices) it may
    cand = make_notes([(0, 600, 67, 80, A), (480, 480, 69, 80, A), (0, 960, 72, 80, S)])
    assert violations(cand, satb())["voice_overlap"] == 1
    assert violations(cand)["voice_overlap"] == 0


def test_accompaniment_crossing_and_spacing() -> None:
    # chord C3 E4 G5 under melody E5 over bass C3: G5 above the melody (crossing);
    # gaps 48 -> 64 and 64 -> 79 are both wider than an octave
    cand = notes(
        (0, 960, 76, M), (0, 960, 48, B), (0, 960, 48, C), (0, 960, 64, C), (0, 960, 79, C)
    )
    got = violations(cand)
    assert got["accomp_crossing"] == 1
    assert got["accomp_spacing"] == 2
    assert got["instrument_range"] == 0


def test_strong_nonchord_tones_and_unresolved_leaps() -> None:
    # D5 on beat 1 over C (non-chord, strong); C5 -> A5 (+9) -> G5 (-2): resolved;
    # then G5 -> C5 (-7, not a sixth); C5 -> A5 (+9) -> B5 (+2): unresolved
    cand = notes(
        (0, 240, 74, M),
        (240, 240, 72, M),
        (480, 240, 81, M),
        (720, 240, 79, M),
        (1200, 240, 72, M),
        (1440, 240, 81, M),
        (1680, 240, 83, M),
    )
    got = violations(cand)
    assert got["strong_nonchord"] == 1
    assert got["unresolved_leaps"] == 1
    # a leap as the last interval has no follower: not counted
    assert violations(notes((0, 480, 72, M), (480, 480, 81, M)))["unresolved_leaps"] == 0


def test_tessitura_only_at_the_extremes() -> None:
    # range 60..84: centre 72, half-range 12; beyond 9 semitones from the centre is extreme
    assert violations(notes((0, 480, 81, M)))["tessitura"] == 0  # 9 from the centre
    assert violations(notes((0, 480, 82, M)))["tessitura"] == 1  # 10
    assert violations(notes((0, 480, 62, M)))["tessitura"] == 1
    f = features(notes((0, 480, 78, M), (480, 1440, 72, M)))
    assert f["tessitura_deviation"] == pytest.approx(480 * 0.5 / 1920)
    assert f["tessitura_outer_ratio"] == 0.0  # 78 is exactly half the half-range out


def test_instrument_range_and_empty_bars() -> None:
    arrays = section_4_4()
    cand = notes((0, 480, 100, C), (0, 480, 27, B), (0, 480, 68, B), (0, 480, 72, M))
    got = check_batch([cand], arrays).violation_dict(0)
    assert got["instrument_range"] == 3
    assert got["empty_bars"] == 1  # bar 2 is silent
    # a note ringing over the bar line fills bar 2 too
    assert check_batch([notes((1800, 480, 72, M))], arrays).violation_dict(0)["empty_bars"] == 0
    assert check_batch([notes((0, 1920, 72, M))], arrays).violation_dict(0)["empty_bars"] == 1
    custom = replace(arrays, track_low=np.array([0, 0, 0]), track_high=np.array([127, 127, 127]))
    assert check_batch([cand], custom).violation_dict(0)["instrument_range"] == 0


def test_interval_histogram_contour_and_metric_chord_tones() -> None:
    # C5 E5 D5 D5 C6 over C (bar 1); onsets 0 (strong), 480 (weak beat), 720 (off), 960, 1440
    cand = notes(
        (0, 480, 72, M), (480, 240, 76, M), (720, 240, 74, M), (960, 480, 74, M), (1440, 480, 84, M)
    )
    f = features(cand)
    # intervals +4 -2 0 +10
    assert [f[f"iv_{k}"] for k in (0, 2, 4, 10)] == [0.25] * 4
    assert f["contour_up_ratio"] == pytest.approx(2 / 3)
    assert f["net_motion"] == 12
    assert f["peak_position"] == pytest.approx(1440 / 3840)
    assert f["weak_beat_chord_tones"] == 1.0  # E5 at 480 and C6 at 1440: chord tones of C
    assert f["offbeat_chord_tones"] == 0.0  # D5 at 720


def test_groove_density_and_bar_counts() -> None:
    # bar 1: melody onsets 0 480; bass 0. bar 2: melody 1920 2400 2880; bass 1920
    cand = notes(
        (0, 480, 72, M), (480, 480, 72, M), (1920, 480, 72, M), (2400, 480, 72, M),
        (2880, 720, 72, M), (0, 960, 48, B), (1920, 960, 50, B),
    )  # fmt: skip
    f = features(cand)
    assert f["note_density"] == pytest.approx(3.5)
    assert f["bar_notes_min"] == 2
    assert f["bar_notes_max"] == 3
    assert f["bar_notes_std"] == pytest.approx(0.5)
    assert f["groove_consistency"] == pytest.approx(2 / 3)  # {0, 480} vs {0, 480, 960}
    assert f["sync_across_beat"] == 0.0
    assert f["bar_pitch_repetition"] == pytest.approx(2 / 3)


def test_reference_and_boundary_features() -> None:
    arrays = section_4_4()
    ref = notes((0, 480, 72, M), (480, 480, 74, M), (1920, 480, 76, M))
    cand = notes((0, 480, 72, M), (480, 480, 76, M), (1920, 480, 76, M), (0, 480, 48, B))
    prev = notes((0, 1920, 67, M), (3000, 600, 71, M), (0, 480, 43, B))
    result = check_batch([cand], arrays, reference=ref, previous=prev, previous_length=3840)
    f = result.feature_dict(0)
    assert f["has_reference"] == 1.0
    assert f["ref_onset_similarity"] == 1.0  # same onsets
    assert f["ref_note_similarity"] == pytest.approx(2 / 4)  # shared (0, 72) and (1920, 76)
    assert f["ref_bar_match"] == 0.5  # bar 2 identical
    assert f["has_previous"] == 1.0
    assert f["boundary_interval"] == 1  # B4 -> C5
    assert f["boundary_abs_interval"] == 1
    assert f["boundary_gap_beats"] == pytest.approx(240 / 480)  # 3600 .. 3840 silent
    assert f["boundary_bass_interval"] == 5  # G2 -> C3
    assert f["boundary_rhythm_match"] == pytest.approx(0.0)  # {1080} vs {0, 480}
    plain = check_batch([cand], arrays).feature_dict(0)
    assert plain["has_reference"] == plain["has_previous"] == plain["boundary_interval"] == 0.0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"voices": np.array([0, 0])}, "voices"),
        ({"voices": np.array([0, -1])}, "voices"),
        ({"track_low": np.array([0, 0]), "track_high": np.array([127])}, "track_high"),
        ({"track_low": np.array([60]), "track_high": np.array([50])}, "track_low"),
        ({"track_low": np.array([0]), "track_high": np.array([128])}, "track_low"),
    ],
)
def test_new_section_fields_are_validated(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        replace(section_4_4(), **change)  # type: ignore[arg-type]


def test_new_section_fields_default() -> None:
    arrays = section_4_4()  # built with the twelve original fields only
    assert arrays.voices.tolist() == [0, 2]
    assert arrays.track_low.tolist() == [60, 36, 28]
    assert arrays.track_high.tolist() == [84, 96, 67]
    assert check_batch([], arrays).voice_pairs.shape == (0, 1, 6)
