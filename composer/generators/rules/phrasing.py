"""What the rules melody writer reads from the section's melody plan (``SectionPlan.melody``).

- phrases: the plan's phrase lengths; a phrase's last bar ends on a long note or a rest where
  the plan says so (``long_end``), else it runs on into the next phrase (no long note, no rest),
  so a song breathes at about the corpora's rate (49-66% of 4-bar phrases), not at every one;
- register: the plan's tessitura window (a little slack either side) and its centre, the arch
  higher in the phrase that holds the climax;
- rhythm: the idiom's note values, density and syncopation (:func:`rhythm.pick_planned`);
- the hook: its rhythm and contour at the planned bars, as this section uses it;
- blue notes: the pitch classes the idiom names, off the strong beats.

Without a plan (a spec compiled only up to ``harmony``) everything falls back to the writer's
own defaults: 4-bar phrases that all end long, the song's whole range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer.generators.rules.rhythm import (
    EIGHTH,
    Pattern,
    in_idiom,
    patterns,
    pick,
    pick_planned,
    run_on,
)
from grammar.meter import TimeSignature
from planners.melody_plan import section_hook
from planners.plan import Hook, MelodyPlan, PhraseEnd, SectionPlan

SLACK = 2  # semitones the walk may stray outside the planned tessitura window
CLIMAX_LIFT = 2.0  # semitones added to the arch of the phrase holding the climax


@dataclass(frozen=True)
class Phrase:
    start: int  # 0-based bar
    bars: int
    end: PhraseEnd
    long_end: bool = True


def phrases(section: SectionPlan) -> list[Phrase]:
    """The section's phrases (0-based bars): the plan's, else 4-bar phrases ending half/full."""
    m = section.melody
    if m is not None:
        return [Phrase(p.start_bar - 1, p.bars, p.end, p.long_end) for p in m.phrases]
    n = min(4, section.bars)
    out = []
    for start in range(0, section.bars, n):
        bars = min(n, section.bars - start)
        out.append(Phrase(start, bars, "full" if start + bars >= section.bars else "half"))
    return out


def phrase_of(section: SectionPlan) -> list[Phrase]:
    """The phrase each bar (0-based) belongs to."""
    return [p for p in phrases(section) for _ in range(p.bars)]


def window(section: SectionPlan, low: int, high: int) -> tuple[int, int]:
    """The pitch range the walk may use: the planned tessitura with a little slack, inside the
    song's melody range."""
    m = section.melody
    if m is None:
        return low, high
    return max(low, m.low - SLACK), min(high, m.high + SLACK)


def rhythm_plan(
    section: SectionPlan, meter: TimeSignature, rng: np.random.Generator, slow: bool
) -> tuple[list[Pattern], set[int]]:
    """One pattern per bar ([motif, answer, motif, cadence] per 4-bar phrase, the phrase's
    length otherwise) and the bars whose phrase ends long (a cadential pattern)."""
    m = section.melody
    motifs, cads = patterns(meter)
    beat_eighths = max(1, meter.beat_ticks // EIGHTH)
    beats = max(1, meter.bar_ticks // meter.beat_ticks)

    def draw() -> Pattern:
        if m is None:
            return pick(motifs, rng, slow)
        opts = in_idiom(motifs, m.rhythm.durations)
        return pick_planned(opts, rng, m.density, beats, beat_eighths, m.rhythm.syncopation)

    a, b = draw(), draw()
    inner_cad, final_cad = cads[int(rng.integers(len(cads)))], cads[0]
    runs = run_on(meter)
    out: list[Pattern] = []
    long_ends: set[int] = set()
    for bar, ph in enumerate(phrase_of(section)):
        pos = bar - ph.start
        if bar == section.bars - 1:
            out.append(final_cad)
            long_ends.add(bar)
        elif pos == ph.bars - 1:
            if ph.long_end:
                out.append(inner_cad)
                long_ends.add(bar)
            else:
                out.append(runs[int(rng.integers(len(runs)))])
        elif pos == 2 and rng.random() < 0.3:
            out.append(draw())
        else:
            out.append(a if pos % 2 == 0 else b)
    return out, long_ends


def hook_at(section: SectionPlan, hook: Hook | None, rng: np.random.Generator) -> dict[int, Hook]:
    """The hook as this section uses it, by the 0-based bar where it starts."""
    m = section.melody
    if m is None or hook is None or m.hook == "none":
        return {}
    shaped = section_hook(hook, m.hook, rng)
    return {b - 1: shaped for b in m.hook_bars if b <= section.bars}


def blue_pcs(plan: MelodyPlan | None, tonic: int) -> frozenset[int]:
    """Pitch classes the plan allows as blue notes."""
    if plan is None:
        return frozenset()
    return frozenset((tonic + b) % 12 for b in plan.rhythm.blue_notes)


def arch(plan: MelodyPlan | None, phrase: Phrase, rng: np.random.Generator) -> tuple[float, float]:
    """(base, height) of a phrase's arch contour: around the planned centre, higher in the
    phrase that holds the section's climax."""
    assert plan is not None
    height = float(rng.integers(3, 8))
    if plan.climax_bar is not None and phrase.start < plan.climax_bar <= phrase.start + phrase.bars:
        height += CLIMAX_LIFT
    return plan.centre - height / 2 - 1, height
