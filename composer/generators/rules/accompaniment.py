"""Chords and bass under a melody, for the section generators: the arrangement engine's band.

:func:`accompany` is what a section generator calls (``rules`` and ``transformer`` both do, so
their tracks match): the comp and bass the arrangement engine (:mod:`composer.arrange`) plays in
this section, led on from where the section before ended. Approach notes stay in the key here,
so the checker judges the melody; the ``arrange`` pass rewrites the band once the melody is
chosen (chromatic approaches, fills into the next section, the comp under the melody, the
ending), from the same patterns and random streams.
"""

from __future__ import annotations

from composer.arrange import section_band
from composer.arrange.voicing import Voicing
from composer.generators.base import GenerationContext
from composer.segment import Segment, last_pitch
from kernels.notes import TRACK_BASS, TRACK_CHORDS, track_notes
from planners.plan import SectionPlan

Note = tuple[int, int, int]  # onset, duration, pitch


def accompany(section: SectionPlan, context: GenerationContext) -> tuple[list[Note], list[Note]]:
    """(chords, bass) of one section, ticks from its start."""
    rows, _, _ = section_band(
        context.song,
        section,
        last_voicing(context.previous),
        last_pitch(context.previous, TRACK_BASS),
        diatonic=True,
    )
    chords = [(o, d, p) for o, d, p, _, t in rows if t == TRACK_CHORDS]
    bass = [(o, d, p) for o, d, p, _, t in rows if t == TRACK_BASS]
    return sorted(chords), sorted(bass)


def last_voicing(seg: Segment | None) -> Voicing | None:
    """The pitches of the last chord in ``seg``, low to high (None without one)."""
    if seg is None:
        return None
    t = track_notes(seg.notes, TRACK_CHORDS)
    if not t.size:
        return None
    last = t["onset"][-1]
    return tuple(int(p) for p in sorted(t["pitch"][t["onset"] == last]))
