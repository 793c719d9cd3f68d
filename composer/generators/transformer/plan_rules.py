"""A section's melody plan as the transformer's decoding constraints (masks, not rewards).

:func:`plan_rules` turns :class:`planners.plan.MelodyPlan` into what
:mod:`composer.generators.transformer.processors` applies while sampling:

- **phrase ends**: the last bar of every planned phrase ends on a long note or a rest: at least
  one felt beat long or half a beat of rest (``breath`` and ``half`` ends), two beats long or a
  beat of rest at a ``full`` end (the section's close, the strongest);
- **rhythm vocabulary**: durations outside the style's are removed; the shares of 16th notes and
  dotted eighths are capped as running budgets over the section (the cap times the notes the
  planned density expects);
- **opening**: a section's first note starts within its first quarter bar (a beat in 4/4, an
  eighth in 6/8), not after a bar of rests (the corpus writes a tune's anacrusis as a nearly
  empty first bar, which the model learned to copy at every section's start);
- **register**: pitches outside the plan's tessitura (``low..high``) are removed, inside the
  song's melody range, which stays the hard bound.

Every mask gives way where it would leave no token (the processors' rule), so a plan can narrow
the choice but never make a section impossible: every sequence stays valid and exactly long.
"""

from __future__ import annotations

from composer.generators.transformer.jit import MARK_END, MARK_FINAL, MARK_NONE
from composer.generators.transformer.processors import RhythmRules
from composer.generators.transformer.tokens import TICKS_PER_POS
from planners.plan import MelodyPlan

MARKS = {"in": MARK_NONE, "end": MARK_END, "final": MARK_FINAL}


def phrase_need(per_bar: int, beat: int) -> tuple[tuple[int, int], ...]:
    """(long note, rest) in 16ths a phrase end needs, per mark: none, ``end``, ``final``."""
    return ((0, 0), (beat, max(1, beat // 2)), (min(2 * beat, per_bar), beat))


def plan_rules(
    plan: MelodyPlan | None,
    marks: tuple[str, ...],
    per_bar: int,
    beat: int,
    song_range: tuple[int, int],
    shift: int,
) -> tuple[tuple[int, int] | None, RhythmRules | None]:
    """(tessitura, rhythm rules) of a section: key-relative pitches (``shift`` semitones below
    sounding) inside ``song_range`` (key-relative too), and the rules in 16ths; (None, None)
    without a plan. ``marks``: the bar's phrase marks (``in``/``end``/``final``), ``beat``: 16ths
    per felt beat."""
    if plan is None:
        return None, None
    lo = max(song_range[0], plan.low - shift)
    hi = min(song_range[1], plan.high - shift)
    tessitura = (lo, hi) if lo <= hi else None
    bars = len(marks)
    expected = plan.density * bars * max(1, per_bar // beat)  # the notes the density plans
    voc = plan.rhythm
    durations = frozenset(t // TICKS_PER_POS for t in voc.durations if t % TICKS_PER_POS == 0)
    rules = RhythmRules(
        marks=tuple(MARKS[m] for m in marks) if plan.phrases else (MARK_NONE,) * bars,
        need=phrase_need(per_bar, beat),
        durations=durations or None,
        sixteenths=int(voc.max_sixteenths * expected) if voc.max_sixteenths < 1 else None,
        dotted=int(voc.max_dotted * expected) if voc.max_dotted < 1 else None,
        opening=per_bar // 4,
    )
    return tessitura, rules
