"""What every part of the band knows about the section it plays, and the velocity rule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer.arrange.energy import Energy
from composer.generators.rules.timeline import ChordTimeline
from grammar.keys import Key
from grammar.meter import TimeSignature, parse_time_signature
from kernels.notes import TRACK_BASS, TRACK_CHORDS, TRACK_DRUMS, TRACK_MELODY
from planners.plan import SectionPlan
from planners.styles import Style

Row = tuple[int, int, int, int, int]  # onset, duration, pitch, velocity, track

# Velocity: a base per part, a step per energy level (1..5), accents from the pattern's
# character, and the metre (the bar's downbeat and strong beats lean, off-beats give way).
BASE = {TRACK_MELODY: 84, TRACK_CHORDS: 60, TRACK_BASS: 76, TRACK_DRUMS: 80}
ENERGY_STEP = {TRACK_MELODY: 4, TRACK_CHORDS: 6, TRACK_BASS: 5, TRACK_DRUMS: 6}
ACCENT = {"X": 16, "x": 0, "o": -30, "U": 8}


@dataclass(frozen=True)
class PartContext:
    section: SectionPlan
    style: Style
    meter: TimeSignature
    key: Key
    timeline: ChordTimeline
    energy: Energy
    slow: bool  # the song's tempo is at or below the style's slow tempo
    next_bass: int | None  # pitch class of the next section's first bass note (None: last)
    next_energy: int | None
    end_at: int | None  # last section only: tick of the final chord's hit, held to the end
    crash: bool  # a new section starts here (not the song's first)
    diatonic: bool  # approach notes stay in the key (the candidates' accompaniment)
    pedal: tuple[int, int, int] | None = None  # (from tick, to tick, pitch class) of a pedal

    @property
    def written(self) -> TimeSignature:
        """The meter the style's patterns are written in."""
        return parse_time_signature(self.style.time_signature)

    @property
    def length(self) -> int:
        return self.section.bars * self.meter.bar_ticks

    @property
    def fill(self) -> bool:
        """The last bar leads into another section."""
        return self.next_bass is not None and self.section.bars >= 2


def metric(offset: int, meter: TimeSignature) -> int:
    if offset == 0:
        return 6
    if offset in meter.strong_offsets:
        return 3
    if offset % meter.beat_ticks == 0:
        return 0
    return -4


def velocity(track: int, energy: int, accent: str, offset: int, meter: TimeSignature) -> int:
    v = BASE[track] + (energy - 3) * ENERGY_STEP[track] + ACCENT.get(accent, 0)
    return int(np.clip(v + metric(offset, meter), 1, 127))


def crescendo(rows: list[Row], ctx: PartContext) -> list[Row]:
    """Into a fuller section, the last bar swells (up to +12 by its end)."""
    if not ctx.fill or ctx.next_energy is None or ctx.next_energy <= ctx.energy.energy:
        return rows
    bt = ctx.meter.bar_ticks
    start = ctx.length - bt
    return [
        (o, d, p, min(127, v + (12 * (o - start) // bt if o >= start else 0)), t)
        for o, d, p, v, t in rows
    ]
