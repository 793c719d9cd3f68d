"""Form relations made real in notes: sources moved into a section's key, repeats spliced in.

A ``repeats`` relation is a guarantee of the pipeline, not a favour asked of a generator: after
generation, every bar of a repeating section whose chords equal its source's is overwritten with
the source's notes (all tracks). A plugin that ignores its context still yields a true repeat.
"""

from __future__ import annotations

import numpy as np

from composer.generators.rules.timeline import ChordTimeline
from composer.segment import Segment
from kernels.notes import shift, sort_notes
from planners.plan import SectionPlan


def transposition(src: SectionPlan, dst: SectionPlan) -> int:
    """Semitones from the source's key to the destination's, the nearer way (-6..+5)."""
    d = (dst.key_obj().tonic - src.key_obj().tonic) % 12
    return d - 12 if d > 5 else d


def source_in_key(source: Segment, src: SectionPlan, dst: SectionPlan, bar_ticks: int) -> Segment:
    """The chosen source material, transposed into ``dst``'s key and cut to its length."""
    notes = shift(source.notes, semitones=transposition(src, dst))
    length = dst.bars * bar_ticks
    notes = notes[notes["onset"] < length]
    notes["duration"] = np.minimum(notes["duration"], length - notes["onset"])
    return Segment(source.section_id, notes, source.generator, source.seed, source.provenance)


def same_chord_bars(section: SectionPlan, src: SectionPlan, bar_ticks: int) -> list[int]:
    """Bars (0-based) where a section has exactly the chords of its source."""
    mine, theirs = ChordTimeline.of(section), ChordTimeline.of(src)
    return [
        b
        for b in range(min(section.bars, src.bars))
        if mine.bar_symbols(b, bar_ticks) == theirs.bar_symbols(b, bar_ticks)
    ]


def splice_repeat(
    cands: list[Segment], source: Segment, section: SectionPlan, src: SectionPlan, bar_ticks: int
) -> list[Segment]:
    """``cands``, each with every bar whose chords match the source replaced by the source's
    notes. ``source`` must already be in ``section``'s key (see :func:`source_in_key`)."""
    bars = same_chord_bars(section, src, bar_ticks)  # the plan's: once for all candidates
    if not bars:
        return cands
    take = source.notes[np.isin(source.notes["onset"] // bar_ticks, bars)]
    out = []
    for cand in cands:
        keep = ~np.isin(cand.notes["onset"] // bar_ticks, bars)
        notes = sort_notes(np.concatenate([cand.notes[keep], take]))
        prov = dict(cand.provenance, repeated_bars=len(bars))
        out.append(Segment(cand.section_id, notes, cand.generator, cand.seed, prov))
    return out
