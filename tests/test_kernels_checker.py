"""Hand-made fixtures for each hard-constraint count (kernels.checker), kernel vs reference."""

from __future__ import annotations

import numpy as np
import pytest

from kernels.batch import check_batch
from kernels.checker import VIOLATIONS
from kernels.context import SectionArrays
from kernels.notes import TRACK_BASS, TRACK_CHORDS, TRACK_MELODY, make_notes
from kernels.reference import reference_violations

M, C, B = TRACK_MELODY, TRACK_CHORDS, TRACK_BASS


def mask(*pcs: int) -> int:
    """12-bit mask with the given pitch classes set."""
    return sum(1 << pc for pc in set(pcs))


C_MAJOR = mask(0, 2, 4, 5, 7, 9, 11)


def section_4_4() -> SectionArrays:
    """Two bars of 4/4 in C major: C major triad in bar 1, D7 (D F# A C) in bar 2."""
    return SectionArrays(
        length_ticks=3840,
        bar_ticks=1920,
        beat_ticks=480,
        strong_offsets=np.array([0, 960]),
        scale_mask=C_MAJOR,
        tonic=0,
        chord_starts=np.array([0, 1920]),
        chord_ends=np.array([1920, 3840]),
        chord_masks=np.array([mask(0, 4, 7), mask(2, 6, 9, 0)]),
        chord_roots=np.array([0, 2]),
        melody_low=60,
        melody_high=84,
    )


def notes(*rows: tuple[int, int, int, int]) -> np.ndarray:
    """NoteArray from (onset, duration, pitch, track) rows, velocity 80."""
    return make_notes([(on, d, p, 80, t) for on, d, p, t in rows])


def violations(cand: np.ndarray, arrays: SectionArrays | None = None) -> dict[str, int]:
    """Kernel counts, asserting they equal the plain-Python reference; without empty_bars
    (the two-bar fixtures often leave bar 2 empty; test_empty_bars covers it)."""
    arrays = arrays or section_4_4()
    got = check_batch([cand], arrays).violation_dict(0)
    assert got == reference_violations(cand, arrays)
    del got["empty_bars"]
    return got


def only(**nonzero: int) -> dict[str, int]:
    """A violation dict (empty_bars left out): zeros except the given counts."""
    return {name: nonzero.get(name, 0) for name in VIOLATIONS if name != "empty_bars"}


def test_clean_candidate_has_no_violations() -> None:
    # C5 E5 over a held C4 chord note and bass C3 -> D3: contrary / oblique, all diatonic
    cand = notes(
        (0, 480, 72, M), (480, 480, 76, M), (0, 1920, 60, C), (0, 960, 48, B), (960, 960, 50, B)
    )
    assert violations(cand) == only()


def test_out_of_key_respects_chord_tones() -> None:
    # F#4 (pc 6) at tick 0: not in C major, not in the C triad -> out of key.
    # F#4 at tick 1920: the D7 chord (D F# A C) sounds there -> allowed chromatic tone.
    assert violations(notes((0, 480, 66, M))) == only(out_of_key=1, strong_nonchord=1)
    assert violations(notes((1920, 480, 66, M))) == only()
    # Bb (pc 10) in the chords track over D7 counts too: all tracks are checked
    assert violations(notes((1920, 480, 58, C)))["out_of_key"] == 1


def test_melody_range() -> None:
    # 59 < 60 and 85 > 84 are out; the bounds 60 and 84 themselves are in
    cand = notes((0, 240, 59, M), (480, 240, 60, M), (960, 240, 84, M), (1440, 240, 85, M))
    got = violations(cand)
    assert got["melody_range"] == 2
    # 59 -> 60 -> 84 -> 85: the 24-semitone jump is the only large leap
    assert got["large_leaps"] == 1


def test_overlaps_in_monophonic_tracks() -> None:
    # melody: (0, 600) then onset 480 < 600 -> 1 overlap; touching notes (end == onset) are fine
    assert violations(notes((0, 600, 72, M), (480, 480, 74, M)))["melody_overlap"] == 1
    assert violations(notes((0, 480, 72, M), (480, 480, 74, M)))["melody_overlap"] == 0
    # same onset counts as overlap (either pitch order)
    assert violations(notes((0, 480, 72, M), (0, 480, 76, M)))["melody_overlap"] == 1
    # bass: three notes, the 2nd and 3rd start before the previous ends -> 2
    got = violations(notes((0, 960, 48, B), (480, 960, 50, B), (960, 480, 52, B)))
    assert got["bass_overlap"] == 2
    assert got["melody_overlap"] == 0
    # chords track is polyphonic: never an overlap
    assert violations(notes((0, 1920, 60, C), (0, 1920, 64, C))) == only()


def test_parallel_fifths() -> None:
    # G4/C4 -> A4/D4: both up 2, interval 7 -> 7: one parallel fifth
    cand = notes((0, 480, 67, M), (480, 480, 69, M), (0, 480, 60, B), (480, 480, 62, B))
    assert violations(cand) == only(parallel_fifths=1)
    # compound fifth G5/C3 (31 % 12 == 7) -> A5/D3 counts too
    cand = notes((0, 480, 79, M), (480, 480, 81, M), (0, 480, 48, B), (480, 480, 50, B))
    assert violations(cand)["parallel_fifths"] == 1


def test_fifths_need_similar_motion_of_both_voices() -> None:
    # contrary motion into a (compound) fifth: G4/C4 -> D5/G3 (74 - 55 = 19, % 12 == 7)
    cand = notes((0, 480, 67, M), (480, 480, 74, M), (0, 480, 60, B), (480, 480, 55, B))
    assert violations(cand)["parallel_fifths"] == 0
    # oblique: bass holds C4 while melody G4 -> G5?  (79 - 60) % 12 == 7 but bass did not move
    cand = notes((0, 480, 67, M), (480, 480, 79, M), (0, 960, 60, B))
    assert violations(cand)["parallel_fifths"] == 0


def test_fifths_across_repeats_and_rests() -> None:
    # melody repeats G4 at 480 over a held C4 bass: (67, 60) twice -> duplicate dropped;
    # then A4/D4 at 960 -> one fifth
    cand = notes(
        (0, 480, 67, M), (480, 480, 67, M), (960, 480, 69, M), (0, 960, 60, B), (960, 480, 62, B)
    )
    assert violations(cand)["parallel_fifths"] == 1
    # melody rests at 480..960 while the bass re-strikes C4: that time is skipped, and
    # (67, 60) at 0 -> (69, 62) at 960 are still consecutive pairs -> one fifth
    cand = notes(
        (0, 480, 67, M), (960, 480, 69, M), (0, 480, 60, B), (480, 480, 60, B), (960, 480, 62, B)
    )
    assert violations(cand)["parallel_fifths"] == 1


def test_parallel_octaves_and_unisons() -> None:
    # C5/C4 -> D5/D4: both up 2, intervals 12 -> 12 (% 12 == 0)
    cand = notes((0, 480, 72, M), (480, 480, 74, M), (0, 480, 60, B), (480, 480, 62, B))
    assert violations(cand) == only(parallel_octaves=1)
    # unisons C4/C4 -> D4/D4 -> E4/E4: two steps, both parallel "octaves"
    cand = notes(
        (0, 480, 60, M),
        (480, 480, 62, M),
        (960, 480, 64, M),
        (0, 480, 60, B),
        (480, 480, 62, B),
        (960, 480, 64, B),
    )
    assert violations(cand)["parallel_octaves"] == 2


def test_sounding_note_is_the_latest_onset() -> None:
    # melody C5 (0..1920) overlapped by D5 from 480: at 480 the latest onset (D5) sounds.
    # bass C4 at 0, D4 at 480: (72, 60) -> (74, 62) is a parallel octave; the overlap counts too
    cand = notes((0, 1920, 72, M), (480, 480, 74, M), (0, 480, 60, B), (480, 480, 62, B))
    assert violations(cand) == only(parallel_octaves=1, melody_overlap=1)


def test_large_leaps() -> None:
    # 60 -> 73 is 13 semitones (a leap > octave); 73 -> 61 is exactly 12 (allowed)
    cand = notes((0, 480, 60, M), (480, 480, 73, M), (960, 480, 61, M))
    assert violations(cand)["large_leaps"] == 1


def test_empty_candidate() -> None:
    assert violations(notes()) == only()


@pytest.mark.parametrize("name", VIOLATIONS)
def test_violation_names_are_documented(name: str) -> None:
    import kernels.checker as checker

    assert name in (checker.__doc__ or "")
