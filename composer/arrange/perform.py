"""Performance: the melody's dynamics and ending, then timing at render (swing, strums,
seeded humanisation, the final ritardando).

The arranged notes stay on the grid (the checker, the report and the library's NoteArray read
them); :func:`perform` makes the copy the MIDI file plays. ``quantized`` turns humanisation off;
swing and strums are the style itself and stay.
"""

from __future__ import annotations

import numpy as np

from composer.arrange.context import BASE, ENERGY_STEP, metric
from composer.arrange.energy import Energy
from grammar.keys import Key
from grammar.meter import TimeSignature
from kernels.notes import TRACK_CHORDS, TRACK_DRUMS, TRACK_MELODY, sort_notes
from planners.styles import Style

RIT_BARS = 2  # the ritardando spans the last two bars ...
RIT_SLOWEST = 0.72  # ... slowing to this fraction of the tempo
STRUM_TICKS = 7  # between strings of a strum (~7 ms at 120 bpm)
JITTER_TICKS = 6.0  # standard deviation of timing humanisation (x the style's humanise)
JITTER_VELOCITY = 3.0
PHRASE_GAP_BEATS = 1.0  # a rest this long ends a phrase


def melody_dynamics(
    melody: np.ndarray, energies: list[tuple[int, int, Energy]], meter: TimeSignature
) -> np.ndarray:
    """Velocities of the melody: the section's energy, the metre's accents, the line's height
    (higher notes sung louder, relative to the section's middle) and phrase shape (the last
    note of a phrase relaxes). ``energies``: (start tick, end tick, Energy) per section."""
    out = melody.copy()
    bt = meter.bar_ticks
    for a, b, e in energies:
        sel = np.flatnonzero((out["onset"] >= a) & (out["onset"] < b))
        if not sel.size:
            continue
        mid = float(np.median(out["pitch"][sel]))
        for n, i in enumerate(sel):
            on = int(out["onset"][i])
            v = BASE[TRACK_MELODY] + (e.energy - 3) * ENERGY_STEP[TRACK_MELODY]
            v += 2 * metric((on - a) % bt, meter) - 2  # a singer leans on the beat harder
            v += int(np.clip(1.0 * (int(out["pitch"][i]) - mid), -10, 10))
            end = on + int(out["duration"][i])
            nxt = int(out["onset"][sel[n + 1]]) if n + 1 < sel.size else b
            if nxt - end >= PHRASE_GAP_BEATS * meter.beat_ticks or n + 1 == sel.size:
                v -= 6
            out["velocity"][i] = int(np.clip(v, 1, 127))
    return out


def final_note(
    melody: np.ndarray,
    end_at: int,
    length: int,
    chord_pcs: frozenset[int],
    key: Key,
    low: int,
    high: int,
) -> np.ndarray:
    """The melody's ending: one note on ``end_at`` (a downbeat), a chord tone (the tonic first)
    near the note before it, held to the end; notes after ``end_at`` go, one across it is cut."""
    keep = melody[melody["onset"] < end_at].copy()
    over = keep["onset"] + keep["duration"] > end_at
    keep["duration"][over] = end_at - keep["onset"][over]
    before = int(keep["pitch"][-1]) if keep.size else (low + high) // 2
    rank = {
        key.tonic: 0,
        (key.tonic + (3 if key.mode == "minor" else 4)) % 12: 1,
        (key.tonic + 7) % 12: 2,
    }
    options = [p for p in range(low, high + 1) if p % 12 in chord_pcs]
    if not options:
        return melody
    pitch = min(options, key=lambda p: (abs(p - before) + 2 * rank.get(p % 12, 3), p))
    vel = int(keep["velocity"][-1]) if keep.size else 80
    last = np.zeros(1, dtype=melody.dtype)
    last[0] = (end_at, length - end_at, pitch, vel, TRACK_MELODY)
    return sort_notes(np.concatenate([keep, last]))


def swing_tick(t: np.ndarray, beat: int, ratio: float) -> np.ndarray:
    """Ticks moved by swing: the off-beat eighth of each beat goes to ``ratio`` of the beat, the
    first half stretches and the second compresses linearly (so 16ths follow their eighth)."""
    if ratio == 0.5:
        return t
    pos = t % beat
    base = t - pos
    half = beat / 2
    moved = np.where(
        pos <= half,
        pos * (ratio * beat) / half,
        ratio * beat + (pos - half) * (beat - ratio * beat) / half,
    )
    return (base + np.round(moved)).astype(np.int64)


def perform(
    notes: np.ndarray,
    style: Style,
    meter: TimeSignature,
    rng: np.random.Generator,
    quantized: bool,
) -> np.ndarray:
    """The played copy of the arranged song: swing (simple metres: on the quarter note), guitar
    strums spread low to high (up-strokes high to low), and, unless ``quantized``, small
    seeded pushes and pulls of time and velocity. Ends are kept, so held notes still end
    together."""
    out = notes.copy()
    on = out["onset"].astype(np.int64)
    end = on + out["duration"]
    if not meter.is_compound and style.feel.swing != 0.5:
        beat = meter.beat_ticks
        on, end = swing_tick(on, beat, style.feel.swing), swing_tick(end, beat, style.feel.swing)
    if style.comp is not None and style.comp.voicing == "strum":
        chords = np.flatnonzero(out["track"] == TRACK_CHORDS)
        for t in np.unique(on[chords]):
            idx = chords[on[chords] == t]
            up = int(notes["onset"][idx[0]]) % meter.beat_ticks != 0
            order = idx[np.argsort(out["pitch"][idx])[:: -1 if up else 1]]
            on[order] += STRUM_TICKS * np.arange(order.size)
    if not quantized and style.feel.humanise > 0:
        h = style.feel.humanise
        jitter = np.clip(
            np.round(rng.normal(0, JITTER_TICKS * h, on.size)), -2 * JITTER_TICKS, 2 * JITTER_TICKS
        )
        jitter[out["track"] == TRACK_DRUMS] //= 2  # the drummer is the clock
        on = np.maximum(0, on + jitter.astype(np.int64))
        vel = out["velocity"].astype(np.int64) + np.round(
            rng.normal(0, JITTER_VELOCITY * h, on.size)
        ).astype(np.int64)
        out["velocity"] = np.clip(vel, 1, 127)
    out["onset"] = on
    out["duration"] = np.maximum(end - on, 1)
    return sort_notes(_no_overlaps(out))


def _no_overlaps(notes: np.ndarray) -> np.ndarray:
    """A note of a track and pitch ends where the next one of the same track and pitch starts
    (moved onsets could make a MIDI note-off cut the next note short)."""
    order = np.lexsort((notes["onset"], notes["pitch"], notes["track"]))
    n = notes[order]
    same = (n["track"][1:] == n["track"][:-1]) & (n["pitch"][1:] == n["pitch"][:-1])
    end = n["onset"][:-1] + n["duration"][:-1]
    clash = same & (end > n["onset"][1:])
    n["duration"][:-1][clash] = np.maximum(n["onset"][1:][clash] - n["onset"][:-1][clash], 1)
    keep = np.ones(n.size, dtype=bool)
    keep[1:][same & (n["onset"][1:] == n["onset"][:-1])] = False  # a double strike: one
    return n[keep]


def ritardando(tempo: int, meter: TimeSignature, total_ticks: int) -> list[tuple[int, float]]:
    """Tempo changes (tick, bpm) of the final ritardando: one per beat over the last bars,
    easing from the tempo to RIT_SLOWEST of it; the first tempo event stays the song's."""
    bars = RIT_BARS if meter.bar_ticks * RIT_BARS < total_ticks else 1
    start = total_ticks - bars * meter.bar_ticks
    beats = bars * meter.beats_per_bar
    out = []
    for k in range(1, beats + 1):
        frac = k / beats
        out.append(
            (
                start + k * meter.beat_ticks - meter.beat_ticks // 2,
                tempo * (1 - (1 - RIT_SLOWEST) * frac**1.5),
            )
        )
    return [(t, bpm) for t, bpm in out if 0 < t < total_ticks]
