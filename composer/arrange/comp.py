"""Comping: the style's chord rhythm for the section's energy, voiced and led, under the melody.

Pattern characters (``x X a d u - .``) become strikes of the voicing, single arpeggio notes
(left to ring to the end of the chord, as under the sustain pedal), or guitar strums (``u``: the
top three strings). A hold that crosses a chord change re-strikes the new chord there, and a
chord the pattern leaves silent is struck at its start, so every chord is heard. Once the melody
is known, :func:`under_melody` moves any note that would sound at or above it down an octave
(or drops it), so the melody is always the top voice.
"""

from __future__ import annotations

import numpy as np

from composer.arrange.context import PartContext, Row, crescendo, velocity
from composer.arrange.grid import hits, level_grid, pick
from composer.arrange.voicing import Voicing, voice
from kernels.notes import TRACK_CHORDS

ARPEGGIO = (0, 1, 2, 3, 2, 1)  # the order a rolled left hand takes the notes
LOWEST_COMP = 43  # G2: below this a moved-down note would muddy the bass; it is dropped instead


def comp_part(
    ctx: PartContext, rng: np.random.Generator, prev: Voicing | None
) -> tuple[list[Row], Voicing | None]:
    """The comp of one section and its last voicing (to lead the next section from)."""
    comp = ctx.style.comp
    assert comp is not None
    kind = comp.voicing
    full = ctx.energy.energy >= 4
    pattern = pick(level_grid(comp, ctx.energy.level, ctx.slow), rng)
    tl, bt = ctx.timeline, ctx.meter.bar_ticks
    voicings: list[Voicing] = []
    for chord in tl.chords:
        prev = voice(kind, chord, prev, full)
        voicings.append(prev)
    end_all = ctx.length if ctx.end_at is None else ctx.end_at
    events: list[tuple[int, int, str]] = []  # onset, end, char
    for bar in range(ctx.section.bars):
        for h in hits(pattern, bar, ctx.meter, ctx.written):
            t0, t1 = bar * bt + h.onset, min(bar * bt + h.end, end_all)
            if t0 >= end_all:
                continue
            for k in range(tl.index_at(t0), len(tl.chords)):  # split at chord changes
                s, e = max(t0, tl.starts[k]), min(t1, tl.ends[k])
                if s >= t1:
                    break
                if e > s:
                    events.append((s, e, h.char if s == t0 else "x"))
    for s, e in zip(tl.starts, tl.ends, strict=True):
        if s < end_all and not any(s <= t < e for t, _, _ in events):
            nxt = min((t for t, _, _ in events if t > s), default=e)
            events.append((s, min(nxt, e, end_all), "x"))
    rows: list[Row] = []
    arp_at: dict[int, int] = {}
    for t0, t1, ch in sorted(events):
        k = tl.index_at(t0)
        v = voicings[k]
        vel = velocity(TRACK_CHORDS, ctx.energy.energy, ch, t0 % bt, ctx.meter)
        if ch == "a":
            i = arp_at.get(k, 0)
            arp_at[k] = i + 1
            pitch = v[ARPEGGIO[i % len(ARPEGGIO)] % len(v)]
            ring = min(tl.ends[k], (t0 // bt + 1) * bt, end_all)
            rows.append((t0, max(ring, t1) - t0, pitch, vel, TRACK_CHORDS))
            continue
        notes = v[-3:] if ch in "uU" else v
        rows += [(t0, t1 - t0, p, vel, TRACK_CHORDS) for p in notes]
    if ctx.end_at is not None:  # the final chord, struck and held to the end
        k = tl.index_at(ctx.end_at)
        vel = velocity(TRACK_CHORDS, ctx.energy.energy, "X", 0, ctx.meter)
        final = voice("close" if kind == "shell" else kind, tl.chords[k], voicings[k], True)
        rows += [(ctx.end_at, ctx.length - ctx.end_at, p, vel, TRACK_CHORDS) for p in final]
    return crescendo(rows, ctx), prev


def under_melody(chords: np.ndarray, melody: np.ndarray) -> np.ndarray:
    """``chords`` (a NoteArray of the comp) with every note that would sound at or above the
    melody during its span moved down by octaves until it is below, or dropped if that takes it
    under G2. ``melody``: a NoteArray (monophonic, sorted)."""
    if not melody.size or not chords.size:
        return chords
    m_on = melody["onset"].astype(np.int64)
    m_end = m_on + melody["duration"]
    m_p = melody["pitch"].astype(np.int64)
    keep = np.ones(chords.size, dtype=bool)
    out = chords.copy()
    for i in range(out.size):
        a, b = int(out["onset"][i]), int(out["onset"][i] + out["duration"][i])
        over = (m_on < b) & (m_end > a)
        if not over.any():
            continue
        cap = int(m_p[over].min()) - 1
        p = int(out["pitch"][i])
        while p > cap:
            p -= 12
        if p < LOWEST_COMP:
            keep[i] = False
        out["pitch"][i] = p
    seen: set[tuple[int, int]] = set()
    for i in range(out.size):  # a note moved onto another of the same strike: one of them
        k = (int(out["onset"][i]), int(out["pitch"][i]))
        if keep[i] and k in seen:
            keep[i] = False
        seen.add(k)
    return out[keep]


ANSWER_KINDS = ("close", "shell", "open", "arpeggio")  # keyboard comping; guitars keep time
ANSWER_NOTES = 3


def answer(
    gap: tuple[int, int], chord_pcs: frozenset[int], floor: int, ceiling: int, step: int, vel: int
) -> list[tuple[int, int, int, int]]:
    """A short rising figure in a melody's rest (the comp answering the tune): up to three
    chord tones in ``step``-tick notes from one step into the gap, above ``floor`` and below
    ``ceiling`` (the melody note before the rest), ending before the melody comes back.
    Returns (onset, duration, pitch, velocity) rows."""
    a, b = gap
    tones = [p for p in range(floor + 1, ceiling) if p % 12 in chord_pcs][-ANSWER_NOTES:]
    out = []
    for k, p in enumerate(tones):
        t = a + step * (k + 1)
        if t + step > b:
            break
        out.append((t, step, p, vel - 4 + 3 * k))
    return out if len(out) >= 2 else []
