"""Independent reading of our MIDI files for the tests: mido only, none of our code.

Also a Krumhansl-Schmuckler key finder written from the published Krumhansl-Kessler profiles
(Krumhansl 1990), so "the requested key is the detected key" is judged by a standard method.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mido
import numpy as np

KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]


@dataclass
class ReadBack:
    ticks_per_beat: int
    tempo_bpm: float
    time_signature: tuple[int, int]
    key_signatures: list[tuple[int, str]]
    track_names: list[str]
    notes: dict[str, list[tuple[int, int, int]]]  # track name -> (onset, duration, pitch)
    end_tick: int
    count_in: int = 0  # ticks of count-in before bar 1 (the "bar 1" marker), dropped above


def read(path: str | Path) -> ReadBack:
    """Everything from bar 1 on: where a "bar 1" marker follows a count-in, ticks count from
    that marker and the count-in's notes are left out (``count_in`` says how long it was)."""
    mf = mido.MidiFile(str(path))
    lead = next(
        (
            sum(m.time for m in mf.tracks[0][: i + 1])
            for i, m in enumerate(mf.tracks[0])
            if m.type == "marker" and m.text == "bar 1"
        ),
        0,
    )
    tempo, ts, keys, names, notes, end = None, None, [], [], {}, 0
    for track in mf.tracks:
        now, name, open_notes, out = 0, None, {}, []
        for msg in track:
            now += msg.time
            if msg.type == "track_name":
                name = msg.name
            elif msg.type == "set_tempo" and tempo is None:
                tempo = mido.tempo2bpm(msg.tempo)
            elif msg.type == "time_signature" and ts is None:
                ts = (msg.numerator, msg.denominator)
            elif msg.type == "key_signature":
                keys.append((max(0, now - lead), msg.key))
            elif msg.type == "note_on" and msg.velocity > 0:
                open_notes[(msg.channel, msg.note)] = now
            elif msg.type in ("note_off", "note_on"):
                start = open_notes.pop((msg.channel, msg.note))
                if start >= lead:
                    out.append((start - lead, now - start, msg.note))
        end = max(end, now - lead)
        names.append(name)
        if out:
            notes[name] = sorted(out)
    return ReadBack(mf.ticks_per_beat, tempo, ts, keys, names, notes, end, lead)


def raw_notes(mf: mido.MidiFile) -> dict[str, list[tuple[int, int, int, int, int]]]:
    """(onset, duration, pitch, velocity, channel) per track name, in raw ticks from the file's
    start (a count-in included), sorted."""
    out = {}
    for track in mf.tracks:
        now, name, open_, notes = 0, None, {}, []
        for m in track:
            now += m.time
            if m.type == "track_name":
                name = m.name
            elif m.type == "note_on" and m.velocity > 0:
                open_[m.note] = (now, m.velocity, m.channel)
            elif m.type in ("note_on", "note_off") and m.note in open_:
                s, v, ch = open_.pop(m.note)
                notes.append((s, now - s, m.note, v, ch))
        out[name] = sorted(notes)
    return out


def key_of(notes: list[tuple[int, int, int]]) -> str:
    """Krumhansl-Schmuckler: correlate the duration-weighted pitch-class histogram with the
    24 rotated profiles; the best is the key, spelled like 'Eb major' / 'C# minor'."""
    hist = np.zeros(12)
    for _, dur, pitch in notes:
        hist[pitch % 12] += dur
    best, name = -2.0, ""
    for tonic in range(12):
        for mode, prof in (("major", KK_MAJOR), ("minor", KK_MINOR)):
            r = np.corrcoef(hist, np.roll(prof, tonic))[0, 1]
            if r > best:
                best, name = r, f"{NAMES[tonic]} {mode}"
    return name


def in_span(notes: list[tuple[int, int, int]], lo: int, hi: int) -> list[tuple[int, int, int]]:
    return [n for n in notes if lo <= n[0] < hi]
