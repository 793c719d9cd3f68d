"""A Standard MIDI File writer (type 1), written here so every byte is ours and deterministic.

Track 0 is the conductor track: the song's name, time signature, tempo, and a key signature at
the start and at every section that changes key, and markers (a count-in's ``count-in`` at 0 and
``bar 1`` where the song's first bar begins: readers that count bars start there). Then one
track per part, each with its name and program change on its own channel. Note-offs sort before
note-ons at the same tick, so a repeated pitch re-strikes cleanly. The tests read the result
back with mido and music21.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

import numpy as np

from grammar.keys import Key
from grammar.meter import TimeSignature
from kernels.notes import TICKS_PER_BEAT

COUNT_IN_MARKER = "count-in"
BAR_ONE_MARKER = "bar 1"  # where the song's bar 1 begins when a count-in plays before it

Event = tuple[int, int, bytes]  # (tick, order at that tick, message bytes)


def vlq(n: int) -> bytes:
    """A MIDI variable-length quantity."""
    if n < 0:
        raise ValueError("negative delta time")
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def _text(text: str) -> bytes:
    """Text for a meta event. MIDI readers (mido, DAWs) decode these as Latin-1, so that is what
    we write; characters outside it become '?' (the report keeps the full title)."""
    return text.encode("latin-1", errors="replace")


def _meta(kind: int, data: bytes) -> bytes:
    return bytes([0xFF, kind]) + vlq(len(data)) + data


def _track(events: Iterable[Event], end_tick: int) -> bytes:
    """A track chunk; its end-of-track event sits at ``end_tick`` (or the last event, if later)."""
    body, now = bytearray(), 0
    for tick, _, msg in sorted(events, key=lambda e: (e[0], e[1], e[2])):
        body += vlq(tick - now) + msg
        now = tick
    body += vlq(max(0, end_tick - now)) + _meta(0x2F, b"")
    return b"MTrk" + struct.pack(">I", len(body)) + bytes(body)


def time_signature_event(meter: TimeSignature) -> bytes:
    # clocks per metronome click: 24 per quarter; a dotted quarter (36) in compound meters
    clocks = 24 * 4 * meter.beat_ticks // (TICKS_PER_BEAT * 4)
    return _meta(0x58, bytes([meter.numerator, meter.denominator.bit_length() - 1, clocks, 8]))


def key_signature_event(key: Key) -> bytes:
    return _meta(0x59, struct.pack(">bB", key.sharps, 1 if key.mode == "minor" else 0))


def tempo_event(bpm: float) -> bytes:
    return _meta(0x51, struct.pack(">I", round(60_000_000 / bpm))[1:])


def write_midi(
    title: str,
    tempo: int,
    meter: TimeSignature,
    keys: Sequence[tuple[int, Key]],
    tracks: Sequence[tuple[str, int, int]],
    notes: np.ndarray,
    end_tick: int,
    tempos: Sequence[tuple[int, float]] = (),
    markers: Sequence[tuple[int, str]] = (),
) -> bytes:
    """The bytes of a type-1 MIDI file.

    ``keys``: (tick, key) of every key signature; ``tracks``: (name, program, channel) per track
    index used in ``notes`` (a NoteArray with absolute onsets); ``end_tick``: the song's length,
    where every track ends, so the last bar is whole even if it ends in a rest; ``tempos``:
    (tick, bpm) changes after the opening tempo (the final ritardando); ``markers``: (tick,
    text) marker events on the conductor track (a count-in's ``count-in`` and ``bar 1``).
    """
    conductor: list[Event] = [
        (0, 0, _meta(0x03, _text(title))),
        (0, 1, time_signature_event(meter)),
        (0, 2, tempo_event(tempo)),
    ]
    conductor += [(tick, 2, tempo_event(bpm)) for tick, bpm in tempos if 0 < tick < end_tick]
    conductor += [(tick, 4, _meta(0x06, _text(text))) for tick, text in markers]
    last = None
    for tick, key in keys:
        if key != last:
            conductor.append((tick, 3, key_signature_event(key)))
            last = key
    chunks = [_track(conductor, end_tick)]
    for index, (name, program, channel) in enumerate(tracks):
        ev: list[Event] = [
            (0, 0, _meta(0x03, _text(name))),
            (0, 1, bytes([0xC0 | channel, program])),
        ]
        for n in notes[notes["track"] == index]:
            on, off = int(n["onset"]), int(n["onset"] + n["duration"])
            pitch, vel = int(n["pitch"]), int(n["velocity"])
            ev.append((on, 3, bytes([0x90 | channel, pitch, vel])))
            ev.append((off, 2, bytes([0x80 | channel, pitch, 0])))
        chunks.append(_track(ev, end_tick))
    header = b"MThd" + struct.pack(">IHHH", 6, 1, len(chunks), TICKS_PER_BEAT)
    return header + b"".join(chunks)
