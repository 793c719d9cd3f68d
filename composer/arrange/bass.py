"""The bass line: the style's figure for the section's energy, resolved against the chords.

Every chord starts with its bass note on its onset (a hit is added where the figure has none),
so the harmony is heard as written. ``W`` walks: the chord's bass on its first beat, chord tones
on the strong beats, scale steps between, and the last beat before a new chord approaches it
by a half step (or a scale step); ``A`` approaches the next chord, ``N`` anticipates it. Where the
style has pedal points (:func:`pedal_span`) the bass keeps the figure's rhythm on one note, the
dominant of the section that follows at the end of a bridge or pre-chorus, the tonic through an
intro or outro, while the chords change over it. In the
candidates' accompaniment approaches stay in the key (``diatonic``), so the checker's out-of-
key count judges the melody, not the bass. The song's last note is the final chord's root.
"""

from __future__ import annotations

import numpy as np

from composer.arrange.context import PartContext, Row, crescendo, velocity
from composer.arrange.grid import hits, level_grid, pick
from composer.generators.rules.timeline import ChordTimeline
from grammar.chords import Chord
from grammar.keys import Key
from kernels.notes import TRACK_BASS
from planners.plan import SectionPlan
from planners.styles import Style

BASS_RANGE = (33, 55)  # A1..G3
HOME = 41  # F2: where a chord's root is placed from (half way between here and the last note)
FINAL_HIGHEST = 50  # the last root sits low (D3 or under)
RELATIVE = {"8": 12, "6": 9, "4": 5, "2": 2}
PEDAL_BEFORE = ("bridge", "episode", "contrast", "prechorus")  # sections a dominant pedal closes
PEDAL_HOME = 38  # D2: pedals sit low, where a held note is a floor and not a tune


def pedal_span(
    style: Style, section: SectionPlan, nxt: SectionPlan | None, bar_ticks: int
) -> tuple[int, int, int] | None:
    """(from tick, to tick, pitch class) of the section's pedal point, or None. A dominant pedal
    (the next section's key's dominant) closes a bridge or pre-chorus before the return; a tonic
    pedal holds through the roles the style names (an intro, an outro). The pedal starts on a
    chord's onset and holds to the end, only over chords without the note a half step above it
    (a minor ninth over the bass), and never under chords the spec wrote (those keep their own
    bass on each onset), nor where its note is out of the section's key."""
    pedal = style.bass.pedal if style.bass is not None else None
    if pedal is None or section.chords_given or not section.chords:
        return None
    length = section.bars * bar_ticks
    key: Key = section.key_obj()
    if section.role in pedal.tonic:
        pc, start = key.tonic, 0
    elif (
        pedal.dominant_bars
        and section.role in PEDAL_BEFORE
        and nxt is not None
        and section.bars > pedal.dominant_bars
    ):
        pc, start = (nxt.key_obj().tonic + 7) % 12, length - pedal.dominant_bars * bar_ticks
    else:
        return None
    if pc not in key.scale:
        return None
    tl = ChordTimeline.of(section)
    begin = length
    for k in range(len(tl.chords) - 1, -1, -1):
        if tl.ends[k] <= start or (pc + 1) % 12 in tl.chords[k].pitch_classes:
            break
        begin = tl.starts[k]
    begin = max(begin, start)
    if begin % bar_ticks or length - begin < bar_ticks:
        return None  # a pedal is whole bars, at least one
    return begin, length, pc


def near(pc: int, ref: int, low: int = BASS_RANGE[0], high: int = BASS_RANGE[1]) -> int:
    return min((q for q in range(low, high + 1) if q % 12 == pc), key=lambda q: (abs(q - ref), q))


def _interval(chord: Chord, ch: str) -> int:
    iv = chord.intervals
    if ch == "3":
        return iv[1] if len(iv) > 1 else 4
    if ch == "5":
        return iv[2] if len(iv) > 2 else 7
    if ch == "7":
        return iv[3] if len(iv) > 3 else 12
    return RELATIVE[ch]


def _approach(target: int, ctx: PartContext, rng: np.random.Generator, prev: int) -> int:
    """A note a half step (or a scale step) from ``target``, on the side it comes from, never
    the note just played (then from the other side)."""
    chromatic_ok = not ctx.diatonic and rng.random() < 0.6
    first = prev < target or (prev == target and prev > HOME)
    for below in (first, not first):
        p = _neighbour(target, below, chromatic_ok, ctx)
        if p != prev:
            return p
    return p


def _neighbour(target: int, below: bool, chromatic_ok: bool, ctx: PartContext) -> int:
    scale = set(ctx.key.scale)
    chromatic = target - 1 if below else target + 1
    if chromatic_ok or (not ctx.diatonic and chromatic % 12 in scale):
        return chromatic
    steps = range(target - 1, target - 3, -1) if below else range(target + 1, target + 3)
    return next((q for q in steps if q % 12 in scale), chromatic)


def _walk(chord: Chord, prev: int, target: int | None, strong: bool, ctx: PartContext) -> int:
    """A walking note: a chord tone on a strong beat, else a chord or scale tone, heading for
    ``target`` and never repeating ``prev``."""
    pcs = set(chord.pitch_classes) if strong else set(chord.pitch_classes) | set(ctx.key.scale)
    if target is not None and target != prev:
        goal = prev + int(np.sign(target - prev)) * 3
    else:
        goal = prev + (3 if prev < HOME else -3)
    lo, hi = BASS_RANGE
    options = [
        q for q in range(max(lo, prev - 7), min(hi, prev + 7) + 1) if q % 12 in pcs and q != prev
    ]
    return min(options, key=lambda q: (abs(q - goal), q)) if options else prev


def bass_part(
    ctx: PartContext, rng: np.random.Generator, prev: int | None
) -> tuple[list[Row], int | None]:
    """The bass of one section and its last pitch."""
    part = ctx.style.bass
    assert part is not None
    pattern = pick(level_grid(part, ctx.energy.level, ctx.slow), rng)
    tl, bt, beat = ctx.timeline, ctx.meter.bar_ticks, ctx.meter.beat_ticks
    end_all = ctx.length if ctx.end_at is None else ctx.end_at
    events: list[tuple[int, int, str]] = []
    for bar in range(ctx.section.bars):
        for h in hits(pattern, bar, ctx.meter, ctx.written):
            t0, t1 = bar * bt + h.onset, min(bar * bt + h.end, end_all)
            if t0 < end_all:
                events.append((t0, t1, h.char))
    # every chord onset gets the chord's bass; holds across a change are cut there
    starts = [s for s in tl.starts if s < end_all]
    cut = []
    for t0, t1, ch in events:
        inner = [s for s in starts if t0 < s < t1]
        cut.append((t0, inner[0] if inner else t1, ch))
    have = {t for t, _, _ in cut}
    for s in starts:
        if s not in have:
            nxt = min((t for t, _, _ in cut if t > s), default=end_all)
            end = min([nxt, end_all] + [x for x in tl.ends if x > s])
            cut.append((s, end, "R"))
    cut = sorted((t0, t1, "R" if t0 in tl.starts and ch in "W" else ch) for t0, t1, ch in cut)
    cur = prev if prev is not None else 43
    rows: list[Row] = []
    for i, (t0, t1, ch) in enumerate(cut):
        k = tl.index_at(t0)
        chord = tl.chords[k]
        span_end = tl.ends[k]
        nxt_pc = tl.chords[k + 1].bass if k + 1 < len(tl.chords) else ctx.next_bass
        last_in_span = i + 1 == len(cut) or cut[i + 1][0] >= span_end
        target = None if nxt_pc is None else near(nxt_pc, cur)
        anchor = (cur + HOME) // 2  # roots lean back to the bass's home register
        if ch == "R":
            p = near(chord.bass, anchor)
        elif ch == "N":
            p = near(nxt_pc if nxt_pc is not None else chord.bass, anchor)
        elif ch == "A" or (
            ch == "W" and last_in_span and target is not None and span_end - t0 <= beat
        ):
            p = _approach(target, ctx, rng, cur) if target is not None else near(chord.root, cur)
        elif ch == "W":
            p = _walk(chord, cur, target, (t0 % bt) in ctx.meter.strong_offsets, ctx)
        else:
            root = near(chord.root, anchor)
            p = root + _interval(chord, ch)
            if p > BASS_RANGE[1] + 5:
                p -= 12
        vel = velocity(TRACK_BASS, ctx.energy.energy, "x", t0 % bt, ctx.meter)
        rows.append((t0, t1 - t0, p, vel, TRACK_BASS))
        cur = p
    if ctx.pedal is not None:
        rows, cur = _pedal(rows, ctx.pedal, cur)
    if ctx.end_at is not None:  # the final root, low and held
        chord = tl.at(ctx.end_at)
        p = near(chord.root, cur, BASS_RANGE[0], FINAL_HIGHEST)
        vel = velocity(TRACK_BASS, ctx.energy.energy, "X", 0, ctx.meter)
        rows.append((ctx.end_at, ctx.length - ctx.end_at, p, vel, TRACK_BASS))
        cur = p
    return crescendo(rows, ctx), cur


def _pedal(rows: list[Row], span: tuple[int, int, int], cur: int) -> tuple[list[Row], int]:
    """``rows`` with every note starting in the pedal's span on the pedal note (low, near
    PEDAL_HOME): the figure's rhythm stays, the pitch holds."""
    a, b, pc = span
    p = near(pc, PEDAL_HOME)
    out = [(o, d, p if a <= o < b else q, v, t) for o, d, q, v, t in rows]
    return out, p if any(a <= r[0] < b for r in rows) else cur
