"""A song cut at its section boundaries: which notes a section owns, and its performance.

A note belongs to the section its (arranged, on-the-grid) onset falls in. Each section is
performed on its own random stream (``rng_for(seed, "perform", section id)``) and its played
notes never start before the section does, so a section's performance depends only on its own
notes: that is what lets ``compose revise`` keep every other section note for note
(:mod:`composer.app.revise`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from composer.arrange.perform import perform
from kernels.notes import empty_notes, sort_notes
from planners.plan import SectionPlan, SongPlan
from planners.seeding import rng_for
from planners.styles import song_style


def section_span(plan: SongPlan, section: SectionPlan) -> tuple[int, int]:
    """(first tick, tick after the last) of ``section`` in the song."""
    start = plan.section_start_tick(section)
    return start, start + section.bars * plan.meter().bar_ticks


def owned(plan: SongPlan, notes: np.ndarray, section: SectionPlan) -> np.ndarray:
    """The notes of ``notes`` (absolute ticks) whose onset lies in ``section``; the last section
    also owns anything starting at or after the song's end."""
    start, end = section_span(plan, section)
    last = section.index == len(plan.sections) - 1
    on = notes["onset"]
    return notes[(on >= start) & ((on < end) | last)]


def perform_section(
    plan: SongPlan, section: SectionPlan, notes: np.ndarray, quantized: bool, seed: int
) -> np.ndarray:
    """The played copy of one section's arranged ``notes`` (absolute ticks), on the stream
    ``rng_for(seed, "perform", section.id)``; no played onset before the section's start."""
    played = perform(
        notes,
        song_style(plan),
        plan.meter(),
        rng_for(seed, "perform", section.id),
        quantized=quantized,
    )
    start, _ = section_span(plan, section)
    early = played["onset"] < start
    if early.any():
        end = played["onset"][early] + played["duration"][early]
        played["onset"][early] = start
        played["duration"][early] = np.maximum(end - start, 1)
    return sort_notes(played)


def perform_song(plan: SongPlan, notes: np.ndarray, quantized: bool) -> list[np.ndarray]:
    """Every section's played notes (absolute ticks), in time order."""
    return [
        perform_section(plan, s, owned(plan, notes, s), quantized, plan.seed) for s in plan.sections
    ]


def join(parts: Sequence[np.ndarray]) -> np.ndarray:
    """The sections' played notes as one NoteArray. A note still sounding where a later section
    strikes the same pitch on the same track is cut there (a MIDI note-off would otherwise cut
    the new note short)."""
    if not parts:
        return empty_notes()
    notes = sort_notes(np.concatenate(list(parts)))
    order = np.lexsort((notes["onset"], notes["pitch"], notes["track"]))
    n = notes[order]
    same = (n["track"][1:] == n["track"][:-1]) & (n["pitch"][1:] == n["pitch"][:-1])
    end = n["onset"][:-1] + n["duration"][:-1]
    clash = same & (end > n["onset"][1:])
    if clash.any():
        n["duration"][:-1][clash] = np.maximum(n["onset"][1:][clash] - n["onset"][:-1][clash], 1)
    return sort_notes(n)
