"""The MIDI writer, read back with mido."""

from __future__ import annotations

import io

import mido
import pytest

from composer.render.midi import vlq, write_midi
from grammar.keys import parse_key
from grammar.meter import parse_time_signature
from kernels.notes import make_notes


@pytest.mark.parametrize(
    "n,encoded",
    [
        (0, b"\x00"),
        (0x40, b"\x40"),
        (0x7F, b"\x7f"),
        (0x80, b"\x81\x00"),
        (0x2000, b"\xc0\x00"),
        (0x3FFF, b"\xff\x7f"),
        (0x4000, b"\x81\x80\x00"),
        (0x0FFFFFFF, b"\xff\xff\xff\x7f"),
    ],
)
def test_variable_length_quantities(n: int, encoded: bytes) -> None:
    assert vlq(n) == encoded  # the examples of the SMF 1.0 specification


def _file(meter: str = "6/8", keys=(("D major", 0), ("B minor", 1440))) -> mido.MidiFile:
    notes = make_notes(
        [(0, 240, 74, 90, 0), (240, 240, 74, 80, 0), (0, 1440, 50, 70, 2), (1440, 720, 59, 64, 1)]
    )
    data = write_midi(
        "Tést",
        132,
        parse_time_signature(meter),
        [(t, parse_key(k)) for k, t in keys],
        [("Melody", 73, 0), ("Chords", 0, 1), ("Bass", 32, 2)],
        notes,
        2880,
    )
    return mido.MidiFile(file=io.BytesIO(data))


def test_meta_events_and_tracks() -> None:
    mf = _file()
    assert mf.type == 1 and mf.ticks_per_beat == 480 and len(mf.tracks) == 4
    meta = {m.type: m for m in mf.tracks[0] if m.is_meta}
    assert meta["track_name"].name == "Tést"
    ts = meta["time_signature"]
    assert (ts.numerator, ts.denominator, ts.clocks_per_click) == (6, 8, 36)
    assert round(mido.tempo2bpm(meta["set_tempo"].tempo), 3) == 132
    assert [(m.key) for m in mf.tracks[0] if m.type == "key_signature"] == ["D", "Bm"]
    assert [t.name for t in mf.tracks[1:]] == ["Melody", "Chords", "Bass"]
    progs = [next(m for m in t if m.type == "program_change") for t in mf.tracks[1:]]
    assert [(p.channel, p.program) for p in progs] == [(0, 73), (1, 0), (2, 32)]


def test_notes_round_trip_and_tracks_end_together() -> None:
    mf = _file()
    for track in mf.tracks:
        assert sum(m.time for m in track) == 2880
    melody, now, on = [], 0, {}
    for m in mf.tracks[1]:
        now += m.time
        if m.type == "note_on" and m.velocity:
            on[m.note] = (now, m.velocity)
        elif m.type in ("note_off", "note_on"):
            start, vel = on.pop(m.note)
            melody.append((start, now - start, m.note, vel))
    # the repeated D is released before it is struck again
    assert melody == [(0, 240, 74, 90), (240, 240, 74, 80)]


def test_same_input_same_bytes() -> None:
    a, b = _file(), _file()
    assert [list(t) for t in a.tracks] == [list(t) for t in b.tracks]
