"""A small Standard MIDI File reader: notes, time signature and key signatures, for evaluation.

It reads what :mod:`composer.render.midi` writes (and any type 0/1 file with a ticks-per-quarter
division): the notes of each track as a NoteArray (track = index of the MTrk chunk minus one, so
the conductor track is skipped in files like ours), resampled to 480 ticks per quarter. Our own
reader, so ``compose eval`` needs no MIDI library at run time. A file whose conductor track
has a ``bar 1`` marker (a count-in plays before it) is read from there: the count-in is dropped
and bar 1 starts at tick 0.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kernels.notes import NOTE_DTYPE, TICKS_PER_BEAT, sort_notes

BAR_ONE = b"bar 1"  # the marker composer.render.midi writes where bar 1 follows a count-in


@dataclass(frozen=True)
class MidiFile:
    notes: np.ndarray  # NoteArray, absolute ticks at TICKS_PER_BEAT per quarter
    time_signature: tuple[int, int] = (4, 4)
    keys: list[tuple[int, int, int]] = field(default_factory=list)  # (tick, sharps, minor 0/1)
    length_ticks: int = 0  # the end of the last track


def _vlq(data: bytes, i: int) -> tuple[int, int]:
    n = 0
    while True:
        b = data[i]
        i += 1
        n = (n << 7) | (b & 0x7F)
        if not b & 0x80:
            return n, i


def read_midi(path: str | Path) -> MidiFile:
    """Parse a MIDI file; ValueError if it is not one."""
    data = Path(path).read_bytes()
    if data[:4] != b"MThd":
        raise ValueError(f"{path}: not a MIDI file")
    _, ntracks, division = struct.unpack(">HHH", data[8:14])
    if division & 0x8000:
        raise ValueError(f"{path}: SMPTE time division is not supported")
    scale = TICKS_PER_BEAT / division
    i = 8 + struct.unpack(">I", data[4:8])[0]
    rows: list[tuple[int, int, int, int, int]] = []
    meter, keys, end = (4, 4), [], 0
    bar_one: int | None = None
    for t in range(ntracks):
        if data[i : i + 4] != b"MTrk":
            raise ValueError(f"{path}: bad track chunk")
        size = struct.unpack(">I", data[i + 4 : i + 8])[0]
        j, stop, tick, status = i + 8, i + 8 + size, 0, 0
        on: dict[tuple[int, int], list[tuple[int, int]]] = {}
        while j < stop:
            delta, j = _vlq(data, j)
            tick += delta
            if data[j] & 0x80:
                status = data[j]
                j += 1
            if status == 0xFF:
                kind = data[j]
                length, j = _vlq(data, j + 1)
                body = data[j : j + length]
                j += length
                if kind == 0x58:
                    meter = (body[0], 2 ** body[1])
                elif kind == 0x06 and body == BAR_ONE and bar_one is None:
                    bar_one = round(tick * scale)
                elif kind == 0x59:
                    keys.append((round(tick * scale), struct.unpack("b", body[:1])[0], body[1]))
                continue
            if status in (0xF0, 0xF7):
                length, j = _vlq(data, j)
                j += length
                continue
            kind, chan = status & 0xF0, status & 0x0F
            width = 1 if kind in (0xC0, 0xD0) else 2
            a, b = data[j], data[j + 1] if width == 2 else 0
            j += width
            if kind == 0x90 and b > 0:
                on.setdefault((chan, a), []).append((tick, b))
            elif kind == 0x80 or (kind == 0x90 and b == 0):
                started = on.get((chan, a))
                if started:
                    t0, vel = started.pop(0)
                    on0, off = round(t0 * scale), round(tick * scale)
                    if off > on0:
                        rows.append((on0, off - on0, a, vel, t - 1))
        end = max(end, round(tick * scale))
        i = stop
    notes = np.array(rows, dtype=NOTE_DTYPE) if rows else np.zeros(0, dtype=NOTE_DTYPE)
    if bar_one:  # a count-in plays before the song: its bar 1 is where the song starts
        notes = notes[notes["onset"] >= bar_one]
        notes["onset"] -= bar_one
        keys = [(max(0, k - bar_one), sh, mi) for k, sh, mi in keys]
        end = max(0, end - bar_one)
    return MidiFile(sort_notes(notes), meter, keys, end)
