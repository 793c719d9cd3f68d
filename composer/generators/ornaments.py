"""Ornaments a player adds to a written melody, from the style's idiom (``MelodyPlan.rhythm``).

The melody plan names each style's ornaments (``idiom: ornaments:``) and whether it uses
approach tones; this pass makes them heard on a section's chosen melody, whichever generator
wrote it. Every ornament takes its time from the notes it decorates (the total length, the
section's bars and the notes' onsets on the beats stay as written), and only notes inside a
phrase are decorated: a phrase's last bar keeps its long note or rest.

=========  ===================================================================================
kind       what is played (``G``: the ornament's short value)
=========  ===================================================================================
approach   a note on a strong beat that is a tone of its chord is approached from a semitone
           below (a whole tone where the semitone is not in the key, the chord or the blues):
           the last eighth of the note before it (jazz, swing, bossa: ``approach_tones``)
slide      the same from a semitone below, a 16th long (blues, country, rock): in a blues the
           b3 sliding into the third
grace      a 32nd-note grace from the scale step above, before a note on a felt beat
cut        the fiddler's cut: a 32nd from the step above, before a note on a felt beat,
           first where a note repeats (jig, reel)
roll       a note of a dotted quarter or more on a felt beat played main, upper, main, lower,
           main (the upper and lower a 32nd each; jig, reel)
mordent    main, the step below, main, at the start of a note of a quarter or more (classical)
turn       a long note (a dotted half or more) closing with upper, main, lower, main 16ths
=========  ===================================================================================

At a slow tempo (<= 88 bpm) the short notes the ornaments add stay within half the idiom's 16th
share (a ballad or a hymn keeps its long values); a dance's cuts and rolls are not capped (they
are graces, not the tune's rhythm).

Styles name ``trill`` and ``fall`` too; no ornament is written for those (a trill's speed and a
fall's pitch bend are the player's, not a note list's).

:func:`ornament_melody` is a pure function of its inputs and ``rng``: seeded and deterministic.
The pipeline's ``ornament`` pass (:func:`composer.pipeline.ornament_pass`) keeps an ornamented
section only where the checker finds no violation that the plain one did not have.
"""

from __future__ import annotations

import bisect
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from composer.segment import Segment
from grammar.meter import TimeSignature
from kernels.notes import TRACK_MELODY, make_notes, sort_notes
from planners.plan import SectionPlan, SongPlan

if TYPE_CHECKING:
    from composer.search.batch import Choice

Note = tuple[int, int, int, int]  # onset, duration, pitch, velocity (section ticks)

EIGHTH, SIXTEENTH, GRACE = 240, 120, 60
# Besides the search's hard rules, an ornament may add none of these: a clash on a strong beat, a
# leap left unresolved, the melody at its range's edge, the comp above the melody. (Direct fifths
# and octaves with the bass through a 32nd-note grace are not heard as such: not guarded.)
GUARDED = frozenset({"strong_nonchord", "unresolved_leaps", "tessitura", "accomp_crossing"})
RATE = 0.5  # chance that an eligible note is decorated (at most one ornament a bar)
SHORT = 150  # a note this long or shorter is a 16th (composer.eval.melody_metrics)
DOTTED = (330, 390)  # a dotted eighth's ticks (composer.eval.melody_metrics)
SLOW = 88  # at or below this tempo (bpm) a lyrical line keeps its long values (see below)
SOFTER = 12  # ornament notes this much softer than the note they decorate
KINDS = ("approach", "slide", "grace", "cut", "roll", "mordent", "turn")


@dataclass(frozen=True)
class Harmony:
    """What the ornaments may sound: ``allowed(tick)`` is the 12-bit mask of the pitch classes
    the checker accepts at ``tick`` (the key's scale, the planned blue notes, the chord sounding
    there); ``chord(tick)`` the chord's mask; ``scale`` the key's scale mask (steps)."""

    allowed: Callable[[int], int]
    chord: Callable[[int], int]
    scale: int


def kinds_of(ornaments: Sequence[str], approach_tones: bool) -> tuple[str, ...]:
    """The ornaments this pass writes for an idiom, in :data:`KINDS` order."""
    want = set(ornaments) | ({"approach"} if approach_tones else set())
    return tuple(k for k in KINDS if k in want)


def _in(mask: int, pitch: int) -> bool:
    return bool(mask >> (pitch % 12) & 1)


def _step(pitch: int, direction: int, scale: int) -> int:
    """The nearest pitch of the scale mask above (``direction`` 1) or below (-1) ``pitch``."""
    p = pitch + direction
    for _ in range(12):
        if _in(scale, p):
            return p
        p += direction
    return pitch + direction


def _approach_pitch(target: int, at: int, h: Harmony, chromatic: bool) -> int | None:
    for d in (1, 2) if chromatic else (2, 1):
        p = target - d
        if _in(h.allowed(at), p):
            return p
    return None


def ornament_melody(
    notes: Sequence[Note],
    kinds: Sequence[str],
    meter: TimeSignature,
    harmony: Harmony,
    protected_bars: frozenset[int],
    pitch_range: tuple[int, int],
    rng: np.random.Generator,
    rate: float = RATE,
    only: frozenset[int] | None = None,
    max_short: int | None = None,
) -> tuple[list[Note], tuple[int, ...]]:
    """``notes`` (one voice, sorted by onset) with ornaments of ``kinds`` added, and the indices
    of the notes decorated; no ornament in a bar of ``protected_bars`` (0-based: phrase ends),
    none outside ``pitch_range``, at most one a bar, and at most ``max_short`` added notes of a
    16th or less (None: no cap). One draw from ``rng`` seeds each note's decision by the note's
    onset, duration and pitch, so ``only`` (decorate only these note indices) keeps every other
    decision as it was."""
    out = [(int(a), int(b), int(c), int(d)) for a, b, c, d in notes]
    base = int(rng.integers(0, 1 << 31))
    # each note's draws from the note itself (onset, duration, pitch): the same note at the same
    # place is decorated alike whatever the other bars hold (a repeat with a second ending)
    keyed = [np.random.default_rng([base, on, du, p]) for on, du, p, _ in out]
    draws = [g.random() for g in keyed]
    picks = [int(g.integers(0, 1 << 30)) for g in keyed]
    if not kinds or not out:
        return out, ()
    bar, beat = meter.bar_ticks, meter.beat_ticks
    lo, hi = pitch_range
    result: list[Note] = []
    done_bars: set[int] = set()
    done: list[int] = []
    for i, (on, du, p, v) in enumerate(out):
        b = on // bar
        prev = result[-1] if result else None
        legato = prev is not None and prev[0] + prev[1] == on
        options: list[str] = []
        wanted = draws[i] < rate and (only is None or i in only)
        if wanted and b not in protected_bars and b not in done_bars:
            spot = _Spot(on, du, p, prev if legato else None, on % beat == 0,
                         on % bar in meter.strong_offsets, bar, protected_bars)  # fmt: skip
            options = [k for k in kinds if _eligible(k, spot, harmony)]
        if not options:
            result.append((on, du, p, v))
            continue
        kind = options[int(picks[i]) % len(options)]
        if kind == "cut" and prev is not None and prev[2] != p and "roll" in options:
            kind = "roll"  # a cut separates repeated notes; elsewhere a roll is likelier
        new = _decorate(kind, (on, du, p, v), prev, harmony)
        if new is None or any(not lo <= n[2] <= hi for n in new[1]):
            result.append((on, du, p, v))
            continue
        shortened, notes_here = new
        short = sum(1 for n in notes_here if n[1] <= SHORT)
        if max_short is not None and short > max_short:
            result.append((on, du, p, v))
            continue
        max_short = None if max_short is None else max_short - short
        if shortened is not None:
            result[-1] = shortened
        result.extend(notes_here)
        done_bars.add(b)
        done.append(i)
    return result, tuple(done)


@dataclass(frozen=True)
class _Spot:
    """A note as an ornament sees it: onset, duration, pitch, the note before it when it ends
    where this one starts (else None), whether it is on a felt or a strong beat."""

    on: int
    du: int
    p: int
    prev: Note | None
    on_beat: bool
    strong: bool
    bar: int
    protected: frozenset[int]


def _eligible(kind: str, s: _Spot, h: Harmony) -> bool:
    """Whether ``kind`` may decorate the note at ``s`` (before choosing its pitches)."""
    prev_free = s.prev is not None and s.prev[0] // s.bar not in s.protected
    if kind in ("approach", "slide"):
        g = EIGHTH if kind == "approach" else SIXTEENTH
        return (
            s.strong and prev_free and _in(h.chord(s.on), s.p) and s.prev is not None
            and s.prev[1] >= 2 * g
        )  # fmt: skip
    if kind in ("grace", "cut"):
        return s.on_beat and prev_free and s.prev is not None and s.prev[1] >= EIGHTH
    if kind == "roll":
        return s.on_beat and s.du >= 3 * EIGHTH
    if kind == "mordent":
        return s.on_beat and s.du >= 2 * EIGHTH
    if kind == "turn":
        return s.du >= 6 * EIGHTH and (s.on + s.du - 1) // s.bar == s.on // s.bar
    return False


def _decorate(
    kind: str, note: Note, prev: Note | None, h: Harmony
) -> tuple[Note | None, list[Note]] | None:
    """(the previous note shortened or None, the notes replacing ``note``), or None where the
    ornament has no pitch the checker accepts."""
    on, du, p, v = note
    soft = max(1, v - SOFTER)
    if kind in ("approach", "slide", "grace", "cut"):
        assert prev is not None
        g = {"approach": EIGHTH, "slide": SIXTEENTH}.get(kind, GRACE)
        at = on - g
        if kind in ("approach", "slide"):
            q = _approach_pitch(p, at, h, chromatic=True)
        else:
            q = _step(p, 1, h.scale)
            q = q if _in(h.allowed(at), q) else None
        left = prev[1] - g
        if q is None or q == prev[2] or left <= SHORT or DOTTED[0] <= left <= DOTTED[1]:
            return None  # the note before keeps a value of the idiom: no 16th, no dotted 8th
        shortened = (prev[0], prev[1] - g, prev[2], prev[3])
        return shortened, [(at, g, q, soft), note]
    up, down = _step(p, 1, h.scale), _step(p, -1, h.scale)
    if kind == "roll":
        parts = [(0, EIGHTH, p), (EIGHTH, GRACE, up), (EIGHTH + GRACE, SIXTEENTH + GRACE, p)]
        t = 2 * EIGHTH
        parts += [(t, GRACE, down), (t + GRACE, du - t - GRACE, p)]
    elif kind == "mordent":
        parts = [(0, GRACE, p), (GRACE, GRACE, down), (2 * GRACE, du - 2 * GRACE, p)]
    else:  # turn: the note's end, upper, main, lower, main
        t = du - 4 * SIXTEENTH
        parts = [(0, t, p)] + [(t + k * SIXTEENTH, SIXTEENTH, q) for k, q in
                               enumerate((up, p, down, p))]  # fmt: skip
    out = []
    for off, d, q in parts:
        if q != p and not _in(h.allowed(on + off), q):
            return None
        out.append((on + off, d, q, v if off == 0 else soft))
    return None, out


def section_harmony(section: SectionPlan) -> Harmony:
    """The pitch classes a section's ornaments may sound, as the checker reads them."""
    from planners.melody_plan import blue_mask

    key = section.key_obj()
    ev = section.chords
    starts = [e.start_tick for e in ev]
    masks = [e.chord().mask for e in ev]
    base = key.scale_mask | blue_mask(section)

    def chord(tick: int) -> int:
        i = max(0, bisect.bisect_right(starts, tick) - 1)
        return masks[i] if masks else 0

    return Harmony(allowed=lambda t: base | chord(t), chord=chord, scale=key.scale_mask)


def phrase_end_bars(section: SectionPlan) -> frozenset[int]:
    """0-based bars of the section where a planned phrase ends long (a phrase that runs on into
    the next is not protected), every fourth bar (the 4-bar grid a listener, and
    :func:`composer.eval.melody_metrics.phrase_breathing`, hears phrases on) and the section's
    last bar: their long notes and rests stay as written."""
    plan = section.melody
    ends = {section.bars - 1} | set(range(3, section.bars, 4))
    if plan is not None:
        ends |= {ph.start_bar + ph.bars - 2 for ph in plan.phrases if ph.long_end}
    return frozenset(ends)


def ornament_notes(
    notes: np.ndarray,
    section: SectionPlan,
    song: SongPlan,
    seed: np.random.SeedSequence,
    only: frozenset[int] | None = None,
) -> tuple[np.ndarray, tuple[int, ...]]:
    """A section's NoteArray with its melody ornamented from the plan's idiom (other tracks as
    they are), and the melody notes decorated (see :func:`ornament_melody`)."""
    plan = section.melody
    if plan is None:
        return notes, ()
    kinds = kinds_of(plan.rhythm.ornaments, plan.rhythm.approach_tones)
    mel = notes[notes["track"] == TRACK_MELODY]
    if not kinds or not mel.size:
        return notes, ()
    rows = [(int(r["onset"]), int(r["duration"]), int(r["pitch"]), int(r["velocity"])) for r in mel]
    max_short = None
    if song.tempo <= SLOW:  # slow: ornaments' short notes within half the idiom's 16th share
        have = sum(1 for r in rows if r[1] <= SHORT)
        max_short = max(0, int(plan.rhythm.max_sixteenths / 2 * len(rows)) - have)
    new, done = ornament_melody(
        rows,
        kinds,
        song.meter(),
        section_harmony(section),
        phrase_end_bars(section),
        (song.melody_low, song.melody_high),
        np.random.default_rng(seed),
        only=only,
        max_short=max_short,
    )
    if not done:
        return notes, ()
    out = make_notes([(o, d, p, v, TRACK_MELODY) for o, d, p, v in new])
    return sort_notes(np.concatenate([out, notes[notes["track"] != TRACK_MELODY]])), done


def ornament_choices(
    song: SongPlan, choices: Mapping[str, Choice], skip: frozenset[str] = frozenset()
) -> dict[str, Choice]:
    """Every chosen section (but those in ``skip``: the user's and locked ones) with its melody
    ornamented, seeded by the song's seed and the section's label (a repeat's bars that equal its
    source's are ornamented alike). Each ornament is kept only where
    the checker (:func:`composer.search.batch.check`) counts no more of a hard violation
    (:data:`composer.search.batch.HARD`) or of :data:`GUARDED` than the chosen notes had: every
    ornament alone, then those that passed together (or none)."""
    from composer.search.batch import HARD, check
    from kernels.checker import VIOLATIONS

    guarded = np.array([v in GUARDED or v in HARD for v in VIOLATIONS])
    out = dict(choices)
    for section in song.sections:
        choice = choices.get(section.id)
        if choice is None or section.id in skip:
            continue
        seg = choice.chosen.segment
        # by label: a repeat is ornamented as its source wherever its notes are the same
        tag = zlib.crc32(f"ornaments {section.label}".encode())
        seed = np.random.SeedSequence([song.seed, tag])
        _, done = ornament_notes(seg.notes, section, song, seed)
        if not done:
            continue

        singles = [_variant(seg, section, song, seed, frozenset({i})) for i in done]
        res = check([seg, *singles], section, song)
        clean = frozenset(
            i
            for k, i in enumerate(done)
            if not (res.violations[k + 1] > res.violations[0])[guarded].any()
        )
        if not clean:
            continue
        new = _variant(seg, section, song, seed, clean)
        res = check([seg, new], section, song)
        if (res.violations[1] > res.violations[0])[guarded].any():
            continue
        out[section.id] = replace(choice, chosen=replace(choice.chosen, segment=new))
    return out


def _variant(
    seg: Segment,
    section: SectionPlan,
    song: SongPlan,
    seed: np.random.SeedSequence,
    only: frozenset[int],
) -> Segment:
    notes, done = ornament_notes(seg.notes, section, song, seed, only)
    prov = {**seg.provenance, "ornaments": len(done)}
    return Segment(seg.section_id, notes, seg.generator, seg.seed, prov)
