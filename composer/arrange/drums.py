"""Drums on General MIDI channel 10: the style's groove for the section's energy, a variation
at each four-bar phrase end, a fill into the next section, a crash on a new section's downbeat,
the ending hit. Styles without drums (a hymn, a chorale) get none.

:func:`count_in` is the drummer's count-in before bar 1 (where the style file has one and the
spec does not turn it off): clicks on the beats and, in some styles, a pickup fill into the
downbeat. It is a pre-roll, not part of the song: the notes and the score start at bar 1, and the
MIDI file marks where bar 1 begins (:func:`composer.pipeline.song_midi`)."""

from __future__ import annotations

import numpy as np

from composer.arrange.context import PartContext, Row, crescendo, velocity
from composer.arrange.grid import hits
from grammar.meter import TimeSignature, parse_time_signature
from kernels.notes import TICKS_PER_BEAT, TRACK_DRUMS
from planners.plan import SongPlan
from planners.styles import Style, song_style
from planners.styles.files import DRUM_NOTES, DrumBar

COUNT_IN_ENERGY = 2  # a count-in is played softly: a cue, not the song
HIT_TICKS = 60  # drum notes are hits; the length is only what a sampler sees as the gate
CRASH_VELOCITY = 104


def _grooves(ctx: PartContext) -> list[DrumBar]:
    d = ctx.style.drums
    assert d is not None
    level = ctx.energy.level
    if level == "bridge":
        return d.bridge or d.low
    grooves: list[DrumBar] = getattr(d, level)
    return grooves


def _bar(groove: DrumBar, bar: int, start: int, ctx: PartContext, until: int) -> list[Row]:
    _bt, out = ctx.meter.bar_ticks, []
    for inst, pattern in groove.items():
        for h in hits(pattern, bar, ctx.meter, ctx.written):
            if start + h.onset >= until:
                continue
            v = velocity(TRACK_DRUMS, ctx.energy.energy, h.char, h.onset, ctx.meter)
            if inst == "crash":
                v = max(v, CRASH_VELOCITY - 10)
            out.append((start + h.onset, HIT_TICKS, DRUM_NOTES[inst], v, TRACK_DRUMS))
    return out


def drum_part(ctx: PartContext, rng: np.random.Generator) -> list[Row]:
    d = ctx.style.drums
    if d is None:
        return []
    grooves = _grooves(ctx)
    first = int(rng.integers(len(grooves)))
    main, alt = grooves[first], grooves[(first + 1) % len(grooves)]
    fill = d.fill[int(rng.integers(len(d.fill)))]
    bt, rows = ctx.meter.bar_ticks, []
    end = ctx.length if ctx.end_at is None else ctx.end_at
    for bar in range(ctx.section.bars):
        start = bar * bt
        if bar == ctx.section.bars - 1 and ctx.fill:
            groove = fill
        elif bar % 4 == 3 and alt is not main:
            groove = alt
        else:
            groove = main
        rows += _bar(groove, bar, start, ctx, end)
    if ctx.crash and d.crash:
        rows = [r for r in rows if not (r[0] == 0 and r[2] in (DRUM_NOTES["crash"],))]
        rows.append((0, HIT_TICKS, DRUM_NOTES["crash"], CRASH_VELOCITY, TRACK_DRUMS))
        if not any(r[0] == 0 and r[2] == DRUM_NOTES["kick"] for r in rows):
            rows.append((0, HIT_TICKS, DRUM_NOTES["kick"], CRASH_VELOCITY - 12, TRACK_DRUMS))
    if ctx.end_at is not None:
        for inst, pattern in d.ending.items():
            for h in hits(pattern, 0, ctx.meter, ctx.written):
                t = ctx.end_at + h.onset
                if t < ctx.length:
                    v = max(velocity(TRACK_DRUMS, ctx.energy.energy, h.char, 0, ctx.meter), 90)
                    rows.append((t, HIT_TICKS, DRUM_NOTES[inst], v, TRACK_DRUMS))
    # one hit per drum and tick: the loudest (a crash over a groove's cymbal)
    rows = sorted({(r[0], r[2]): r for r in sorted(rows, key=lambda r: r[3])}.values())
    return crescendo(rows, ctx)


def count_in(
    style: Style, meter: TimeSignature, on: bool = True, tempo: int | None = None
) -> tuple[int, list[Row]]:
    """(length in ticks, drum rows from tick 0) of the style's count-in played in ``meter``;
    (0, []) where the style has none, it plays without drums, or ``on`` is False. At or below
    the style's slow tempo a count-in of several bars plays only its last bar (two bars of a
    ballad's clicks would be ~7 s of waiting)."""
    d = style.drums
    if not on or d is None or d.count_in is None:
        return 0, []
    ci, written = d.count_in, parse_time_signature(style.time_signature)
    bt, rows = meter.bar_ticks, []
    bars = 1 if tempo is not None and tempo <= style.slow_tempo else ci.bars
    for bar in range(bars):
        groove = ci.first if bar < bars - 1 and ci.first is not None else ci.pattern
        for inst, pattern in groove.items():
            for h in hits(pattern, 0, meter, written):
                v = velocity(TRACK_DRUMS, COUNT_IN_ENERGY, h.char, h.onset, meter)
                rows.append((bar * bt + h.onset, HIT_TICKS, DRUM_NOTES[inst], v, TRACK_DRUMS))
    return bars * bt, sorted(rows)


def count_in_seconds(plan: SongPlan) -> float:
    """How long the song's count-in plays before bar 1, at the opening tempo (0.0: none)."""
    lead, _ = count_in(song_style(plan), plan.meter(), plan.count_in, plan.tempo)
    return lead / TICKS_PER_BEAT * 60 / plan.tempo
