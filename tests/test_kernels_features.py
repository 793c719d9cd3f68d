"""Hand-computed feature values (kernels.features), kernel vs reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kernels.batch import check_batch
from kernels.context import SectionArrays
from kernels.features import FEATURES
from kernels.reference import reference_features
from tests.test_kernels_checker import B, C, M, mask, notes, section_4_4


def features(cand: np.ndarray, arrays: SectionArrays | None = None) -> dict[str, float]:
    """Kernel features, asserting they match the plain-Python reference."""
    arrays = arrays or section_4_4()
    got = check_batch([cand], arrays).feature_dict(0)
    want = reference_features(cand, arrays)
    assert list(got) == list(FEATURES) == list(want)
    for name in FEATURES:
        assert math.isclose(got[name], want[name], rel_tol=1e-9, abs_tol=1e-12), name
    return got


# Section: 2 bars 4/4, C major; bar 1 C triad {0,4,7} root C, bar 2 D7 {2,6,9,0} root D.
MELODY = [
    (0, 480, 72, M),  # C5   bar 1 offset 0 (strong)  chord tone of C
    (480, 480, 74, M),  # D5  offset 480              not a chord tone
    (960, 480, 76, M),  # E5  offset 960 (strong)     chord tone
    (1440, 480, 79, M),  # G5 offset 1440             chord tone
    (1920, 960, 78, M),  # F#5 bar 2 offset 0 (strong) chord tone of D7
    (3120, 240, 72, M),  # C5  offset 1200, 3120 % 480 = 240 -> syncopated; chord tone
    (3360, 480, 74, M),  # D5  offset 1440, chord tone of D7; last note
]
ACCOMP = [
    (0, 1920, 60, C),
    (0, 1920, 64, C),
    (0, 1920, 67, C),  # C E G over C: chord tones
    (1920, 1920, 62, C),
    (1920, 1920, 66, C),
    (1920, 1920, 65, C),  # F4 is not in D7
    (0, 1920, 48, B),  # C3: root of C
    (1920, 960, 50, B),  # D3: root of D7
    (2880, 960, 45, B),  # A2: chord tone of D7, not its root
]


def test_hand_computed_features() -> None:
    f = features(notes(*MELODY, *ACCOMP))
    assert f["melody_notes"] == 7
    assert f["melody_density"] == pytest.approx(3.5)  # 7 notes / 2 bars
    assert f["chord_tone_ratio"] == pytest.approx(6 / 7)  # all but D5 at 480
    assert f["strong_chord_tone_ratio"] == pytest.approx(1.0)  # onsets 0, 960, 1920
    # intervals +2 +2 +3 -1 -6 +2: steps |i| in {1,2}: 4; leaps |i| >= 5: 1; no repeats
    assert f["step_ratio"] == pytest.approx(4 / 6)
    assert f["repeat_ratio"] == 0.0
    assert f["leap_ratio"] == pytest.approx(1 / 6)
    assert f["mean_abs_interval"] == pytest.approx(16 / 6)
    assert f["pitch_range"] == 7  # 79 - 72
    assert f["mean_pitch"] == pytest.approx(525 / 7)
    assert f["duration_variety"] == 3  # {240, 480, 960}
    assert f["rest_ratio"] == pytest.approx(240 / 3840)  # silent 2880..3120
    # chords 6 x 1920 + bass 1920 + 960 + 960 = 15360 ticks; F4 (1920) is not a chord tone
    assert f["accomp_chord_tone_ratio"] == pytest.approx(13440 / 15360)
    assert f["first_pitch"] == 72
    assert f["last_pitch"] == 74
    assert f["last_duration"] == 480
    assert f["last_is_tonic"] == 0.0  # D is not C
    assert f["last_is_chord_tone"] == 1.0  # D in D7
    assert f["syncopation"] == pytest.approx(1 / 7)
    # duration-weighted pcs: C 480+240, D 480+480, E 480, G 480, F# 960 (total 3600)
    weights = [720, 960, 480, 480, 960]
    entropy = -sum(w / 3600 * math.log2(w / 3600) for w in weights)
    assert f["pc_entropy"] == pytest.approx(entropy)
    # signs + + + - - +: changes at +-> - and - -> +: 2 of 5 pairs
    assert f["contour_changes"] == pytest.approx(0.4)
    # bar 1 offsets {0, 480, 960, 1440}, bar 2 {0, 1200, 1440}: |{0, 1440}| / 5
    assert f["bar_rhythm_repetition"] == pytest.approx(0.4)
    assert f["bass_root_ratio"] == pytest.approx(2 / 3)


def test_empty_candidate_values() -> None:
    f = features(notes())
    expected = dict.fromkeys(FEATURES, 0.0)
    expected.update(
        rest_ratio=1.0,
        accomp_chord_tone_ratio=1.0,
        bass_root_ratio=1.0,
        first_pitch=-1.0,
        last_pitch=-1.0,
        groove_consistency=1.0,  # two empty bars share the same (empty) groove
    )
    assert f == expected


def test_single_note_and_repeats() -> None:
    f = features(notes((0, 480, 67, M)))
    assert f["step_ratio"] == f["contour_changes"] == f["mean_abs_interval"] == 0.0
    assert f["pc_entropy"] == 0.0  # one pc
    assert f["last_is_chord_tone"] == 0.0  # G is not in the final D7
    assert f["bar_rhythm_repetition"] == 0.0  # bar 2 is empty: Jaccard with {0} is 0
    f = features(notes((0, 480, 67, M), (480, 480, 67, M), (960, 480, 60, M)))
    assert f["repeat_ratio"] == pytest.approx(0.5)
    assert f["leap_ratio"] == pytest.approx(0.5)  # |-7| >= 5
    assert f["last_is_tonic"] == 1.0
    assert f["contour_changes"] == 0.0  # only one nonzero interval
    # pcs G (960 ticks) and C (480): p = 2/3, 1/3
    assert f["pc_entropy"] == pytest.approx(-sum(p * math.log2(p) for p in (2 / 3, 1 / 3)))


def test_six_eight_and_repeated_bars() -> None:
    # 6/8: bar 1440, felt beat a dotted quarter (720); three bars with a C chord throughout
    arrays = SectionArrays(
        length_ticks=4320,
        bar_ticks=1440,
        beat_ticks=720,
        strong_offsets=np.array([0, 720]),
        scale_mask=mask(0, 2, 4, 5, 7, 9, 11),
        tonic=0,
        chord_starts=np.array([0]),
        chord_ends=np.array([4320]),
        chord_masks=np.array([mask(0, 4, 7)]),
        chord_roots=np.array([0]),
        melody_low=48,
        melody_high=96,
    )
    # bars 1 and 2: onsets at offsets {0, 720}; bar 3 {0, 480}: 480 is off the felt beat
    cand = notes(
        (0, 720, 72, M),
        (720, 720, 74, M),
        (1440, 720, 72, M),
        (2160, 720, 74, M),
        (2880, 480, 76, M),
        (3360, 960, 72, M),
    )
    f = features(cand, arrays)
    assert f["syncopation"] == pytest.approx(1 / 6)
    # bar 2 vs bar 1: 1.0; bar 3 vs either: |{0}| / |{0, 480, 720}| = 1/3 -> mean 2/3
    assert f["bar_rhythm_repetition"] == pytest.approx(2 / 3)
    assert f["melody_density"] == pytest.approx(2.0)
    assert f["rest_ratio"] == 0.0
    # strong offsets 0 and 720: C, D, C, D, E(0 in bar 3) -> chord tones C, C, E = 3 of 5
    assert f["strong_chord_tone_ratio"] == pytest.approx(3 / 5)


def test_notes_ringing_past_the_end_are_clipped_for_rest_ratio() -> None:
    f = features(notes((3360, 960, 72, M)))  # 3360..4320 in a 3840-tick section
    assert f["rest_ratio"] == pytest.approx(3360 / 3840)


@pytest.mark.parametrize("name", FEATURES)
def test_feature_names_are_documented(name: str) -> None:
    import kernels.features as features_module

    assert name in (features_module.__doc__ or "")
