"""check_batch against the plain-Python reference on random candidates, plus the API contract."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings, target
from hypothesis import strategies as st

from kernels import batch
from kernels.batch import BatchResult, check_batch
from kernels.checker import VIOLATIONS
from kernels.context import SectionArrays
from kernels.features import FEATURES
from kernels.notes import NOTE_DTYPE, TRACK_DRUMS, empty_notes
from kernels.reference import reference_features, reference_violations
from kernels.reference_voices import voice_pair_counts
from tests.test_kernels_checker import section_4_4

GRID = 120
LENGTH = 3840  # two bars of 4/4
SETTINGS = settings(max_examples=150, deadline=None)


@st.composite
def sections(draw: st.DrawFn) -> SectionArrays:
    """A random two-bar 4/4 section: random key, strong beats, range and chord timeline."""
    cuts = draw(st.sets(st.integers(1, LENGTH // 240 - 1), max_size=6))
    starts = [0, *sorted(240 * c for c in cuts)]
    n = len(starts)
    low = draw(st.integers(30, 80))
    order = draw(st.permutations([0, 1, 2, 3]))
    voices = order[: draw(st.integers(2, 4))] if draw(st.booleans()) else []  # [] = default
    return SectionArrays(
        length_ticks=LENGTH,
        bar_ticks=1920,
        beat_ticks=480,
        strong_offsets=np.array(
            sorted(draw(st.sets(st.sampled_from([0, 480, 960, 1440])))), dtype=np.int64
        ),
        scale_mask=draw(st.integers(0, 4095)),
        tonic=draw(st.integers(0, 11)),
        chord_starts=np.array(starts),
        chord_ends=np.array([*starts[1:], LENGTH]),
        chord_masks=np.array(draw(st.lists(st.integers(0, 4095), min_size=n, max_size=n))),
        chord_roots=np.array(draw(st.lists(st.integers(0, 11), min_size=n, max_size=n))),
        melody_low=low,
        melody_high=draw(st.integers(low, 100)),
        voices=np.array(voices, dtype=np.int64),
    )


# a few pitches a fifth / octave apart, so melody-bass parallels are frequent
VOICE_PITCHES = [48, 50, 55, 57, 60, 62]


def note_arrays(
    max_notes: int = 40,
    pitches: st.SearchStrategy[int] | None = None,
    tracks: st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[np.ndarray]:
    """Random NoteArrays in NO particular row order (the wrapper must sort)."""
    row = st.tuples(
        st.integers(0, LENGTH // GRID - 1).map(lambda u: u * GRID),  # onset on the grid
        st.integers(1, 4).map(lambda u: u * GRID),  # duration 1..4 grid units
        st.integers(30, 90) if pitches is None else pitches,  # pitch
        st.just(80),  # velocity
        st.integers(0, 4) if tracks is None else tracks,  # track (3: drums, 4: an extra one)
    )
    return st.lists(row, max_size=max_notes).map(
        lambda rows: np.array(rows, dtype=NOTE_DTYPE) if rows else empty_notes()
    )


def assert_matches_reference(
    result: BatchResult,
    i: int,
    cand: np.ndarray,
    arrays: SectionArrays,
    reference: np.ndarray | None = None,
    previous: np.ndarray | None = None,
    previous_length: int | None = None,
) -> None:
    # the wrapper leaves drums out before any kernel (a drum number is not a pitch) unless the
    # section names track 3 a voice; the plain references see what the kernels see
    if TRACK_DRUMS not in arrays.voices:
        cand, reference, previous = (
            None if x is None else x[x["track"] != TRACK_DRUMS] for x in (cand, reference, previous)
        )
    assert cand is not None
    assert result.violation_dict(i) == reference_violations(cand, arrays)
    assert result.voice_pair_dict(i) == voice_pair_counts(cand, arrays)
    got = result.feature_dict(i)
    want = reference_features(cand, arrays, reference, previous, previous_length)
    for name in FEATURES:
        assert math.isclose(got[name], want[name], rel_tol=1e-9, abs_tol=1e-12), (
            name,
            got[name],
            want[name],
        )


@SETTINGS
@given(arrays=sections(), cands=st.lists(note_arrays(), min_size=1, max_size=4))
def test_batch_matches_reference(arrays: SectionArrays, cands: list[np.ndarray]) -> None:
    result = check_batch(cands, arrays)
    assert result.violations.shape == (len(cands), len(VIOLATIONS))
    assert result.features.shape == (len(cands), len(FEATURES))
    assert result.violations.dtype == np.int64
    assert result.features.dtype == np.float64
    for i, cand in enumerate(cands):
        assert_matches_reference(result, i, cand, arrays)


@SETTINGS
@given(
    arrays=sections(),
    cands=st.lists(
        note_arrays(pitches=st.sampled_from(VOICE_PITCHES), tracks=st.sampled_from([0, 2])),
        min_size=1,
        max_size=4,
    ),
)
def test_melody_bass_voicing_matches_reference(
    arrays: SectionArrays, cands: list[np.ndarray]
) -> None:
    result = check_batch(cands, arrays)
    parallels = result.violations[
        :, [VIOLATIONS.index("parallel_fifths"), VIOLATIONS.index("parallel_octaves")]
    ]
    target(float(parallels.sum()))  # steer the search towards many parallels
    for i, cand in enumerate(cands):
        assert_matches_reference(result, i, cand, arrays)


def fuzz_candidates(seed: int = 20240601, count: int = 300) -> list[np.ndarray]:
    """Seeded uniform random candidates with pitches that form many fifths and octaves."""
    rng = np.random.default_rng(seed)
    cands = []
    for _ in range(count):
        n = int(rng.integers(0, 41))
        cand = empty_notes(n)
        cand["onset"] = rng.integers(0, LENGTH // GRID, n) * GRID
        cand["duration"] = rng.integers(1, 5, n) * GRID
        cand["pitch"] = rng.choice([*VOICE_PITCHES, 54, 66, 73, 90], n)
        cand["velocity"] = 80
        cand["track"] = rng.choice([0, 0, 1, 2, 2, 3, 4], n)
        cands.append(cand)
    return cands


def four_voices() -> SectionArrays:
    """section_4_4 with voices 0 > 3 > 2 (three voices,
    so voice_spacing has a pair to check) and a narrow melody range (tessitura extremes)."""
    return replace(section_4_4(), voices=np.array([0, 3, 2]), melody_low=70, melody_high=74)


def test_seeded_fuzz_matches_reference_and_covers_every_violation() -> None:
    # uniform numpy draws (unlike hypothesis' small-biased ones) give many parallels
    cands = fuzz_candidates()
    seen = np.zeros(len(VIOLATIONS), dtype=bool)
    for arrays in (section_4_4(), four_voices()):
        result = check_batch(cands, arrays)
        seen |= (result.violations > 0).any(axis=0)
        for i, cand in enumerate(cands):
            assert_matches_reference(result, i, cand, arrays)
    never = [name for name, hit in zip(VIOLATIONS, seen, strict=True) if not hit]
    assert not never, f"never occurred: {never}"


@pytest.mark.parametrize("min_notes", [0, 10**9])
def test_parallel_and_serial_kernels_agree(min_notes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    cands = fuzz_candidates(seed=7, count=200)
    cands[3] = cands[3][::-1]  # reversed rows exercise the in-kernel sort
    arrays = section_4_4()
    monkeypatch.setattr(batch, "PARALLEL_MIN_NOTES", min_notes)
    got = check_batch(cands, arrays)
    for i in (0, 3, 57, 199):
        assert_matches_reference(got, i, cands[i], arrays)
    monkeypatch.setattr(batch, "PARALLEL_MIN_NOTES", 10**9 - min_notes)
    other = check_batch(cands, arrays)
    np.testing.assert_array_equal(got.violations, other.violations)
    np.testing.assert_array_equal(got.features, other.features)


@SETTINGS
@given(
    arrays=sections(),
    cands=st.lists(note_arrays(), min_size=1, max_size=3),
    reference=st.none() | note_arrays(),
    previous=st.none() | note_arrays(),
    previous_bars=st.integers(1, 3),
)
def test_reference_and_previous_segments_match_reference(
    arrays: SectionArrays,
    cands: list[np.ndarray],
    reference: np.ndarray | None,
    previous: np.ndarray | None,
    previous_bars: int,
) -> None:
    # the previous segment's length may differ from this section's (notes may ring past it)
    previous_length = None if previous is None else previous_bars * 1920
    if reference is not None and cands:  # often a variation: the reference with a few changes
        cands[0] = np.concatenate([reference[: len(reference) // 2], cands[0]])
    result = check_batch(
        cands, arrays, reference=reference, previous=previous, previous_length=previous_length
    )
    for i, cand in enumerate(cands):
        assert_matches_reference(result, i, cand, arrays, reference, previous, previous_length)


def test_previous_needs_its_length() -> None:
    with pytest.raises(ValueError, match="previous_length"):
        check_batch([empty_notes()], section_4_4(), previous=empty_notes())


@SETTINGS
@given(arrays=sections(), cands=st.lists(note_arrays(), min_size=2, max_size=6))
def test_batch_equals_one_at_a_time(arrays: SectionArrays, cands: list[np.ndarray]) -> None:
    batch = check_batch(cands, arrays)
    for i, cand in enumerate(cands):
        single = check_batch([cand], arrays)
        np.testing.assert_array_equal(batch.violations[i], single.violations[0])
        np.testing.assert_array_equal(batch.features[i], single.features[0])


@SETTINGS
@given(arrays=sections(), cand=note_arrays(), seed=st.integers(0, 2**32 - 1))
def test_row_order_does_not_matter(arrays: SectionArrays, cand: np.ndarray, seed: int) -> None:
    shuffled = cand[np.random.default_rng(seed).permutation(cand.size)]
    a = check_batch([cand], arrays)
    b = check_batch([shuffled], arrays)
    np.testing.assert_array_equal(a.violations, b.violations)
    np.testing.assert_array_equal(a.features, b.features)


def test_empty_list_gives_empty_arrays() -> None:
    result = check_batch([], section_4_4())
    assert result.violations.shape == (0, len(VIOLATIONS))
    assert result.features.shape == (0, len(FEATURES))
    assert result.violations.dtype == np.int64
    assert result.features.dtype == np.float64


def test_empty_candidate_among_others() -> None:
    arrays = section_4_4()
    cand = np.array([(0, 480, 72, 80, 0), (0, 480, 48, 80, 2)], dtype=NOTE_DTYPE)
    result = check_batch([cand, empty_notes(), cand], arrays)
    assert result.violation_dict(1) == dict.fromkeys(VIOLATIONS, 0) | {"empty_bars": 2}
    for i, c in enumerate([cand, empty_notes(), cand]):
        assert_matches_reference(result, i, c, arrays)


def test_extra_tracks_only_count_for_out_of_key() -> None:
    # a fifth track (4) holding F# over the C chord: out of key, but no feature sees it
    arrays = section_4_4()
    cand = np.array([(0, 480, 66, 80, 4)], dtype=NOTE_DTYPE)
    result = check_batch([cand], arrays)
    assert result.violation_dict(0)["out_of_key"] == 1
    assert result.feature_dict(0) == check_batch([empty_notes()], arrays).feature_dict(0)
    assert_matches_reference(result, 0, cand, arrays)


def test_drums_are_not_pitched_notes() -> None:
    """A drum's note number is an instrument (42: closed hi-hat, an F# over the C chord): the
    checker leaves the drum track out of every constraint and feature."""
    arrays = section_4_4()
    cand = np.array([(0, 480, 72, 80, 0), (0, 480, 48, 80, 2)], dtype=NOTE_DTYPE)
    kit = np.array([(t, 60, 42, 90, TRACK_DRUMS) for t in range(0, 3840, 240)], dtype=NOTE_DTYPE)
    with_kit = np.sort(np.concatenate([cand, kit]), order="onset")
    plain, drummed = check_batch([cand], arrays), check_batch([with_kit], arrays, reference=kit)
    assert drummed.violation_dict(0) == plain.violation_dict(0)
    assert (
        drummed.feature_dict(0)["ref_note_similarity"]
        == check_batch([cand], arrays, reference=empty_notes()).feature_dict(0)[
            "ref_note_similarity"
        ]
    )
    assert check_batch([kit], arrays).violation_dict(0)["out_of_key"] == 0
    # a section that names track 3 a voice (a chorale's fourth part) sings it
    sung = replace(arrays, voices=np.array([0, 3, 2]))
    assert check_batch([kit], sung).violation_dict(0)["out_of_key"] > 0


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ((-120, 480, 60, 80, 0), "onset"),
        ((3840, 480, 60, 80, 0), "onset"),
        ((0, 0, 60, 80, 0), "duration"),
        ((0, 480, 128, 80, 0), "pitch"),
        ((0, 480, 60, 80, -1), "track"),
    ],
)
def test_malformed_notes_are_rejected(row: tuple[int, ...], problem: str) -> None:
    bad = np.array([(0, 480, 60, 80, 0), row], dtype=NOTE_DTYPE)
    with pytest.raises(ValueError, match=rf"candidate 1 has .*{problem}"):
        check_batch([empty_notes(), bad], section_4_4())


def test_wrong_dtype_is_rejected() -> None:
    with pytest.raises(ValueError, match="candidate 0"):
        check_batch([np.zeros(3, dtype=np.int64)], section_4_4())


def _section_kwargs() -> dict[str, object]:
    a = section_4_4()
    return {name: getattr(a, name) for name in a.__dataclass_fields__}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"chord_starts": np.array([120, 1920])}, "chord_starts"),
        ({"chord_ends": np.array([1920, 3000])}, "chord_ends"),
        ({"chord_ends": np.array([1800, 3840])}, "chord_ends"),
        ({"chord_masks": np.array([1])}, "chord_masks"),
        ({"chord_masks": np.array([1, 5000])}, "chord_masks"),
        ({"chord_roots": np.array([0, 12])}, "chord_roots"),
        ({"chord_starts": np.array([0.0, 1920.0])}, "chord_starts"),
        ({"strong_offsets": np.array([1920])}, "strong_offsets"),
        ({"scale_mask": 4096}, "scale_mask"),
        ({"tonic": 12}, "tonic"),
        ({"melody_high": 50}, "melody_high"),
        ({"bar_ticks": 0}, "bar_ticks"),
        ({"length_ticks": 1.5}, "length_ticks"),
    ],
)
def test_section_arrays_validation(change: dict[str, object], field: str) -> None:
    kwargs = _section_kwargs() | change
    with pytest.raises(ValueError, match=field):
        SectionArrays(**kwargs)  # type: ignore[arg-type]


def test_section_arrays_coerces_and_locates_chords() -> None:
    a = SectionArrays(**(_section_kwargs() | {"chord_starts": [0, 1920]}))  # type: ignore[arg-type]
    assert a.chord_starts.dtype == np.int64
    assert not a.chord_starts.flags.writeable
    assert [a.chord_index_at(t) for t in (-5, 0, 1919, 1920, 3839, 5000)] == [0, 0, 0, 1, 1, 1]
    assert a.n_bars == 2
