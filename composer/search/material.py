"""Form relations made real in notes: sources moved into a section's key, repeats spliced in.

A ``repeats`` relation is a guarantee of the pipeline, not a favour asked of a generator: after
generation, every bar of a repeating section whose chords equal its source's is overwritten with
the source's notes (all tracks). A plugin that ignores its context still yields a true repeat.

A long form must not loop, so from a section's third statement on its melody plan names a
``development`` and the spliced melody is developed (:func:`develop`): embellished (passing and
neighbour notes in its long notes), lifted (a third higher, capped at the tessitura's top), or
rhythmically varied (long notes split, even pairs dotted, short pairs merged); re-harmonised
returns get new chords from the harmony pass, so the generator writes those bars afresh. The
same rhythm and contour stay, so the return is still heard as the same section.
"""

from __future__ import annotations

import numpy as np

from composer.generators.rules.timeline import ChordTimeline, diatonic_shift
from composer.segment import Segment
from grammar.keys import Key
from kernels.notes import TICKS_PER_BEAT, TRACK_MELODY, shift, sort_notes
from planners.plan import SectionPlan
from planners.seeding import rng_for

EIGHTH = TICKS_PER_BEAT // 2
LIFT_STEPS = 2  # a lifted return: a diatonic third higher


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
    take = develop(take, section, source.seed)
    out = []
    for cand in cands:
        keep = ~np.isin(cand.notes["onset"] // bar_ticks, bars)
        notes = sort_notes(np.concatenate([cand.notes[keep], take]))
        prov = dict(cand.provenance, repeated_bars=len(bars))
        out.append(Segment(cand.section_id, notes, cand.generator, cand.seed, prov))
    return out


def develop(notes: np.ndarray, section: SectionPlan, seed: int = 0) -> np.ndarray:
    """``notes`` (a source's, in ``section``'s key) with the melody developed as the section's
    melody plan says (``literal``/``reharmonise``/no plan: unchanged). Deterministic: the only
    draws come from the section's own stream."""
    m = section.melody
    if m is None or m.development in ("literal", "reharmonise"):
        return notes
    mel = notes[notes["track"] == TRACK_MELODY]
    if not len(mel):
        return notes
    rng = rng_for(seed, "develop", section.id)
    rows = [(int(r["onset"]), int(r["duration"]), int(r["pitch"]), int(r["velocity"])) for r in mel]
    timeline, key = ChordTimeline.of(section), section.key_obj()
    if m.development == "lift":
        rows = _lift(rows, key, timeline, m.high)
    elif m.development == "embellish":
        rows = _embellish(rows, key, timeline, rng, m.low, m.high)
    else:
        rows = _rhythm(rows, timeline)
    out = np.zeros(len(rows), dtype=notes.dtype)
    for i, (o, d, p, v) in enumerate(rows):
        out[i]["onset"], out[i]["duration"], out[i]["pitch"] = o, d, p
        out[i]["velocity"], out[i]["track"] = v, TRACK_MELODY
    return sort_notes(np.concatenate([notes[notes["track"] != TRACK_MELODY], out]))


Row = tuple[int, int, int, int]  # onset, duration, pitch, velocity


def _lift(rows: list[Row], key: Key, timeline: ChordTimeline, high: int) -> list[Row]:
    """A diatonic third higher (a root becomes the third, the third the fifth), notes over the
    tessitura's top stepped back down under it; a chord tone that the lift made a non-chord
    tone moves to the nearest tone of its chord (a fifth lifted to the seventh, to the octave)."""
    out = []
    for o, d, p, v in rows:
        chord = timeline.at(o).pitch_classes
        q = diatonic_shift(p, LIFT_STEPS, key)
        while q > high:
            q = diatonic_shift(q, -1, key)
        if p % 12 in chord and q % 12 not in chord:
            q = min(
                (c for c in range(q - 3, q + 4) if c % 12 in chord and c <= high),
                key=lambda c: (abs(c - q), -c),
                default=p,
            )
        out.append((o, d, q, v + 4))
    return out


def _embellish(
    rows: list[Row],
    key: Key,
    timeline: ChordTimeline,
    rng: np.random.Generator,
    low: int,
    high: int,
) -> list[Row]:
    """Long notes (a quarter or more) split on the eighth grid: the note, then a passing tone
    towards the next note or a neighbour (a scale step) -- about two in three of them."""
    out: list[Row] = []
    for i, (o, d, p, v) in enumerate(rows):
        half = d // 2 // EIGHTH * EIGHTH
        if d >= TICKS_PER_BEAT and half and rng.random() < 0.67:
            nxt = rows[i + 1][2] if i + 1 < len(rows) else p
            step = 1 if nxt > p else -1 if nxt < p else int(rng.choice([-1, 1]))
            q = diatonic_shift(p, step, key)
            if not low <= q <= high:
                q = diatonic_shift(p, -step, key)
            if low <= q <= high:
                out += [(o, d - half, p, v), (o + d - half, half, q, v - 6)]
                continue
        out.append((o, d, p, v))
    return out


def _rhythm(rows: list[Row], timeline: ChordTimeline) -> list[Row]:
    """The same pitches in a new rhythm: a note of a half or more repeated on its second half,
    an even pair of quarters dotted (dotted quarter + eighth), an even pair of eighths merged."""
    out: list[Row] = []
    i = 0
    while i < len(rows):
        o, d, p, v = rows[i]
        nxt = rows[i + 1] if i + 1 < len(rows) else None
        mid = o + d // 2
        if (
            d >= 2 * TICKS_PER_BEAT
            and d % (2 * EIGHTH) == 0
            and p % 12 in timeline.at(mid).pitch_classes
        ):
            out += [(o, d // 2, p, v), (o + d // 2, d - d // 2, p, v - 6)]
        elif nxt is not None and d == nxt[1] == TICKS_PER_BEAT and o + d == nxt[0]:
            out += [(o, d + EIGHTH, p, v), (nxt[0] + EIGHTH, nxt[1] - EIGHTH, nxt[2], nxt[3])]
            i += 1
        elif (
            nxt is not None
            and d == nxt[1] == EIGHTH
            and o + d == nxt[0]
            and o % TICKS_PER_BEAT == 0
        ):
            out.append((o, 2 * EIGHTH, p, v))
            i += 1
        else:
            out.append((o, d, p, v))
        i += 1
    return out
