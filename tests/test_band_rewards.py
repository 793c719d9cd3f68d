"""The band as it will be played, judged with each candidate melody (composer.search.band_rewards):
hand-worked cases, and the played band is the one the arrange pass writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from composer.arrange import arrange_song
from composer.pipeline import compile_song
from composer.search import rewards
from composer.search.band_rewards import band_features, band_fit, played_bands
from grammar.spec import validate_spec
from kernels.notes import NOTE_DTYPE, TRACK_BASS, TRACK_CHORDS, TRACK_DRUMS, make_notes
from planners.plan import SectionPlan

C_CHORD = [(0, 480, 60, 70, TRACK_CHORDS), (0, 480, 64, 70, TRACK_CHORDS),
           (0, 480, 67, 70, TRACK_CHORDS), (0, 480, 48, 80, TRACK_BASS)]  # fmt: skip


def _melody(pitch: int) -> np.ndarray:
    return np.array([(0, 480, pitch, 90, 0)], dtype=NOTE_DTYPE)


def test_melody_over_the_band_is_clean() -> None:
    feats, above = band_features(make_notes(C_CHORD), _melody(72))
    assert above == 0
    assert feats == {"band_moved_share": 0.0, "band_b9_share": 0.0}
    assert band_fit(feats, _section()) == 1.0


def test_melody_inside_the_comp_is_a_violation_and_a_clash() -> None:
    # F4 over C-E-G: the G (67) sounds above the melody (1 of 3 comp notes) and is moved under
    # it (G3); the E4 a semitone under the F4 clashes all along
    feats, above = band_features(make_notes(C_CHORD), _melody(65))
    assert above == 1
    assert feats["band_moved_share"] == pytest.approx(1 / 3)
    assert feats["band_b9_share"] == 1.0
    assert band_fit(feats, _section()) == 0.0
    # A4: the comp is below it and no tone a semitone under it: nothing to fix
    feats, above = band_features(make_notes(C_CHORD), _melody(69))
    assert (above, feats["band_b9_share"]) == (0, 0.0)


def test_half_the_melody_time_in_a_clash() -> None:
    mel = np.array([(0, 240, 65, 90, 0), (240, 240, 72, 90, 0)], dtype=NOTE_DTYPE)
    feats, above = band_features(make_notes(C_CHORD), mel)
    assert above == 1  # the G against the F only
    assert feats["band_b9_share"] == 0.5
    assert band_fit(feats, _section()) == pytest.approx((1 - 1 / 3) * 0.0)


def test_drums_are_not_in_the_band() -> None:
    kit = [(0, 60, 77, 100, TRACK_DRUMS)]  # a wood block "above" the melody: not a voicing
    plain = band_features(make_notes(C_CHORD), _melody(72))
    assert band_features(make_notes(C_CHORD + kit), _melody(72)) == plain


def test_band_fit_is_registered_and_skipped_without_the_band() -> None:
    assert rewards.REWARDS["band_fit"] is band_fit
    assert "band_fit" in rewards.OBJECTIVES["band"]
    assert band_fit({}, _section()) is None  # reward training: no played band


def test_played_band_is_the_arranged_band() -> None:
    spec = validate_spec({"form": "AB", "style": "jazz", "seed": 5})
    song = compile_song(spec, stop_after="harmony").need_plan()
    bands = played_bands(song)
    assert played_bands(song) is bands  # built once a song
    arranged = arrange_song(song, make_notes([]))
    bass = arranged[arranged["track"] == TRACK_BASS]
    bar = song.meter().bar_ticks
    for s in song.sections:
        start = song.section_start_tick(s)
        mine = bands[s.id][bands[s.id]["track"] == TRACK_BASS]
        theirs = bass[(bass["onset"] >= start) & (bass["onset"] < start + s.bars * bar)]
        assert np.array_equal(mine["pitch"], theirs["pitch"])
        assert np.array_equal(mine["onset"] + start, theirs["onset"])
        assert not (bands[s.id]["track"] == TRACK_DRUMS).any()


def _section() -> SectionPlan:
    spec = validate_spec({"form": "A", "style": "pop", "seed": 1})
    return compile_song(spec, stop_after="harmony").need_plan().sections[0]


def test_the_search_judges_the_band_as_played(tmp_path: Path) -> None:
    """Through the whole pipeline (humanised, not --quantized): every generated section's
    report carries the band's violation and reward, and the MIDI read back has the melody over
    the comp (the arrange pass moved what the violation counted)."""
    from composer.app import api
    from tests.midiread import read

    song = api.compose({"seed": 4, "candidates": 3, "generator": "rules", "style": "blues"})
    generated = [s for s in song.report.sections if s.relation != "repeats"]
    assert generated and all("comp_above_melody" in s.violations for s in generated)
    assert all(0.0 <= s.scores["band_fit"] <= 1.0 for s in generated)
    path = tmp_path / "b.mid"
    path.write_bytes(song.midi)
    back = read(path)
    mel, comp = back.notes["Melody"], back.notes["Chords"]
    # melody time (sampled every 30 ticks, as benchmarks/bench_arrangement.py measures it) with
    # the melody above every comp note sounding: a humanised release a few ticks into the next
    # melody note costs those ticks, not the whole note
    above = total = 0
    for o, d, p in mel:
        for t in range(o, o + d, 30):
            total += 1
            above += all(q < p for oc, dc, q in comp if oc <= t < oc + dc)
    assert above >= 0.9 * total
