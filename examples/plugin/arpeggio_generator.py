"""An example plugin: a melody that arpeggiates each planned chord, over sustained chords and
a root bass. It shows the whole contract: a ``name`` and one ``generate`` method returning
``n`` Segments of NoteArrays that start at tick 0 of the section and end within it."""

from __future__ import annotations

import numpy as np

from composer.generators.base import GenerationContext
from composer.segment import Segment
from kernels.notes import TRACK_BASS, TRACK_CHORDS, TRACK_MELODY, make_notes
from planners.plan import SectionPlan

EIGHTH = 240  # ticks (480 per quarter note)


class ArpeggioGenerator:
    name = "arpeggio"

    def generate(
        self, section: SectionPlan, context: GenerationContext, n: int, rng: np.random.Generator
    ) -> list[Segment]:
        song = context.song
        out = []
        for _ in range(n):
            seed = int(rng.integers(2**31))
            r = np.random.default_rng(seed)
            rows = []
            for event in section.chords:
                chord = event.chord()
                tones = sorted({chord.root + i for i in chord.intervals if i < 12})
                base = song.melody_low + ((chord.root - song.melody_low) % 12)
                pitches = [base + t - chord.root for t in tones]
                step = int(r.integers(len(pitches)))
                end = event.start_tick + event.duration_ticks
                for t in range(event.start_tick, end, EIGHTH):
                    p = pitches[step % len(pitches)]
                    rows.append(
                        (t, min(EIGHTH, end - t), min(p, song.melody_high), 80, TRACK_MELODY)
                    )
                    step += 1
                for p in pitches:
                    rows.append((event.start_tick, event.duration_ticks, p - 12, 60, TRACK_CHORDS))
                bass = 36 + (chord.bass - 36) % 12
                rows.append((event.start_tick, event.duration_ticks, bass, 76, TRACK_BASS))
            out.append(Segment(section.id, make_notes(rows), self.name, seed))
        return out
