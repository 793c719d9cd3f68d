"""The rule-based melody writer.

Shape comes from phrase structure, not from note-to-note chance:

- rhythm: four-bar phrases of motif, answer, motif again, cadence (a sentence); a consequent
  phrase repeats the antecedent's opening two bars, fitted to its chords (a parallel period);
- pitch: a weighted walk: chord tones on strong beats and long notes, scale tones between,
  steps preferred to leaps, a leap recovered by a step the other way, pulled towards an arch
  contour that peaks about two thirds into each phrase, and weighted by the key's tonal
  hierarchy (the Krumhansl-Kessler profile);
- cadences: the last note lands on the tonic for an authentic or plagal close, on a tone of V
  for a half cadence, on a tone of vi for a deceptive one; inner phrases end on a chord tone;
- variation: a varied section keeps its source's head (first two bars) and rhythm, re-writes
  weak-beat pitches, ornaments some long notes and composes a new ending, changing at least a
  quarter of the notes so the variation is heard.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from composer.generators.rules import phrasing
from composer.generators.rules.rhythm import EIGHTH, to_ticks
from composer.generators.rules.timeline import ChordTimeline, diatonic_shift
from grammar.chords import Chord
from grammar.keys import Key
from grammar.meter import TimeSignature
from planners.plan import Hook, SectionPlan
from planners.tonality import PROFILES

Note = tuple[int, int, int]  # onset, duration, pitch

# Weight of a melodic interval by its size in semitones (steps and small skips favoured).
INTERVAL_WEIGHT = {
    0: 0.4,
    1: 1.0,
    2: 1.0,
    3: 0.55,
    4: 0.5,
    5: 0.3,
    6: 0.03,
    7: 0.2,
    8: 0.08,
    9: 0.08,
    10: 0.03,
    11: 0.03,
    12: 0.06,
}
STRONG_CHORD_TONE, STRONG_OTHER, WEAK_CHORD_TONE = 5.0, 0.15, 1.5
COLOUR = 0.4  # a seventh or extension on a strong beat: a colour, not the chord's core
CHROMATIC = 0.5  # a chord tone outside the scale (secondary dominants) is allowed, but rarer
LEAP, RECOVERY = 5, 3.0  # a leap of >= 5 semitones wants a step back (x3), not more motion
CONTOUR_SCALE = 4.0  # semitones: how tightly the walk follows the arch
MIN_VARIATION = 0.25  # share of notes a variation must change
# Tonal prior: the Krumhansl-Kessler profiles (planners.tonality). Listeners' sense of key comes
# from these proportions, so melodies drawn towards them sound in key: the tonic triad more, the
# leading tone and the chromatic degrees less.
TONAL_PULL = 2.0  # exponent on the key profile: 1 imitates it, 2 sharpens the hierarchy
# A planned blue note (b3, b5, b7 in a blues) off the strong beats: weighted like a weak chord
# tone and spared the key profile's penalty (the profile is what makes it blue). At this weight
# about a tenth of a blues melody's notes are blue (tests/test_rules_plan.py measures it).
BLUE = 2.5


@dataclass(frozen=True)
class MelodyContext:
    section: SectionPlan
    meter: TimeSignature
    key: Key
    timeline: ChordTimeline
    low: int
    high: int
    slow: bool
    hook: Hook | None = None  # the song's hook (the plan's), placed where the section uses it
    blue: frozenset[int] = frozenset()  # pitch classes sung as blue notes off the beat

    @property
    def bar_ticks(self) -> int:
        return self.meter.bar_ticks

    def strong(self, onset: int, duration: int) -> bool:
        return (onset % self.bar_ticks) in self.meter.strong_offsets or (
            duration >= self.meter.beat_ticks
        )

    def blue_at(self, onset: int) -> frozenset[int]:
        """The planned blue notes that may sound at ``onset``: only over a dominant seventh
        (every chord of the blues changes), where a b3 or b7 against the chord is the idiom's
        bend; over a major seventh or a minor chord it would be a plain clash."""
        if not self.blue:
            return self.blue
        chord = self.timeline.at(onset)
        pcs = chord.pitch_classes
        dominant = (chord.root + 4) % 12 in pcs and (chord.root + 10) % 12 in pcs
        return self.blue if dominant else frozenset()

    def on_strong_beat(self, onset: int) -> bool:
        return (onset % self.bar_ticks) in self.meter.strong_offsets

    def allowed(self, pitch: int, onset: int) -> bool:
        pc = pitch % 12
        return pc in self.key.scale or pc in self.timeline.at(onset).pitch_classes


def _tonic_base(key: Key, low: int) -> int:
    """The tonic a few semitones above the bottom of the range: where phrases start."""
    return low + 2 + ((key.tonic - (low + 2)) % 12)


def choose_pitch(
    ctx: MelodyContext,
    onset: int,
    duration: int,
    prev: int,
    prev_iv: int,
    target: float,
    rng: np.random.Generator,
) -> int:
    chord_obj = ctx.timeline.at(onset)
    chord, core = chord_obj.pitch_classes, triad(chord_obj)
    strong = ctx.strong(onset, duration)
    blues = ctx.blue_at(onset)
    best: list[tuple[int, float]] = []
    for p in range(ctx.low, ctx.high + 1):
        pc = p % 12
        in_scale = pc in ctx.key.scale
        blue = pc in blues and pc not in chord and not ctx.on_strong_beat(onset)
        if not in_scale and pc not in chord and not blue:
            continue
        iv = p - prev
        w = INTERVAL_WEIGHT.get(abs(iv), 0.0)
        if w == 0.0:
            continue
        if abs(prev_iv) >= LEAP:
            w *= RECOVERY if (iv * prev_iv < 0 and abs(iv) <= 2) else 0.3
        if blue:
            best.append((p, w * BLUE * math.exp(-abs(p - target) / CONTOUR_SCALE)))
            continue
        if pc in chord:
            w *= STRONG_CHORD_TONE * (1.0 if pc in core else COLOUR) if strong else WEAK_CHORD_TONE
        elif strong:
            w *= STRONG_OTHER
        if not in_scale:
            w *= CHROMATIC
        w *= math.exp(-abs(p - target) / CONTOUR_SCALE)
        profile = PROFILES[ctx.key.mode]
        w *= float(profile[(pc - ctx.key.tonic) % 12] / profile[0]) ** TONAL_PULL
        best.append((p, w))
    if not best:  # nothing within reach: the chord tone nearest the previous pitch
        return nearest_chord_tone(ctx, onset, prev)
    pitches = np.array([p for p, _ in best])
    weights = np.array([w for _, w in best])
    return int(pitches[rng.choice(len(pitches), p=weights / weights.sum())])


def triad(chord: Chord) -> frozenset[int]:
    """The core of a chord: root, third and fifth (the first three tones)."""
    return frozenset((chord.root + i) % 12 for i in chord.intervals[:3])


def nearest_chord_tone(
    ctx: MelodyContext, onset: int, near: int, prefer: tuple[int, ...] = ()
) -> int:
    """The in-range triad tone closest to ``near``; pitch classes in ``prefer`` win ties by a
    whole tone (so a cadence reaches for the tonic when it is close)."""
    chord = triad(ctx.timeline.at(onset))
    opts = [p for p in range(ctx.low, ctx.high + 1) if p % 12 in chord]
    return min(opts, key=lambda p: abs(p - near) - (2.5 if p % 12 in prefer else 0))


def cadence_pitch(ctx: MelodyContext, onset: int, prev: int) -> int:
    key, chord = ctx.key, ctx.timeline.at(onset)
    prefer = {
        "authentic": (key.tonic,),
        "plagal": (key.tonic,),
        "deceptive": (key.tonic,),  # the third of vi
        "half": (chord.root, (chord.root + 4) % 12),  # root or leading tone of V
    }.get(ctx.section.cadence, (chord.root,))
    return nearest_chord_tone(ctx, onset, prev, prefer)


def write_melody(
    ctx: MelodyContext,
    rng: np.random.Generator,
    lead_in: int | None = None,
    fixed: dict[int, list[Note]] | None = None,
) -> list[Note]:
    """A new melody for the section; bars in ``fixed`` are taken as given (repeated material).
    With a melody plan: its phrases, phrase ends, tessitura, climax, rhythm idiom and hook."""
    fixed = fixed or {}
    section, plan = ctx.section, ctx.section.melody
    rhythms, long_ends = phrasing.rhythm_plan(section, ctx.meter, rng, ctx.slow)
    bars, bar_ticks = section.bars, ctx.bar_ticks
    of = phrasing.phrase_of(section)
    hooks = phrasing.hook_at(section, ctx.hook, rng)
    base = float(_tonic_base(ctx.key, ctx.low))
    height = float(rng.integers(4, 10))
    # in phrase order (a set of phrases would draw from rng in a hash order, new every process)
    arches = {ph.start: phrasing.arch(plan, ph, rng) for ph in dict.fromkeys(of)} if plan else {}
    prev = lead_in if lead_in is not None and ctx.low <= lead_in <= ctx.high else int(base)
    prev_iv = 0
    notes: list[Note] = []
    by_bar: dict[int, list[Note]] = {}
    for bar in range(bars):
        start = bar * bar_ticks
        ph = of[bar]
        if plan is not None:
            base, height = arches[ph.start]
        prev_ph = of[ph.start - 1] if ph.start else None
        if bar in by_bar:  # written with the hook that began in an earlier bar
            bar_notes = by_bar[bar]
        elif bar in fixed:
            bar_notes = list(fixed[bar])
        elif bar in hooks and bar + _span(hooks[bar], bar_ticks) <= bars:
            hooked = hook_notes(ctx, hooks[bar], start, prev, base + height / 2)
            for b in range(_span(hooks[bar], bar_ticks)):
                by_bar[bar + b] = [n for n in hooked if n[0] // bar_ticks == bar + b]
            bar_notes = by_bar[bar]
        elif (
            prev_ph is not None
            and ph.bars == prev_ph.bars
            and (ph.start // max(1, ph.bars)) % 2 == 1
            and bar - ph.start < 2
            and bar < bars - 1
            and by_bar.get(bar - prev_ph.bars)
        ):
            bar_notes = fit_bar(ctx, by_bar[bar - prev_ph.bars], prev_ph.bars * bar_ticks, 0)
        else:
            bar_notes = []
            slots = to_ticks(rhythms[bar], start)
            span = ph.bars * bar_ticks
            for j, (onset, dur) in enumerate(slots):
                x = (onset - ph.start * bar_ticks) / span
                target = base + height * math.sin(math.pi * min(1.0, x * 1.25))
                closing = j == len(slots) - 1 and bar in long_ends
                if bar == bars - 1 and j == len(slots) - 1:
                    p = cadence_pitch(ctx, onset, prev)
                elif closing:
                    p = nearest_chord_tone(ctx, onset, prev, (ctx.key.tonic,))
                else:
                    p = choose_pitch(ctx, onset, dur, prev, prev_iv, target, rng)
                bar_notes.append((onset, dur, p))
                prev_iv, prev = p - prev, p
        if bar_notes:
            prev_iv = bar_notes[-1][2] - (bar_notes[-2][2] if len(bar_notes) > 1 else prev)
            prev = bar_notes[-1][2]
        by_bar[bar] = bar_notes
        notes.extend(bar_notes)
    return notes


def _span(hook: Hook, bar_ticks: int) -> int:
    return max(1, -(-(hook.onsets[-1] + hook.durations[-1]) // bar_ticks))


def hook_notes(ctx: MelodyContext, hook: Hook, start: int, prev: int, target: float) -> list[Note]:
    """The hook's rhythm at ``start`` and its contour in scale steps from a first note on a
    chord tone near ``target`` (and near the note before); notes landing on a strong beat off
    the chord move to its nearest tone, and all fold into range."""
    first_onset = start + hook.onsets[0]
    first = nearest_chord_tone(ctx, first_onset, round((target + prev) / 2))
    out = []
    for onset, dur, step in zip(hook.onsets, hook.durations, hook.contour, strict=True):
        t = start + onset
        p = diatonic_shift(first, step, ctx.key)
        while p > ctx.high:
            p -= 12
        while p < ctx.low:
            p += 12
        chord = ctx.timeline.at(t).pitch_classes
        if ctx.strong(t, dur) and p % 12 not in chord:
            p = nearest_chord_tone(ctx, t, p)
        elif not ctx.on_strong_beat(t) and (p - 1) % 12 in ctx.blue_at(t) - chord:
            p -= 1  # the blues bends the major third (and the sixth, the fifth) down: b3, b7
        out.append((t, dur, p))
    return out


def fit_bar(ctx: MelodyContext, src: list[Note], dt: int, steps: int) -> list[Note]:
    """Source notes moved by ``dt`` ticks and ``steps`` scale degrees, then fitted to the chords
    they now sound over: strong-beat notes become the nearest chord tone, stray chromatic notes
    the nearest allowed tone, and everything folds into range by octaves."""
    out = []
    for onset, dur, pitch in src:
        t = onset + dt
        p = diatonic_shift(pitch, steps, ctx.key) if steps else pitch
        while p > ctx.high:
            p -= 12
        while p < ctx.low:
            p += 12
        if ctx.strong(t, dur) and p % 12 not in ctx.timeline.at(t).pitch_classes:
            p = nearest_chord_tone(ctx, t, p)
        elif not ctx.allowed(p, t):
            p = min(
                (q for q in range(ctx.low, ctx.high + 1) if ctx.allowed(q, t)),
                key=lambda q: abs(q - p),
            )
        out.append((t, dur, p))
    return out


def vary_melody(
    ctx: MelodyContext, source: list[Note], rng: np.random.Generator, lead_in: int | None = None
) -> list[Note]:
    """A variation of ``source`` (already in this section's key): head kept, middle re-pitched
    and ornamented, a new cadence; at least MIN_VARIATION of the notes change."""
    bars, bar_ticks = ctx.section.bars, ctx.bar_ticks
    src_bars: dict[int, list[Note]] = {}
    for n in source:
        src_bars.setdefault(n[0] // bar_ticks, []).append(n)
    fresh = write_melody(ctx, rng, lead_in)
    fresh_bars: dict[int, list[Note]] = {}
    for n in fresh:
        fresh_bars.setdefault(n[0] // bar_ticks, []).append(n)
    tail = max(1, min(2, bars - 2))
    rate = 0.5
    for _ in range(4):
        out: list[Note] = []
        for bar in range(bars):
            if bar >= bars - tail or bar not in src_bars:
                out.extend(fresh_bars.get(bar, []))
            elif bar < 2:
                out.extend(fit_bar(ctx, src_bars[bar], 0, 0))
            else:
                out.extend(_vary_bar(ctx, src_bars[bar], rng, rate))
        if changed_share(source, out) >= MIN_VARIATION:
            return out
        rate = min(1.0, rate + 0.25)
    return out


def _vary_bar(
    ctx: MelodyContext, notes: list[Note], rng: np.random.Generator, rate: float
) -> list[Note]:
    out: list[Note] = []
    prev = notes[0][2]
    for onset, dur, pitch in fit_bar(ctx, notes, 0, 0):
        half = dur // 2 // EIGHTH * EIGHTH  # split on the eighth grid: no dotted eighths
        if dur >= 2 * (ctx.meter.beat_ticks // 2) and half > 0 and rng.random() < rate / 2:
            # ornament: the note, then a neighbour or passing tone
            nxt = diatonic_shift(pitch, int(rng.choice([-1, 1])), ctx.key)
            nxt = nxt if ctx.allowed(nxt, onset + half) and ctx.low <= nxt <= ctx.high else pitch
            out += [(onset, half, pitch), (onset + half, dur - half, nxt)]
        elif not ctx.strong(onset, dur) and rng.random() < rate:
            out.append((onset, dur, choose_pitch(ctx, onset, dur, prev, 0, pitch, rng)))
        else:
            out.append((onset, dur, pitch))
        prev = out[-1][2]
    return out


def changed_share(a: list[Note], b: list[Note]) -> float:
    """Share of notes of ``b`` with no note of the same onset and pitch in ``a``."""
    if not b:
        return 0.0
    src = {(o, p) for o, _, p in a}
    return sum((o, p) not in src for o, _, p in b) / len(b)
