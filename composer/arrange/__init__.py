"""The arrangement engine: a band that plays the style.

:func:`arrange_song` is the ``arrange`` pass's work: with the melody chosen, it gives every
section an energy (:mod:`.energy`), writes the comp (:mod:`.comp`), the bass (:mod:`.bass`) and
the drums (:mod:`.drums`) from the style's patterns, keeps the comp under the melody, shapes the
melody's dynamics and writes the ending (the melody's last note on a downbeat, on a chord tone,
held; the final chord with its root in the bass). :func:`section_band` is the same band for one
section without the song around it: the section generators call it (through
``accompany``) so the candidates are checked and scored over the band they will play with.
All randomness comes from :func:`planners.seeding.rng_for` streams named by section.
"""

from __future__ import annotations

import numpy as np

from composer.arrange.bass import bass_part, pedal_span
from composer.arrange.comp import ANSWER_KINDS, answer, comp_part, under_melody
from composer.arrange.context import PartContext, Row
from composer.arrange.drums import drum_part
from composer.arrange.energy import Energy, section_energies
from composer.arrange.perform import final_note, melody_dynamics
from composer.arrange.voicing import Voicing
from composer.generators.rules.timeline import ChordTimeline
from kernels.notes import TRACK_CHORDS, TRACK_MELODY, make_notes, shift, sort_notes
from planners.plan import SectionPlan, SongPlan
from planners.seeding import rng_for
from planners.styles import song_style

__all__ = ["Energy", "arrange_song", "end_tick", "section_band", "section_energies"]


def end_tick(song: SongPlan) -> int:
    """Section-relative tick of the final hit in the last section: the last chord's onset when
    it falls on a strong beat of the last bar, else the last bar's downbeat."""
    meter = song.meter()
    last = song.sections[-1]
    bt = meter.bar_ticks
    bar0 = (last.bars - 1) * bt
    tl = ChordTimeline.of(last)
    t = max(tl.starts[-1], bar0) if tl.starts else bar0
    return t if (t - bar0) in meter.strong_offsets else bar0


def _context(
    song: SongPlan, section: SectionPlan, energies: list[Energy], diatonic: bool
) -> PartContext:
    style = song_style(song)
    meter = song.meter()
    i = section.index
    last = i == len(song.sections) - 1
    nxt = None if last else song.sections[i + 1]
    return PartContext(
        section=section,
        style=style,
        meter=meter,
        key=section.key_obj(),
        timeline=ChordTimeline.of(section),
        energy=energies[i],
        slow=song.tempo <= style.slow_tempo,
        next_bass=None if nxt is None or not nxt.chords else nxt.chords[0].chord().bass,
        next_energy=None if nxt is None else energies[i + 1].energy,
        end_at=end_tick(song) if last else None,
        crash=i > 0,
        diatonic=diatonic,
        pedal=pedal_span(style, section, nxt, meter.bar_ticks),
    )


def section_band(
    song: SongPlan,
    section: SectionPlan,
    prev_voicing: Voicing | None = None,
    prev_bass: int | None = None,
    *,
    diatonic: bool = False,
    energies: list[Energy] | None = None,
) -> tuple[list[Row], Voicing | None, int | None]:
    """(rows, last voicing, last bass pitch) of the band (comp, bass, drums) in one section,
    ticks from its start. The same section always gets the same band (its own random stream)."""
    ctx = _context(song, section, energies or section_energies(song), diatonic)
    comp, voicing = comp_part(ctx, rng_for(song.seed, "arrange", "comp", section.id), prev_voicing)
    bass, last = bass_part(ctx, rng_for(song.seed, "arrange", "bass", section.id), prev_bass)
    drums = drum_part(ctx, rng_for(song.seed, "arrange", "drums", section.id))
    return comp + bass + drums, voicing, last


def arrange_song(
    song: SongPlan, melody: np.ndarray, energies: list[Energy] | None = None
) -> np.ndarray:
    """The whole song's notes: ``melody`` (track 0, absolute ticks) with its dynamics and ending,
    and the band around it, comp under the melody. ``energies``: one per section (default the
    form's, :func:`section_energies`; a profile chooses its own,
    :mod:`composer.preferences.arrangement`)."""
    meter = song.meter()
    energies = section_energies(song) if energies is None else energies
    mel = melody[melody["track"] == TRACK_MELODY]
    total = song.total_bars * meter.bar_ticks
    last = song.sections[-1]
    start_last = song.section_start_tick(last)
    end_at = start_last + end_tick(song)
    tl = ChordTimeline.of(last)
    if tl.chords:
        mel = final_note(
            mel, end_at, total, tl.at(end_at - start_last).pitch_classes, last.key_obj(),
            song.melody_low, song.melody_high,
        )  # fmt: skip
    spans = [
        (
            song.section_start_tick(s),
            song.section_start_tick(s) + s.bars * meter.bar_ticks,
            energies[s.index],
        )
        for s in song.sections
    ]
    mel = melody_dynamics(mel, spans, meter)
    parts = [mel]
    voicing: Voicing | None = None
    bass: int | None = None
    for s in song.sections:
        rows, voicing, bass = section_band(song, s, voicing, bass, energies=energies)
        parts.append(shift(make_notes(rows), ticks=song.section_start_tick(s)))
    band = sort_notes(np.concatenate(parts[1:]))
    chords = under_melody(band[band["track"] == TRACK_CHORDS], mel)
    others = band[band["track"] != TRACK_CHORDS]
    fills = _answers(song, mel, chords, energies)
    return sort_notes(np.concatenate([mel, chords, fills, others]))


def _answers(
    song: SongPlan, mel: np.ndarray, chords: np.ndarray, energies: list[Energy]
) -> np.ndarray:
    """Where the melody rests for two beats or more (not in the last section's final bars), a
    keyboard comp answers it with a short rising figure of chord tones, between the comp's top
    and the melody note before the rest."""
    style = song_style(song)
    if style.comp is None or style.comp.voicing not in ANSWER_KINDS or mel.size < 2:
        return make_notes([])
    meter = song.meter()
    step = meter.beat_ticks // 3 if meter.is_compound else meter.beat_ticks // 2
    ends = mel["onset"] + mel["duration"]
    rows = []
    for i in range(mel.size - 1):
        a, b = int(ends[i]), int(mel["onset"][i + 1])
        if b - a < 2 * meter.beat_ticks:
            continue
        sec = song.sections[0]
        for s in song.sections:
            if song.section_start_tick(s) <= a:
                sec = s
        rel = a - song.section_start_tick(sec)
        if rel >= sec.bars * meter.bar_ticks:
            continue
        tl = ChordTimeline.of(sec)
        k = tl.index_at(rel)
        sounding = chords[(chords["onset"] < b) & (chords["onset"] + chords["duration"] > a)]
        floor = int(sounding["pitch"].max()) if sounding.size else 55
        vel = 60 + 5 * (energies[sec.index].energy - 3)
        start = song.section_start_tick(sec)
        for t, d, p, v in answer(
            (a, b), tl.chords[k].pitch_classes, floor, int(mel["pitch"][i]), step, vel
        ):
            if t + d <= min(tl.ends[k], sec.bars * meter.bar_ticks) + start:
                rows.append((t, d, p, v, TRACK_CHORDS))
    return make_notes(rows)
