"""``rules``: the built-in section generator. Melody, chords and bass from the section's plan.

Each candidate is an independent draw of the melody writer (rhythm motifs, pitch walk, contour
height) over the same accompaniment, so candidates differ where taste matters and the search in
:mod:`composer.search.batch` has something to choose between. Repeated sections keep their source's
bars wherever the chords are the same and compose only the bars that differ (a second ending);
varied sections keep the source's head and rhythm and change the rest (see ``melody.py``).
"""

from __future__ import annotations

import numpy as np

from composer.generators.base import GenerationContext
from composer.generators.rules import phrasing
from composer.generators.rules.accompaniment import accompany
from composer.generators.rules.melody import MelodyContext, Note, vary_melody, write_melody
from composer.generators.rules.timeline import ChordTimeline
from composer.search.material import same_chord_bars
from composer.segment import Segment, last_pitch
from kernels.notes import TRACK_BASS, TRACK_CHORDS, TRACK_MELODY, make_notes, track_notes
from planners.plan import SectionPlan

SLOW_TEMPO = 96  # at or below this, busier melodic rhythms are likelier
VELOCITY = {TRACK_MELODY: 88, TRACK_CHORDS: 60, TRACK_BASS: 78}
ROLE_DYNAMICS = {"chorus": 6, "refrain": 6, "bridge": 4, "intro": -8, "outro": -6, "coda": -6}


class RuleGenerator:
    """Music-theory rules and style patterns; no model. Fast: ~1 ms per candidate bar."""

    name = "rules"

    def generate(
        self, section: SectionPlan, context: GenerationContext, n: int, rng: np.random.Generator
    ) -> list[Segment]:
        song = context.song
        meter = song.meter()
        key = section.key_obj()
        low, high = phrasing.window(section, song.melody_low, song.melody_high)
        ctx = MelodyContext(
            section=section,
            meter=meter,
            key=key,
            timeline=ChordTimeline.of(section),
            low=low,
            high=high,
            slow=song.tempo <= SLOW_TEMPO,
            hook=song.hook,
            blue=phrasing.blue_pcs(section.melody, key.tonic),
        )
        chords, bass = accompany(section, context)
        lead_in = last_pitch(context.previous, TRACK_MELODY)
        source = _melody(context.source) if context.source is not None else None
        fixed = _fixed_bars(section, source, context, meter.bar_ticks)
        out = []
        for _i in range(n):
            seed = int(rng.integers(2**31))
            cand_rng = np.random.default_rng(seed)
            if section.relation == "varies" and source:
                melody = vary_melody(ctx, source, cand_rng, lead_in)
                how = "variation"
            else:
                melody = write_melody(ctx, cand_rng, lead_in, fixed)
                how = "repeat" if fixed else "new"
            notes = assemble(melody, chords, bass, section.role, meter.bar_ticks, cand_rng)
            out.append(Segment(section.id, notes, self.name, seed, {"material": how}))
            if fixed and len(fixed) == section.bars:
                break  # a literal repeat has only one candidate
        return out


def _melody(seg: Segment) -> list[Note]:
    m = track_notes(seg.notes, TRACK_MELODY)
    return [(int(r["onset"]), int(r["duration"]), int(r["pitch"])) for r in m]


def _fixed_bars(
    section: SectionPlan, source: list[Note] | None, context: GenerationContext, bar_ticks: int
) -> dict[int, list[Note]]:
    """For a repeat: the source's melody in every bar whose chords are unchanged."""
    if section.relation != "repeats" or source is None or context.source is None:
        return {}
    src_section = context.song.section(context.source.section_id)
    return {
        bar: [n for n in source if n[0] // bar_ticks == bar]
        for bar in same_chord_bars(section, src_section, bar_ticks)
    }


def assemble(
    melody: list[Note],
    chords: list[Note],
    bass: list[Note],
    role: str,
    bar_ticks: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """One NoteArray of a section's melody, chords and bass (onset, duration, pitch lists);
    velocities accent the downbeat, follow the role, and breathe a little (one draw from
    ``rng`` a note, in melody, chords, bass order)."""
    lift = ROLE_DYNAMICS.get(role, 0)
    rows = []
    for track, notes in ((TRACK_MELODY, melody), (TRACK_CHORDS, chords), (TRACK_BASS, bass)):
        for onset, dur, pitch in notes:
            accent = 6 if onset % bar_ticks == 0 else 0
            v = VELOCITY[track] + lift + accent + int(rng.integers(-3, 4))
            rows.append((onset, dur, pitch, max(1, min(127, v)), track))
    return make_notes(rows)
