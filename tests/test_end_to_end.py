"""The output honours the request, judged on the MIDI file read back by mido (tests/midiread.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from composer.render.report import Report
from tests.midiread import NAMES, in_span, key_of, read

pytestmark = pytest.mark.slow


def _report(path: Path) -> Report:
    return Report.model_validate_json(path.with_suffix(".json").read_text())


def _same_key(found: str, want: str) -> bool:
    from grammar.keys import parse_key

    tonic, mode = found.split()
    k = parse_key(want)
    return NAMES.index(tonic) == k.tonic and mode == k.mode


def test_tempo_meter_and_length(songs: dict) -> None:
    for name, (path, want) in songs.items():
        rb = read(path)
        assert rb.ticks_per_beat == 480
        assert round(rb.tempo_bpm, 3) == want["tempo"], name
        assert rb.time_signature == want["meter"], name
        num, den = want["meter"]
        bar = 480 * 4 * num // den
        assert rb.end_tick == sum(want["bars"]) * bar, name
        assert max(o + d for o, d, _ in rb.notes["Melody"]) <= rb.end_tick


def test_home_key_is_the_detected_key(songs: dict) -> None:
    for name, (path, want) in songs.items():
        rb, rep = read(path), _report(path)
        num, den = want["meter"]
        bar = 480 * 4 * num // den
        home = [s for s in rep.sections if s.key == rep.key]
        assert home, name
        notes = [
            n
            for s in home
            for name_, track in rb.notes.items()
            if name_ != "Drums"  # drum numbers are instruments, not pitches
            for n in in_span(track, (s.start_bar - 1) * bar, (s.start_bar - 1 + s.bars) * bar)
        ]
        found = key_of(notes)
        assert _same_key(found, want["key"]), f"{name}: asked {want['key']}, detected {found}"


def test_key_signatures_follow_the_sections(songs: dict) -> None:
    path, _ = songs["spec_ballad"]
    rb = read(path)
    assert rb.key_signatures == [(0, "Eb"), (16 * 1920, "Ab"), (24 * 1920, "Eb")]


# Pitch classes of the explicit chords of examples/ballad.yaml's bridge, written out by hand.
BRIDGE = [
    {8, 0, 3, 7},  # Abmaj7
    {1, 5, 8, 11},  # Db7
    {7, 10, 2, 5, 0, 4},  # Gm7 (first half) / C7 (second half): checked per half below
    {5, 8, 0, 3, 10, 2},  # Fm7 / Bb7
    {8, 0, 3, 7},  # Abmaj7
    {1, 5, 8, 11},  # Db7
    {10, 1, 5, 8},  # Bbm7
    {3, 7, 10, 1},  # Eb7
]
HALVES = {2: ({7, 10, 2, 5}, {0, 4, 7, 10}), 3: ({5, 8, 0, 3}, {10, 2, 5, 8})}


def test_explicit_chords_sound_in_the_accompaniment(songs: dict) -> None:
    """The comp plays the written chords (>= 90% of its note time on their tones); the bass is
    judged where a chord starts: a note of the chord there (walking notes between are free)."""
    path, _ = songs["spec_ballad"]
    rb = read(path)
    start, bar = 16 * 1920, 1920

    def pcs_at(t: int) -> set[int]:
        b, within = divmod(t - start, bar)
        return HALVES[b][within >= bar // 2] if b in HALVES else BRIDGE[b]

    on, total = 0, 0
    for onset, dur, pitch in in_span(rb.notes["Chords"], start, start + 8 * bar):
        total += dur
        on += dur if pitch % 12 in pcs_at(onset) else 0
    assert total > 0
    assert on / total >= 0.9, on / total
    bass = {o: p for o, _, p in in_span(rb.notes["Bass"], start, start + 8 * bar)}
    changes = [start + b * bar for b in range(8)] + [start + b * bar + bar // 2 for b in HALVES]
    for t in changes:
        assert t in bass and bass[t] % 12 in pcs_at(t), (t, bass.get(t))


def _melody_sets(rb, rep) -> dict[str, set[tuple[int, int]]]:
    bar = 480 * 4 * rb.time_signature[0] // rb.time_signature[1]
    out = {}
    for s in rep.sections:
        lo = (s.start_bar - 1) * bar
        out[s.id] = {(o - lo, p) for o, _, p in in_span(rb.notes["Melody"], lo, lo + s.bars * bar)}
    return out


def test_same_label_sections_resemble_each_other_more(songs: dict) -> None:
    for name, (path, _) in songs.items():
        rb, rep = read(path), _report(path)
        sets = _melody_sets(rb, rep)
        label = {s.id: s.label for s in rep.sections}
        same, diff = [], []
        ids = list(sets)
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                j = len(sets[a] & sets[b]) / max(1, len(sets[a] | sets[b]))
                (same if label[a] == label[b] else diff).append(j)
        if same and diff:
            assert sum(same) / len(same) > sum(diff) / len(diff), name


def test_varied_section_changes_audibly(songs: dict) -> None:
    path, _ = songs["prompt_waltz"]
    rb, rep = read(path), _report(path)
    sets = _melody_sets(rb, rep)
    varied = next(s for s in rep.sections if s.relation == "varies")
    src = sets[varied.source]
    changed = len(sets[varied.id] - src) / len(sets[varied.id])
    assert 0.25 <= changed < 1.0


def test_midi_opens_in_music21(songs: dict) -> None:
    import music21

    path, want = songs["prompt_waltz"]
    score = music21.converter.parse(str(path))
    assert len(score.parts) == 4  # melody, chords, bass and the waltz's brushes
    ts = score.recurse().getElementsByClass("TimeSignature").first()
    assert (ts.numerator, ts.denominator) == want["meter"]


def test_report_validates_and_explains_each_choice(songs: dict) -> None:
    for name, (path, want) in songs.items():
        rep = _report(path)
        raw = json.loads(path.with_suffix(".json").read_text())
        for field in ("title", "key", "tempo", "time_signature", "tracks", "generator", "seed"):
            assert field in raw, field
        assert rep.tempo == want["tempo"]
        assert [s.bars for s in rep.sections] == want["bars"], name
        for s in rep.sections:
            assert s.chords and s.chords[0].bar == 1 and s.chords[0].beat == 1
            assert "total" in s.scores and set(s.violations)
            assert s.choice.candidates >= 1 and s.choice.candidate < s.choice.candidates
        assert {
            "parse",
            "form",
            "keys",
            "harmony",
            "generate",
            "check",
            "score",
            "stitch",
            "render",
        } <= set(rep.timings)
