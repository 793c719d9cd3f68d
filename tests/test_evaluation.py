"""Evaluation metrics against values computed by hand on tiny fixtures; the MIDI reader."""

from __future__ import annotations

import math

import numpy as np
import pytest

from composer.eval import metrics as ev
from composer.eval.midiread import read_midi
from composer.render.midi import write_midi
from grammar.keys import parse_key
from grammar.meter import parse_time_signature
from kernels.notes import make_notes


def test_corpus_split_is_the_shared_rule() -> None:
    # sha1 first bytes: 100 -> 0 (test), 83 -> 3, 112 -> 12, 140 -> 0, 255 -> 15
    assert ev.corpus_split("bach/bwv13.6.mxl") == "test"
    assert ev.corpus_split("bach/bwv66.6.mxl") == "train"
    assert ev.corpus_split("bach/bwv1.6.mxl") == "train"
    assert ev.corpus_split("essenFolksong/kinder0.abc#50") == "test"
    assert ev.corpus_split("essenFolksong/han1.abc#1") == "train"


def test_pitch_class_entropy_and_scale_consistency() -> None:
    assert ev.pitch_class_entropy(np.array([60, 72, 64, 76])) == pytest.approx(1.0)
    assert ev.pitch_class_entropy(np.arange(60, 72)) == pytest.approx(math.log2(12))
    assert ev.pitch_class_entropy(np.array([], dtype=np.int64)) == 0.0
    c_major = np.array([60, 62, 64, 65, 67, 69, 71])
    assert ev.scale_consistency(c_major) == 1.0
    assert ev.scale_consistency(np.append(c_major, 61)) == pytest.approx(7 / 8)


def test_in_key_rate_follows_the_key_changes() -> None:
    keys = [(0, 0, "major"), (100, 7, "major")]  # C major, then G major from tick 100
    pitches = np.array([65, 65, 66, 60])  # F in C: in; F at 100 in G: out; F# in G; C in G
    onsets = np.array([0, 100, 150, 200])
    assert ev.in_key_rate(pitches, onsets, keys) == pytest.approx(3 / 4)


def test_groove_consistency() -> None:
    bar = 1600  # 16 slots of 100 ticks
    same = np.array([0, 400, 1600, 2000])
    assert ev.groove_consistency(same, bar, 2 * bar) == 1.0
    # second bar onsets at slots 0 and 8 vs 0 and 4: 2 of 16 slots differ
    assert ev.groove_consistency(np.array([0, 400, 1600, 2400]), bar, 2 * bar) == pytest.approx(
        1 - 2 / 16
    )
    assert ev.groove_consistency(same, bar, bar) == 1.0


def test_chord_tone_ratio_and_empty_beats() -> None:
    c_major = 0b000010010001  # C E G
    chords = [(0, 960, c_major), (960, 1920, 0b000010100100)]  # then G: G B D (pcs 7, 11, 2)
    pitches = np.array([64, 65, 67, 62])
    onsets = np.array([0, 480, 960, 1440])
    assert ev.chord_tone_ratio(pitches, onsets, chords) == pytest.approx(3 / 4)
    # notes over beats 0 and 2 (the second rings into beat 3); beat 1 is empty: 1 of 4
    assert ev.empty_beat_rate(np.array([0, 960]), np.array([480, 960]), 480, 1920) == 0.25
    assert ev.empty_beat_rate(np.array([0]), np.array([1920]), 480, 1920) == 0.0


def test_histograms_and_overlap() -> None:
    h = ev.interval_histogram(np.array([60, 62, 60, 80]))  # +2, -2, +20 (clipped to +12)
    assert h[14] == h[10] == h[24] == pytest.approx(1 / 3) and h.sum() == pytest.approx(1)
    r = ev.rhythm_histogram(np.array([480, 240, 240, 700]), 480)  # 1, 1/2, 1/2, ~1.46 -> 1.5
    assert r[ev.RHYTHM_CLASSES.index(1.0)] == 0.25
    assert r[ev.RHYTHM_CLASSES.index(0.5)] == 0.5
    assert r[ev.RHYTHM_CLASSES.index(1.5)] == 0.25
    assert ev.overlap(np.array([0.5, 0.5, 0]), np.array([0.25, 0.25, 0.5])) == 0.5


def test_structure() -> None:
    theme = np.array([60, 62, 64, 65, 67, 65])
    other = np.array([70, 69, 67, 69, 65, 60])
    s = ev.structure([("A", theme), ("A", theme + 2), ("B", other)])
    assert s == pytest.approx(1.0)  # same-label pairs identical, different-label disjoint
    assert ev.structure([("A", theme), ("B", other)]) is None


def test_melody_metrics_against_a_reference() -> None:
    ref = {
        "interval": [0.0] * 10 + [0.5, 0, 0, 0, 0.5] + [0.0] * 10,
        "rhythm": [0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0],
        "pitch_class_entropy": 1.0,
    }
    m = ev.melody_metrics(np.array([60, 62, 60]), np.array([480, 480, 960]), 480, ref)
    assert m["interval_overlap"] == 1.0
    assert m["rhythm_overlap"] == pytest.approx(2 / 3)
    assert m["entropy_gap"] == pytest.approx(
        abs(ev.pitch_class_entropy(np.array([60, 62, 60])) - 1)
    )


def test_shipped_reference_is_from_test_pieces_only() -> None:
    ref = ev.reference()
    assert len(ref["interval"]) == ev.INTERVAL_BINS and sum(ref["interval"]) == pytest.approx(1)
    assert len(ref["rhythm"]) == len(ev.RHYTHM_CLASSES)
    assert ref["pieces"] and all(ev.corpus_split(p) == "test" for p in ref["pieces"])


def test_midi_reader_reads_back_what_we_write() -> None:
    notes = make_notes([(0, 480, 60, 90, 0), (0, 1920, 48, 70, 2), (480, 240, 62, 91, 0)])
    data = write_midi(
        "t",
        100,
        parse_time_signature("3/4"),
        [(0, parse_key("G major")), (1440, parse_key("E minor"))],
        [("Melody", 0, 0), ("Chords", 0, 1), ("Bass", 32, 2)],
        notes,
        2880,
    )
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "t.mid"
        p.write_bytes(data)
        m = read_midi(p)
    got = sorted(
        (int(r["onset"]), int(r["duration"]), int(r["pitch"]), int(r["track"])) for r in m.notes
    )
    assert got == [(0, 480, 60, 0), (0, 1920, 48, 2), (480, 240, 62, 0)]
    assert m.time_signature == (3, 4)
    assert m.keys == [(0, 1, 0), (1440, 1, 1)]


def test_tune_path_names_the_tunes_of_an_opus() -> None:
    from composer.eval.metrics import tune_path

    assert tune_path("essenFolksong/han1.abc", "12", 0, True) == "essenFolksong/han1.abc#12"
    assert tune_path("essenFolksong/han1.abc", None, 4, True) == "essenFolksong/han1.abc#5"
    assert tune_path("essenFolksong/han1.abc", "", 0, True) == "essenFolksong/han1.abc#1"
    assert tune_path("myfolk/tune.abc", "3", 0, False) == "myfolk/tune.abc"  # one piece


def test_one_split_and_one_naming_rule_for_every_build() -> None:
    """The melody data, the reward corpus and the evaluation reference read the split and the
    piece names from planners.learn.corpus (one home), so they hold out the same pieces."""
    from composer.training import melody_data, reward_corpus
    from planners.learn import corpus

    assert ev.corpus_split is corpus.corpus_split is melody_data.split_of
    assert reward_corpus.corpus_split is corpus.corpus_split
    assert ev.tune_path is corpus.tune_path
    assert corpus.corpus_path("/v/lib/music21/corpus/bach/bwv66.6.mxl") == "bach/bwv66.6.mxl"
    assert corpus.corpus_path(r"C:\m21\corpus\bach\bwv1.6.mxl") == "bach/bwv1.6.mxl"
