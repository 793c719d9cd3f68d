"""A section's chords as a lookup by tick, and diatonic arithmetic in its key."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from grammar.chords import Chord
from grammar.keys import Key
from planners.plan import SectionPlan


@dataclass(frozen=True)
class ChordTimeline:
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    chords: tuple[Chord, ...]

    @classmethod
    def of(cls, section: SectionPlan) -> ChordTimeline:
        ev = section.chords
        return cls(
            tuple(e.start_tick for e in ev),
            tuple(e.start_tick + e.duration_ticks for e in ev),
            tuple(e.chord() for e in ev),
        )

    def index_at(self, tick: int) -> int:
        return max(0, bisect.bisect_right(self.starts, tick) - 1)

    def at(self, tick: int) -> Chord:
        return self.chords[self.index_at(tick)]

    def bar_symbols(self, bar: int, bar_ticks: int) -> tuple[str, ...]:
        """The chord symbols sounding in one bar (0-based), with their offsets."""
        lo, hi = bar * bar_ticks, (bar + 1) * bar_ticks
        return tuple(
            f"{s - lo}:{c.symbol}"
            for s, e, c in zip(self.starts, self.ends, self.chords, strict=True)
            if s < hi and e > lo
        )


def scale_steps(key: Key) -> tuple[int, ...]:
    """Semitones above the tonic of each scale degree: (0, 2, 4, 5, 7, 9, 11) in major."""
    return tuple(sorted((pc - key.tonic) % 12 for pc in key.scale))


def to_degree(pitch: int, key: Key) -> tuple[int, int]:
    """(absolute scale degree counted from the tonic of octave 0, chromatic alteration)."""
    steps = scale_steps(key)
    octave, rel = divmod(pitch - key.tonic, 12)
    idx = max(i for i, s in enumerate(steps) if s <= rel)
    return octave * 7 + idx, rel - steps[idx]


def from_degree(degree: int, alteration: int, key: Key) -> int:
    steps = scale_steps(key)
    octave, idx = divmod(degree, 7)
    return key.tonic + octave * 12 + steps[idx] + alteration


def diatonic_shift(pitch: int, steps: int, key: Key) -> int:
    """Move a pitch by ``steps`` scale degrees in ``key`` (a sequence, not a transposition)."""
    degree, alt = to_degree(pitch, key)
    return from_degree(degree + steps, alt, key)
