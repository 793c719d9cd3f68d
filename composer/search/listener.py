"""Features of what a listener hears in one candidate melody, for the listener rewards.

The kernels' features (:data:`kernels.features.FEATURES`) describe a melody's statistics; these
describe its phrasing, register, idiom and hook against the section's melody plan
(``SectionPlan.melody``, :class:`planners.plan.MelodyPlan`) or, when the section has none,
against 4-bar phrases, the song's verse and the style. The search adds them to a candidate's
feature mapping (:func:`composer.search.batch.score_batch`) so the rewards
(:mod:`composer.search.rewards`) stay pure functions of one mapping. A feature that cannot be
computed (no plan, no hook, no verse chosen yet) is left out, and its reward does not apply.

Features (each in [0, 1] but the mean pitch):

- ``lis_breathing``: phrase ends whose last bar holds a long note or a rest
  (:func:`composer.eval.melody_metrics.phrase_ends_breathe`) where they should. Planned: the
  weighted share of phrases that breathe as their ``long_end`` says (True: breathe; False: run
  on), weights ``full`` 1, ``half`` 0.8, ``breath`` 0.5. Unplanned 4-bar phrases: the
  section's last end weighs 0.6; the others 0.4, scoring 1 when 1/3..0.85 of them breathe (a
  metronome breathes at all of them).
- ``lis_end_strength``: per phrase end, its arrival (the longest note starting in its last
  bar): 0.4 held (duration / a long note, at most 1) + 0.3 on the downbeat or a strong beat +
  0.3 stable (the section's end in an authentic or plagal close: the tonic 1, a chord tone 0.5;
  elsewhere a chord tone). The section's end weighs half, the other ends share the rest.
- ``lis_mean_pitch``: the mean melody pitch (MIDI).
- ``lis_centre_fit`` (plan): exp(-((mean - centre) / 3)^2 / 2).
- ``lis_above_verse`` (no plan; a chorus once a verse is chosen): (mean - the verses' mean) / 3,
  clipped to 0..1.
- ``lis_climax_fit``: plan with ``climax_bar``: exp(-(bars from the first highest note to it /
  2)^2 / 2); no plan, the song's last chorus: 1 if its peak reaches the song's peak so far, else
  exp(-semitones short / 2).
- ``lis_sixteenth``, ``lis_dotted``: shares of 16th-or-shorter and of dotted-eighth notes.
- ``lis_vocab`` (plan): share of notes whose duration is one of the idiom's (+-30 ticks).
- ``lis_blue``: the blue-note rate against the section's tonic.
- ``lis_hook`` (plan with a hook used here): mean over the hook bars of :func:`hook_fit`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from composer.eval.melody_metrics import (
    ONSET_GRID,
    PHRASE_BARS,
    blue_note_rate,
    dotted_eighth_share,
    phrase_ends_breathe,
    sixteenth_share,
)
from grammar.meter import TimeSignature
from kernels.notes import TRACK_MELODY
from planners.plan import Hook, SectionPlan

END_WEIGHT = {"full": 1.0, "half": 0.8, "breath": 0.5}
DURATION_TOLERANCE = 30  # ticks: a duration is the idiom's if within this of one of them


def _melody(notes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mel = notes[notes["track"] == TRACK_MELODY]
    k = np.lexsort((mel["pitch"], mel["onset"]))
    mel = mel[k]
    return (
        mel["onset"].astype(np.int64),
        mel["duration"].astype(np.int64),
        mel["pitch"].astype(np.int64),
    )


def phrases(section: SectionPlan) -> list[tuple[int, int, str | None, bool | None]]:
    """(first bar 0-based, bars, planned end, planned long end) of the section's phrases: the
    plan's, or 4-bar phrases (the last may be shorter) with None for what is unplanned."""
    if section.melody is not None and section.melody.phrases:
        return [(p.start_bar - 1, p.bars, p.end, p.long_end) for p in section.melody.phrases]
    return [
        (p, min(PHRASE_BARS, section.bars - p), None, None)
        for p in range(0, section.bars, PHRASE_BARS)
    ]


def breathing(
    on: np.ndarray, du: np.ndarray, section: SectionPlan, bar: int, long_ticks: int
) -> float | None:
    """``lis_breathing`` (see the module table); None without a phrase."""
    ph = phrases(section)
    if not ph:
        return None
    ends = [((f + n - 1) * bar, (f + n) * bar) for f, n, _, _ in ph]
    flags = phrase_ends_breathe(on, du, ends, long_ticks)
    if ph[0][2] is not None:
        w = np.array([END_WEIGHT.get(str(e), 0.5) for _, _, e, _ in ph])
        hit = np.array([f == bool(want) for f, (*_, want) in zip(flags, ph, strict=True)])
        return float((w * hit).sum() / w.sum())
    if len(flags) == 1:
        return float(flags[0])
    inner = float(np.mean(flags[:-1]))
    inner_score = (
        1.0
        if 1 / 3 <= inner <= 0.85
        else math.exp(-min(abs(inner - 1 / 3), abs(inner - 0.85)) / 0.25)
    )
    return 0.6 * float(flags[-1]) + 0.4 * inner_score


def end_strength(
    on: np.ndarray,
    du: np.ndarray,
    pi: np.ndarray,
    section: SectionPlan,
    meter: TimeSignature,
    long_ticks: int,
) -> float | None:
    """``lis_end_strength`` (see the module table); None without a note."""
    if not on.size:
        return None
    bar = meter.bar_ticks
    strong = {0, *meter.strong_offsets}
    chords = section.chords
    tonic = section.key_obj().tonic
    scores = []
    ph = phrases(section)
    for i, (first, n, _, _) in enumerate(ph):
        lo, hi = (first + n - 1) * bar, (first + n) * bar
        inside = np.flatnonzero((on >= lo) & (on < hi))
        if not inside.size:
            scores.append(0.7)  # a bar of rest: held and breathing, but no arrival to hear
            continue
        j = int(inside[np.argmax(du[inside])])
        held = min(1.0, du[j] / long_ticks)
        beat = 1.0 if (on[j] - lo) in strong else 0.0
        mask = 0
        for c in chords:
            if c.start_tick <= on[j] < c.start_tick + c.duration_ticks:
                mask = c.chord().mask
        tone = float((mask >> int(pi[j] % 12)) & 1)
        last = i == len(ph) - 1
        if last and section.cadence in ("authentic", "plagal"):
            stable = 1.0 if pi[j] % 12 == tonic else 0.5 * tone
        else:
            stable = tone
        scores.append(0.4 * held + 0.3 * beat + 0.3 * stable)
    if len(scores) == 1:
        return scores[0]
    return 0.5 * scores[-1] + 0.5 * float(np.mean(scores[:-1]))


def _onset_set(onsets: Sequence[int]) -> set[int]:
    return {round(o / ONSET_GRID) for o in onsets}


def _signs(values: Sequence[int]) -> list[int]:
    return [int(np.sign(b - a)) for a, b in pairwise(values)]


def hook_fit(on: np.ndarray, pi: np.ndarray, hook: Hook, use: str, start: int) -> float:
    """How the notes from tick ``start`` carry ``hook`` as ``use`` asks. rhythm = Jaccard of
    the onset sets (1/12 quarter) over the hook's span; contour = share of the hook's steps
    whose direction (up, down, same) the notes' first steps follow. state, repeat, sequence:
    (rhythm + contour) / 2 (a sequence is the same shape elsewhere: pitch is not compared);
    vary_rhythm: 0.7 contour + 0.3 (1 - rhythm) (the shape kept, the rhythm changed);
    fragment: as repeat, on the hook's first half. [0, 1]"""
    onsets, contour = list(hook.onsets), list(hook.contour)
    span = max(o + d for o, d in zip(hook.onsets, hook.durations, strict=True))
    if use == "fragment" and len(onsets) > 2:
        half = max(2, len(onsets) // 2)
        onsets, contour = onsets[:half], contour[:half]
        span = onsets[-1] + hook.durations[half - 1]
    k = (on >= start) & (on < start + span)
    got_on = (on[k] - start).tolist()
    got_pi = pi[k].tolist()
    a, b = _onset_set(onsets), _onset_set(got_on)
    rhythm = len(a & b) / len(a | b) if a | b else 1.0
    want, have = _signs(contour), _signs(got_pi)
    shape = sum(1 for x, y in zip(want, have, strict=False) if x == y) / len(want) if want else 1.0
    if use == "vary_rhythm":
        return 0.7 * shape + 0.3 * (1.0 - rhythm)
    return 0.5 * rhythm + 0.5 * shape


def listener_features(
    notes: np.ndarray,
    section: SectionPlan,
    meter: TimeSignature,
    hook: Hook | None = None,
    verse_pitch: float | None = None,
    song_peak: int | None = None,
    last_chorus: bool = False,
) -> dict[str, float]:
    """The ``lis_*`` features of one candidate (its NoteArray, ticks from the section start;
    the melody track is read). ``verse_pitch``: the mean melody pitch of the verses chosen so
    far; ``song_peak``: the highest melody note chosen so far; ``last_chorus``: this is the
    song's last chorus (where an unplanned song should peak)."""
    on, du, pi = _melody(notes)
    bar = meter.bar_ticks
    long_ticks = meter.beat_ticks if meter.is_compound else 960
    out: dict[str, float] = {}
    if not on.size:
        return out
    plan = section.melody
    tonic = section.key_obj().tonic
    b = breathing(on, du, section, bar, long_ticks)
    if b is not None:
        out["lis_breathing"] = b
    e = end_strength(on, du, pi, section, meter, long_ticks)
    if e is not None:
        out["lis_end_strength"] = e
    mean = float(pi.mean())
    out["lis_mean_pitch"] = mean
    out["lis_sixteenth"] = float(sixteenth_share(du) or 0.0)
    out["lis_dotted"] = float(dotted_eighth_share(du) or 0.0)
    out["lis_blue"] = float(blue_note_rate(pi, np.full(len(pi), tonic)) or 0.0)
    peak_bar = int(on[int(np.argmax(pi))] // bar) + 1
    if plan is not None:
        out["lis_centre_fit"] = math.exp(-0.5 * ((mean - plan.centre) / 3.0) ** 2)
        if plan.climax_bar is not None:
            out["lis_climax_fit"] = math.exp(-0.5 * ((peak_bar - plan.climax_bar) / 2.0) ** 2)
        durs = np.array(plan.rhythm.durations, dtype=np.int64)
        if durs.size:
            near = np.abs(du[:, None] - durs[None, :]).min(axis=1) <= DURATION_TOLERANCE
            out["lis_vocab"] = float(near.mean())
        if hook is not None and plan.hook != "none" and plan.hook_bars:
            fits = [hook_fit(on, pi, hook, plan.hook, (hb - 1) * bar) for hb in plan.hook_bars]
            out["lis_hook"] = float(np.mean(fits))
    else:
        if section.role in ("chorus", "refrain") and verse_pitch is not None:
            out["lis_above_verse"] = min(1.0, max(0.0, (mean - verse_pitch) / 3.0))
        if last_chorus and song_peak is not None:
            short = max(0, song_peak - int(pi.max()))
            out["lis_climax_fit"] = math.exp(-short / 2.0)
    return out
