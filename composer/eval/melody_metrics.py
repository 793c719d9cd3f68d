"""What a listener hears in a melody: pure metrics over one melody line and its song's plan.

The held-out metrics of :mod:`composer.eval.metrics` compare a melody's statistics with the
corpus's; these measure what issue 15's listening review heard missing: phrases that breathe, a
rhythm that comes back without being a copy, the style's note values, blue notes in a blues, a
chorus above its verse, and returns of a section that develop. A melody is given as plain arrays
(onsets, durations, pitches in ticks at 480 a quarter, one voice); the song-level ones also read
the :class:`planners.plan.SongPlan` (sections, their roles, keys and relations).

==========================  =====================================================  ==============
metric                      definition                                             range, better
==========================  =====================================================  ==============
phrase_breathing            share of 4-bar phrases whose last bar holds a note of  0..1, target
                            at least a half note (in compound meters one felt      0.45..0.9
                            beat, a dotted quarter) or a rest of at least an       (corpus
                            eighth note                                            0.49..0.66)
motif_recurrence            share of bars (with >= 2 onsets, after the first)      0..1, higher
                            whose onset pattern equals that of one of the previous (corpus ~0.4,
                            7 bars whose notes are not the same (a rhythm that     target >= 0.25)
                            returns with other pitches, not a literal copy)
sixteenth_share             share of notes lasting a 16th or less (<= 150 ticks)   0..1, per style
dotted_eighth_share         share of notes lasting a dotted eighth (330..390)      0..1, per style
notes_per_quarter           notes per quarter note of the melody's length          >= 0, per style
blue_note_rate              share of notes a minor third, tritone or minor         0..1, higher in
                            seventh above the tonic of their section's key         a blues
chorus_minus_verse          mean pitch of chorus notes minus that of verse notes   semitones,
                            (None without both roles)                              > 0 better
literal_copies              share of bars (with notes) that repeat an earlier bar  0..1, lower
                            note for note, leaving out the bars of a section that
                            repeat or vary the same bar of its source (planned)
returns_differ              share of the third and later statements of a section   0..1, higher
                            label whose melody differs from its first statement in (target
                            at least a quarter of its bars (None without any)      >= 0.5)
==========================  =====================================================  ==============

A bar's notes are compared relative to the bar's start (onset offset, pitch, duration); a
section's statements relative to the section's start and its key's tonic (a transposed return
in a new key is the same melody, one lifted an octave is not).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from grammar.meter import TimeSignature
from kernels.notes import TICKS_PER_BEAT, TRACK_MELODY
from planners.plan import SongPlan

PHRASE_BARS = 4
MOTIF_LOOKBACK = 7  # bars before a bar in which its rhythm may recur
ONSET_GRID = 40  # ticks: onsets quantised to 1/12 of a quarter (16ths and triplets both exact)
HALF_NOTE = 2 * TICKS_PER_BEAT
EIGHTH = TICKS_PER_BEAT // 2
SIXTEENTH_MAX = 150  # a 16th is 120 ticks; an eighth-note triplet (160) is not a 16th
DOTTED_EIGHTH = (330, 390)  # 360 ticks, +-30
BLUE_DEGREES = (3, 6, 10)  # b3, b5 (#4), b7 above the tonic
RETURN_FROM = 2  # 0-based occurrence: the third statement (the second return) onwards
RETURN_BAR_SHARE = 0.25  # a return "differs" if at least this share of its bars do
CHORUS_ROLES = ("chorus", "refrain")
VERSE_ROLES = ("verse",)

Bar = tuple[tuple[int, int, int], ...]  # (onset offset, pitch, duration) of a bar's notes


def long_note_ticks(meter: TimeSignature) -> int:
    """What counts as a long note at a phrase end: a half note (960 ticks), or one felt beat
    in a compound meter (a dotted quarter, 720 ticks, in 6/8)."""
    return meter.beat_ticks if meter.is_compound else HALF_NOTE


def _order(
    onsets: np.ndarray, durations: np.ndarray, pitches: np.ndarray
) -> tuple[np.ndarray, ...]:
    on = np.asarray(onsets, dtype=np.int64)
    du = np.asarray(durations, dtype=np.int64)
    pi = np.asarray(pitches, dtype=np.int64)
    k = np.lexsort((pi, on))
    return on[k], du[k], pi[k]


def phrase_ends_breathe(
    onsets: np.ndarray,
    durations: np.ndarray,
    phrase_ends: Sequence[tuple[int, int]],
    long_ticks: int,
    rest_ticks: int = EIGHTH,
) -> list[bool]:
    """For each phrase's last bar ``(start tick, end tick)``: whether a note sounding in it
    lasts at least ``long_ticks`` or the bar holds a silence of at least ``rest_ticks`` (no note
    sounding, clipped to the bar). A bar with no note at all breathes."""
    on = np.asarray(onsets, dtype=np.int64)
    end = on + np.asarray(durations, dtype=np.int64)
    out = []
    for lo, hi in phrase_ends:
        inside = (on < hi) & (end > lo)
        if bool((np.asarray(durations)[inside] >= long_ticks).any()):
            out.append(True)
            continue
        spans = sorted(
            zip(
                np.maximum(on[inside], lo).tolist(),
                np.minimum(end[inside], hi).tolist(),
                strict=True,
            )
        )
        longest, cursor = 0, lo
        for a, b in spans:
            longest = max(longest, a - cursor)
            cursor = max(cursor, b)
        longest = max(longest, hi - cursor)
        out.append(longest >= rest_ticks)
    return out


def phrase_breathing(
    onsets: np.ndarray,
    durations: np.ndarray,
    bar_ticks: int,
    spans: Sequence[tuple[int, int]],
    long_ticks: int = HALF_NOTE,
) -> float | None:
    """Share of 4-bar phrases that end long or on a rest (:func:`phrase_ends_breathe`), the
    phrases counted from the start of each span ``(first bar, bars)`` (0-based bar index; a
    section, or a tune after its pickup); a span's last phrase may be shorter (it ends at the
    span's end) but one of a single bar is left out unless it is the whole span; ``long_ticks``
    from :func:`long_note_ticks`. None if there
    is no phrase. [0, 1]; the corpus's 0.49..0.66, the issue's target 0.45..0.9."""
    ends = []
    for first, bars in spans:
        for p in range(0, bars, PHRASE_BARS):
            length = min(PHRASE_BARS, bars - p)
            if length < 2 and bars > 1:
                continue
            last = first + p + length - 1
            ends.append((last * bar_ticks, (last + 1) * bar_ticks))
    if not ends:
        return None
    flags = phrase_ends_breathe(onsets, durations, ends, long_ticks)
    return float(np.mean(flags))


def bars_of(
    onsets: np.ndarray, durations: np.ndarray, pitches: np.ndarray, bar_ticks: int, bars: int
) -> list[Bar]:
    """The notes starting in each bar as ``(onset offset, pitch, duration)``, sorted."""
    on, du, pi = _order(onsets, durations, pitches)
    out: list[list[tuple[int, int, int]]] = [[] for _ in range(bars)]
    for o, d, p in zip(on.tolist(), du.tolist(), pi.tolist(), strict=True):
        b = o // bar_ticks
        if 0 <= b < bars:
            out[b].append((o - b * bar_ticks, p, d))
    return [tuple(b) for b in out]


def _pattern(bar: Bar) -> tuple[int, ...]:
    return tuple(sorted({round(o / ONSET_GRID) for o, _, _ in bar}))


def motif_recurrence(bars: Sequence[Bar]) -> float | None:
    """Share of bars (after the first, with at least two onsets) whose onset pattern (onsets
    quantised to 1/12 quarter) equals that of one of the previous :data:`MOTIF_LOOKBACK` bars
    whose notes are not the same (a rhythm that recurs with other pitches or durations). None
    if no bar qualifies. [0, 1], higher = a rhythmic motif comes back (corpus median ~0.4)."""
    pats = [_pattern(b) for b in bars]
    hits = []
    for i in range(1, len(bars)):
        if len(pats[i]) < 2:
            continue
        lo = max(0, i - MOTIF_LOOKBACK)
        hits.append(any(pats[j] == pats[i] and bars[j] != bars[i] for j in range(lo, i)))
    return float(np.mean(hits)) if hits else None


def sixteenth_share(durations: np.ndarray) -> float | None:
    """Share of notes lasting a 16th or less (<= :data:`SIXTEENTH_MAX` ticks). None for no
    notes. [0, 1]; a ballad or hymn should stay <= 0.08."""
    d = np.asarray(durations, dtype=np.int64)
    return float((d <= SIXTEENTH_MAX).mean()) if d.size else None


def dotted_eighth_share(durations: np.ndarray) -> float | None:
    """Share of notes lasting a dotted eighth (360 ticks +-30). None for no notes. [0, 1]; the
    corpora have 0..0.04, a ballad or hymn should stay <= 0.05."""
    d = np.asarray(durations, dtype=np.int64)
    lo, hi = DOTTED_EIGHTH
    return float(((d >= lo) & (d <= hi)).mean()) if d.size else None


def notes_per_quarter(n_notes: int, length_ticks: int) -> float | None:
    """Notes per quarter note of the melody's length (Bach's chorale sopranos ~0.84). None for
    an empty length. >= 0, compare with the style."""
    return n_notes * TICKS_PER_BEAT / length_ticks if length_ticks > 0 else None


def blue_note_rate(pitches: np.ndarray, tonics: np.ndarray) -> float | None:
    """Share of notes a minor third, a tritone or a minor seventh (:data:`BLUE_DEGREES`) above
    ``tonics`` (each note's key tonic, a pitch class). In a minor key b3 and b7 are scale tones,
    so compare only songs in major keys. None for no notes. [0, 1]; >= 0.05 in a blues."""
    p = np.asarray(pitches, dtype=np.int64)
    if not p.size:
        return None
    degree = (p - np.asarray(tonics, dtype=np.int64)) % 12
    return float(np.isin(degree, BLUE_DEGREES).mean())


def literal_copies(bars: Sequence[Bar], planned: Sequence[int | None]) -> float | None:
    """Share of bars with notes that equal an earlier bar note for note, leaving out a bar
    whose ``planned[i]`` (the index of the bar it repeats by the plan, or None) it equals.
    None if no bar has notes. [0, 1], lower = fewer unplanned copies."""
    seen: set[Bar] = set()
    counted = copies = 0
    for i, b in enumerate(bars):
        if not b:
            continue
        src = planned[i]
        if src is not None and bars[src] == b:
            seen.add(b)
            continue
        counted += 1
        copies += b in seen
        seen.add(b)
    return copies / counted if counted else None


def chorus_minus_verse(pitches: np.ndarray, roles: Sequence[str]) -> float | None:
    """Mean pitch of the notes in chorus (or refrain) sections minus that of the notes in verse
    sections, ``roles`` being each note's section role. None without both. Semitones, > 0 =
    the chorus sits above the verse."""
    p = np.asarray(pitches, dtype=np.float64)
    r = np.asarray(roles)
    ch = p[np.isin(r, CHORUS_ROLES)]
    ve = p[np.isin(r, VERSE_ROLES)]
    if not ch.size or not ve.size:
        return None
    return float(ch.mean() - ve.mean())


def returns_differ(statements: Sequence[tuple[str, Sequence[Bar]]]) -> float | None:
    """Share of the third and later statements of a label (0-based occurrence >=
    :data:`RETURN_FROM`) whose bars differ from the label's first statement in at least
    :data:`RETURN_BAR_SHARE` of their bars (bars relative to the section start, pitches to its
    tonic); ``statements``: (label, bars) in song order. None if no label comes back a third
    time. [0, 1], higher = the form develops (target >= 0.5)."""
    first: dict[str, Sequence[Bar]] = {}
    count: dict[str, int] = {}
    flags = []
    for label, bars in statements:
        k = count.get(label, 0)
        count[label] = k + 1
        if k == 0:
            first[label] = bars
            continue
        if k < RETURN_FROM:
            continue
        ref = first[label]
        n = max(len(bars), len(ref))
        diff = sum(1 for i in range(n) if i >= len(bars) or i >= len(ref) or bars[i] != ref[i])
        flags.append(diff >= RETURN_BAR_SHARE * n)
    return float(np.mean(flags)) if flags else None


# --- a whole melody ----------------------------------------------------------------------------


def piece_metrics(
    onsets: np.ndarray,
    durations: np.ndarray,
    pitches: np.ndarray,
    meter: TimeSignature,
    tonic: int,
    first_bar: int = 0,
) -> dict[str, float | None]:
    """The metrics that need no plan, on one tune (a corpus piece): phrases from ``first_bar``
    (1 after a pickup bar), every earlier bar a possible unplanned copy."""
    bar_ticks = meter.bar_ticks
    on, du, pi = _order(onsets, durations, pitches)
    length = int((on + du).max()) if on.size else 0
    bars = max(0, -(-length // bar_ticks))
    cut = bars_of(on, du, pi, bar_ticks, bars)
    return {
        "phrase_breathing": phrase_breathing(
            on, du, bar_ticks, [(first_bar, bars - first_bar)], long_note_ticks(meter)
        ),
        "motif_recurrence": motif_recurrence(cut[first_bar:]),
        "sixteenth_share": sixteenth_share(du),
        "dotted_eighth_share": dotted_eighth_share(du),
        "notes_per_quarter": notes_per_quarter(len(on), (bars - first_bar) * bar_ticks),
        "blue_note_rate": blue_note_rate(pi, np.full(len(pi), tonic)),
        "literal_copies": literal_copies(cut, [None] * len(cut)),
    }


def song_melody_metrics(notes: np.ndarray, plan: SongPlan) -> dict[str, float | None]:
    """Every metric of a composed song: its NoteArray (absolute ticks; the melody track is
    read) and its plan. Phrases run from each section's start; a bar of a section that repeats
    or varies another is a planned copy of the same bar of its source."""
    meter = plan.meter()
    bar = meter.bar_ticks
    mel = notes[notes["track"] == TRACK_MELODY]
    on, du, pi = _order(mel["onset"], mel["duration"], mel["pitch"])
    total = plan.total_bars
    cut = bars_of(on, du, pi, bar, total)
    planned: list[int | None] = [None] * total
    tonic_of_bar = np.zeros(total, dtype=np.int64)
    role_of_bar = np.empty(total, dtype=object)
    statements = []
    for s in plan.sections:
        first = s.start_bar - 1
        tonic = s.key_obj().tonic
        tonic_of_bar[first : first + s.bars] = tonic
        role_of_bar[first : first + s.bars] = s.role
        if s.source is not None and s.relation in ("repeats", "varies"):
            src = plan.section(s.source)
            for i in range(min(s.bars, src.bars)):
                planned[first + i] = src.start_bar - 1 + i
        rel = tuple(tuple((o, p - tonic, d) for o, p, d in b) for b in cut[first : first + s.bars])
        statements.append((s.label, rel))
    note_bar = np.minimum(on // bar, max(0, total - 1)) if on.size else on
    spans = [(s.start_bar - 1, s.bars) for s in plan.sections]
    return {
        "phrase_breathing": phrase_breathing(on, du, bar, spans, long_note_ticks(meter)),
        "motif_recurrence": motif_recurrence(cut),
        "sixteenth_share": sixteenth_share(du),
        "dotted_eighth_share": dotted_eighth_share(du),
        "notes_per_quarter": notes_per_quarter(len(on), total * bar),
        "blue_note_rate": blue_note_rate(pi, tonic_of_bar[note_bar]),
        "chorus_minus_verse": chorus_minus_verse(pi, [str(r) for r in role_of_bar[note_bar]]),
        "literal_copies": literal_copies(cut, planned),
        "returns_differ": returns_differ(statements),
    }
