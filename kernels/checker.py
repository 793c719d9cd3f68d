"""Hard constraints: per-candidate violation counts (njit kernels; driven by :mod:`kernels.batch`).

:data:`VIOLATIONS` names the columns of ``BatchResult.violations``. Every entry is a count of
offending notes, note pairs or moments, an integer ``>= 0``; 0 is clean and larger is worse.
"Melody notes" are the track-0 notes sorted by (onset, pitch, duration); "consecutive melody
notes" and "interval" follow that order. A "bar" is ``[k * bar_ticks, (k + 1) * bar_ticks)``
clipped to the section, ``k = 0 .. ceil(length_ticks / bar_ticks) - 1``.

Voice-leading moments (the ONE definition of parallel and direct fifths and octaves, voice
crossing and spacing, followed by kernels.voiceleading, kernels.reference and, with music21
objects, tests/chorales.py). The voices are the tracks ``SectionArrays.voices`` (default melody
0 over bass 2), listed from the highest voice down, each read as monophonic: the note of voice
``v`` sounding at tick ``t`` is the one with ``onset <= t < onset + duration``; if several, the
latest onset wins, ties to the highest pitch. For a pair of voices (upper ``u``, lower ``l``,
``u`` listed first): take the sorted distinct union of the onsets of both; at each such time
keep it only if both voices sound, giving a pitch pair ``(pu, pl)``; drop a pair equal to the
one kept just before it (neither voice moved). The kept pairs are the pair's *moments*. For
consecutive moments ``(pu1, pl1) -> (pu2, pl2)`` with similar motion -- both voices move
(``pu1 != pu2`` and ``pl1 != pl2``) in the same direction -- and harmonic interval classes
``i1 = |pu1 - pl1| % 12``, ``i2 = |pu2 - pl2| % 12``:

* parallel fifth: ``i1 == i2 == 7`` (fifths, twelfths, ...; by semitones, not spelling);
* parallel octave: ``i1 == i2 == 0`` (unisons and octaves alike);
* direct (hidden) fifth: ``i2 == 7 != i1``; direct octave: ``i2 == 0 != i1``.

Contrary motion between perfect intervals (music21's "antiparallel") is not counted, nor is
oblique motion. A *crossing* is a moment with ``pu < pl``; a *wide spacing* a moment with
``pu - pl > 12``. ``BatchResult.voice_pairs`` holds all six counts per voice pair
(:data:`kernels.voiceleading.VOICE_PAIR_COUNTS`); the columns below sum them as stated.

The chords track (1) is polyphonic accompaniment and not a voice by default: it is checked
against the voices with accomp_crossing and within itself with accomp_spacing.

=================  =============================================================================
name               definition
=================  =============================================================================
out_of_key         notes (all tracks) whose pc is in neither ``scale_mask`` nor the mask of the
                   chord sounding at the note's onset (chord tones are allowed chromatic tones:
                   secondary dominants, borrowed chords; the pipeline adds a style's planned
                   blue notes to ``scale_mask``, so b3, b5, b7 in a blues are no clash).
                   Range ``0 .. n_notes``.
melody_range       melody notes with ``pitch < melody_low`` or ``pitch > melody_high``.
                   Range ``0 .. n_melody``.
melody_overlap     melody notes (sorted by onset, then pitch) whose onset is before the end
                   (onset + duration) of the previous melody note; equal onsets count.
                   Range ``0 .. n_melody - 1``.
bass_overlap       the same for the bass track. Range ``0 .. n_bass - 1``.
parallel_fifths    parallel fifths summed over every pair of voices (see above; with the default
                   voices, melody against bass). Range ``0 .. sum of moments``.
parallel_octaves   parallel octaves (and unisons) summed over every pair of voices.
large_leaps        consecutive melody notes whose ``|pitch difference| > 12`` (over an octave).
                   Range ``0 .. n_melody - 1``.
direct_fifths      direct (hidden) fifths summed over every pair of voices.
direct_octaves     direct (hidden) octaves summed over every pair of voices.
voice_crossing     crossings summed over neighbouring voices (``voices[i]``, ``voices[i+1]``).
voice_spacing      wide spacings (> an octave) summed over neighbouring voices, except the
                   lowest pair (tenor and bass may lie further apart); 0 with two voices.
accomp_crossing    chords-track notes that, at their onset, lie above the melody note or below
                   the bass note sounding then (strictly). Range ``0 .. n_chords``.
accomp_spacing     at each distinct onset of the chords track, the chords-track notes sounding
                   there sorted by pitch: neighbours more than 12 semitones apart, summed.
strong_nonchord    melody notes with ``onset % bar_ticks`` in ``strong_offsets`` whose pc is not
                   in the mask of the chord at their onset. Range ``0 .. n_melody``.
unresolved_leaps   melody intervals with ``|i| >= 8`` (a minor sixth or more) NOT followed by a
                   step (``1 <= |next| <= 2``) in the opposite direction; the last interval has
                   no follower and is not counted. Range ``0 .. n_melody - 2``.
tessitura          1 if the duration-weighted mean melody pitch lies more than 3/4 of the
                   half-range from the centre of ``melody_low .. melody_high`` (the outer
                   eighth at either end: the melody sits at an extreme), else 0; exactly
                   ``4 * |2 * sum(d * p) - (low + high) * sum(d)| > 3 * (high - low) * sum(d)``.
                   0 without melody. The graded value is the feature tessitura_deviation.
instrument_range   notes of track ``t < len(track_low)`` with pitch outside
                   ``track_low[t] .. track_high[t]`` (defaults: melody range, chords 36..96,
                   bass 28..67; melody notes out of range count here and in melody_range).
empty_bars         bars in which no note of any track sounds at any tick (notes clipped to the
                   section). Range ``0 .. n_bars``.
voice_overlap      overlaps as in melody_overlap, summed over the voices other than the melody
                   and bass tracks (those have their own columns); 0 with the default voices.
=================  =============================================================================

Kernels here receive the notes of ONE candidate as int64 column arrays grouped by ascending
track, each track's rows sorted by (onset, pitch, duration), with ``end = onset + duration`` and
its per-track running maximum ``end_max``; they never sort and never see structured arrays.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.context import P_BAR, P_LENGTH, P_MELODY_HIGH, P_MELODY_LOW, P_SCALE_MASK, _chord_index
from kernels.notes import TRACK_BASS, TRACK_CHORDS, TRACK_MELODY
from kernels.voiceleading import (
    PC_CROSSINGS,
    PC_DIRECT_FIFTHS,
    PC_DIRECT_OCTAVES,
    PC_PARALLEL_FIFTHS,
    PC_PARALLEL_OCTAVES,
    PC_WIDE_SPACINGS,
    _sounding,
    _track_span,
    _voice_pair_counts,
)

VIOLATIONS: tuple[str, ...] = (
    "out_of_key",
    "melody_range",
    "melody_overlap",
    "bass_overlap",
    "parallel_fifths",
    "parallel_octaves",
    "large_leaps",
    "direct_fifths",
    "direct_octaves",
    "voice_crossing",
    "voice_spacing",
    "accomp_crossing",
    "accomp_spacing",
    "strong_nonchord",
    "unresolved_leaps",
    "tessitura",
    "instrument_range",
    "empty_bars",
    "voice_overlap",
)
_V = {name: i for i, name in enumerate(VIOLATIONS)}
V_OUT_OF_KEY = _V["out_of_key"]
V_MELODY_RANGE = _V["melody_range"]
V_MELODY_OVERLAP = _V["melody_overlap"]
V_BASS_OVERLAP = _V["bass_overlap"]
V_PARALLEL_FIFTHS = _V["parallel_fifths"]
V_PARALLEL_OCTAVES = _V["parallel_octaves"]
V_LARGE_LEAPS = _V["large_leaps"]
V_DIRECT_FIFTHS = _V["direct_fifths"]
V_DIRECT_OCTAVES = _V["direct_octaves"]
V_VOICE_CROSSING = _V["voice_crossing"]
V_VOICE_SPACING = _V["voice_spacing"]
V_ACCOMP_CROSSING = _V["accomp_crossing"]
V_ACCOMP_SPACING = _V["accomp_spacing"]
V_STRONG_NONCHORD = _V["strong_nonchord"]
V_UNRESOLVED_LEAPS = _V["unresolved_leaps"]
V_TESSITURA = _V["tessitura"]
V_INSTRUMENT_RANGE = _V["instrument_range"]
V_EMPTY_BARS = _V["empty_bars"]
V_VOICE_OVERLAP = _V["voice_overlap"]


@njit(cache=True)
def _overlaps(onset: np.ndarray, end: np.ndarray, a: int, b: int) -> int:
    """Rows ``i`` in ``(a, b)`` with ``onset[i] < end[i - 1]`` (count, >= 0)."""
    count = 0
    for i in range(a + 1, b):
        if onset[i] < end[i - 1]:
            count += 1
    return count


@njit(cache=True)
def _melody_line(pitch: np.ndarray, a: int, b: int) -> tuple[int, int]:
    """(large_leaps, unresolved_leaps) of melody rows ``[a, b)``; see VIOLATIONS."""
    large = 0
    unresolved = 0
    for i in range(a + 1, b):
        d = pitch[i] - pitch[i - 1]
        if abs(d) > 12:
            large += 1
        if abs(d) >= 8 and i + 1 < b:
            nxt = pitch[i + 1] - pitch[i]
            if not (1 <= abs(nxt) <= 2 and (nxt > 0) != (d > 0)):
                unresolved += 1
    return large, unresolved


@njit(cache=True)
def _tessitura(duration: np.ndarray, pitch: np.ndarray, a: int, b: int, low: int, high: int) -> int:
    """The ``tessitura`` violation (0 or 1) of melody rows ``[a, b)``; integer arithmetic."""
    if a == b:
        return 0
    weight = 0
    moment = 0
    for i in range(a, b):
        weight += duration[i]
        moment += duration[i] * pitch[i]
    return 1 if 4 * abs(2 * moment - (low + high) * weight) > 3 * (high - low) * weight else 0


@njit(cache=True)
def _empty_bars(onset: np.ndarray, end: np.ndarray, length: int, bar: int) -> int:
    """Bars of ``[0, length)`` that no note covers at any tick (count, ``0 .. n_bars``)."""
    n_bars = (length + bar - 1) // bar
    covered = np.zeros(n_bars, dtype=np.bool_)
    for i in range(onset.shape[0]):
        e = min(end[i], length)
        if e <= onset[i]:
            continue
        for k in range(onset[i] // bar, (e - 1) // bar + 1):
            covered[k] = True
    return n_bars - int(covered.sum())


@njit(cache=True)
def _accompaniment(
    onset: np.ndarray,
    pitch: np.ndarray,
    end: np.ndarray,
    end_max: np.ndarray,
    ca: int,
    cb: int,
    ma: int,
    mb: int,
    ba: int,
    bb: int,
) -> tuple[int, int]:
    """(accomp_crossing, accomp_spacing) of chords rows ``[ca, cb)`` against melody rows
    ``[ma, mb)`` and bass rows ``[ba, bb)``; see VIOLATIONS."""
    crossing = 0
    spacing = 0
    im = ma  # melody rows [ma, im) have onset <= t (chord rows come in onset order)
    ib = ba
    buf = np.empty(cb - ca, dtype=np.int64)
    i = ca
    while i < cb:
        t = onset[i]
        k = i
        while k < cb and onset[k] == t:
            k += 1
        while im < mb and onset[im] <= t:
            im += 1
        while ib < bb and onset[ib] <= t:
            ib += 1
        jm = _sounding(end, end_max, ma, im, t)
        jb = _sounding(end, end_max, ba, ib, t)
        for r in range(i, k):
            if (jm >= 0 and pitch[r] > pitch[jm]) or (jb >= 0 and pitch[r] < pitch[jb]):
                crossing += 1
        count = 0
        j = k - 1
        while j >= ca and end_max[j] > t:  # every chord note sounding at t
            if end[j] > t:
                buf[count] = pitch[j]
                count += 1
            j -= 1
        sounding = np.sort(buf[:count])
        for r in range(1, count):
            if sounding[r] - sounding[r - 1] > 12:
                spacing += 1
        i = k
    return crossing, spacing


@njit(cache=True)
def _candidate_violations(
    onset: np.ndarray,
    duration: np.ndarray,
    pitch: np.ndarray,
    track: np.ndarray,
    end: np.ndarray,
    end_max: np.ndarray,
    params: np.ndarray,
    strong_offsets: np.ndarray,
    chord_starts: np.ndarray,
    chord_masks: np.ndarray,
    voices: np.ndarray,
    track_low: np.ndarray,
    track_high: np.ndarray,
    pairs: np.ndarray,
    out: np.ndarray,
) -> None:
    """Write the :data:`VIOLATIONS` counts of one candidate into ``out`` (int64) and its
    per-voice-pair counts into ``pairs`` (int64, ``(n_pairs, 6)``).

    Columns as described in the module docstring; ``params`` is the batch's int64 scalar vector
    (``kernels.batch.P_*``).
    """
    length, bar, scale_mask = params[P_LENGTH], params[P_BAR], params[P_SCALE_MASK]
    melody_low, melody_high = params[P_MELODY_LOW], params[P_MELODY_HIGH]
    n = onset.shape[0]
    out_of_key = 0
    instrument = 0
    n_ranges = track_low.shape[0]
    for i in range(n):
        bit = np.int64(1) << (pitch[i] % 12)
        mask = scale_mask | chord_masks[_chord_index(chord_starts, onset[i])]
        if (mask & bit) == 0:
            out_of_key += 1
        t = track[i]
        if t < n_ranges and (pitch[i] < track_low[t] or pitch[i] > track_high[t]):
            instrument += 1

    ma, mb = _track_span(track, TRACK_MELODY)
    ca, cb = _track_span(track, TRACK_CHORDS)
    ba, bb = _track_span(track, TRACK_BASS)

    out_of_range = 0
    strong_nonchord = 0
    for i in range(ma, mb):
        if pitch[i] < melody_low or pitch[i] > melody_high:
            out_of_range += 1
        offset = onset[i] % bar
        for s in strong_offsets:
            if offset == s:
                if not (chord_masks[_chord_index(chord_starts, onset[i])] >> (pitch[i] % 12)) & 1:
                    strong_nonchord += 1
                break
    large, unresolved = _melody_line(pitch, ma, mb)

    _voice_pair_counts(onset, pitch, track, end, end_max, voices, pairs)
    crossing = 0
    spacing = 0
    voice_overlap = 0
    k = voices.shape[0]
    for i in range(k):
        if voices[i] != TRACK_MELODY and voices[i] != TRACK_BASS:
            va, vb = _track_span(track, voices[i])
            voice_overlap += _overlaps(onset, end, va, vb)
    p = 0
    for i in range(k):
        for j in range(i + 1, k):
            if j == i + 1:
                crossing += pairs[p, PC_CROSSINGS]
                if j < k - 1:
                    spacing += pairs[p, PC_WIDE_SPACINGS]
            p += 1
    acc_crossing, acc_spacing = _accompaniment(onset, pitch, end, end_max, ca, cb, ma, mb, ba, bb)

    out[V_OUT_OF_KEY] = out_of_key
    out[V_MELODY_RANGE] = out_of_range
    out[V_MELODY_OVERLAP] = _overlaps(onset, end, ma, mb)
    out[V_BASS_OVERLAP] = _overlaps(onset, end, ba, bb)
    out[V_PARALLEL_FIFTHS] = pairs[:, PC_PARALLEL_FIFTHS].sum()
    out[V_PARALLEL_OCTAVES] = pairs[:, PC_PARALLEL_OCTAVES].sum()
    out[V_LARGE_LEAPS] = large
    out[V_DIRECT_FIFTHS] = pairs[:, PC_DIRECT_FIFTHS].sum()
    out[V_DIRECT_OCTAVES] = pairs[:, PC_DIRECT_OCTAVES].sum()
    out[V_VOICE_CROSSING] = crossing
    out[V_VOICE_SPACING] = spacing
    out[V_ACCOMP_CROSSING] = acc_crossing
    out[V_ACCOMP_SPACING] = acc_spacing
    out[V_STRONG_NONCHORD] = strong_nonchord
    out[V_UNRESOLVED_LEAPS] = unresolved
    out[V_TESSITURA] = _tessitura(duration, pitch, ma, mb, melody_low, melody_high)
    out[V_INSTRUMENT_RANGE] = instrument
    out[V_EMPTY_BARS] = _empty_bars(onset, end, length, bar)
    out[V_VOICE_OVERLAP] = voice_overlap
