"""Soft features for rewards: per-candidate float64 descriptors (njit; driven by kernels.batch).

:data:`FEATURES` names the columns of ``BatchResult.features``. "Melody notes" are the track-0
notes sorted by (onset, pitch, duration); "the chord at t" follows
:meth:`kernels.context.SectionArrays.chord_index_at`; "interval" is ``pitch[i] - pitch[i-1]`` of
consecutive melody notes (``n - 1`` of them for ``n`` notes). Ratios are in ``[0, 1]``. None of
these is "good" or "bad" on its own: rewards decide the preferred direction.

=======================  ========================================================================
name                     definition (range; value when undefined)
=======================  ========================================================================
melody_notes             number of melody notes (``>= 0``)
melody_density           melody notes per bar = count / (length_ticks / bar_ticks) (``>= 0``)
chord_tone_ratio         fraction of melody notes whose pc is in the mask of the chord at their
                         onset (0 if no melody notes)
strong_chord_tone_ratio  the same over melody notes with ``onset % bar_ticks`` in
                         ``strong_offsets`` (0 if none)
step_ratio               fraction of intervals with ``|i|`` in {1, 2} (0 if < 2 notes)
repeat_ratio             fraction of intervals with ``i == 0`` (0 if < 2 notes)
leap_ratio               fraction of intervals with ``|i| >= 5`` (0 if < 2 notes)
mean_abs_interval        mean ``|i|`` in semitones (``>= 0``; 0 if < 2 notes)
pitch_range              max - min melody pitch in semitones (``0 .. 127``; 0 if none)
mean_pitch               mean melody MIDI pitch, unweighted (``0 .. 127``; 0 if none)
duration_variety         number of distinct melody durations (``>= 0``)
rest_ratio               fraction of ``[0, length_ticks)`` in which no melody note sounds (notes
                         clipped to the section; 1 if no melody notes)
accomp_chord_tone_ratio  duration-weighted fraction of chords-track + bass-track note time whose
                         pc is in the mask of the chord at the note's onset (durations not
                         clipped; 1 if there are no such notes)
first_pitch              MIDI pitch of the first melody note (-1 if none)
last_pitch               MIDI pitch of the last melody note (-1 if none)
last_duration            duration in ticks of the last melody note (0 if none)
last_is_tonic            1.0 if the last melody note's pc == tonic, else 0.0 (0 if none)
last_is_chord_tone       1.0 if the last melody note's pc is in the final chord's mask
                         (``chord_masks[-1]``), else 0.0 (0 if none)
syncopation              fraction of melody notes with ``onset % beat_ticks != 0`` (0 if none)
pc_entropy               Shannon entropy in bits of the duration-weighted melody pc histogram
                         (``0 .. log2(12)``; 0 if none)
contour_changes          over the nonzero intervals in order, the fraction of consecutive pairs
                         whose signs differ (0 if fewer than 2 nonzero intervals)
bar_rhythm_repetition    over bars ``b = 2 .. n`` (n = ceil(length_ticks / bar_ticks)), the mean
                         of the max Jaccard similarity between bar b's set of melody onset offsets
                         within the bar and any earlier bar's; the similarity of two empty sets
                         is 0, like every undefined melody ratio (0 if one bar)
bass_root_ratio          fraction of bass notes whose pc is the root of the chord at their onset
                         (1 if no bass notes)
pc_0, pc_1, pc_2,        duration-weighted share of each pitch class (C=0 .. B=11) over melody,
pc_3, pc_4, pc_5,        chords and bass notes; they sum to 1 (all 0 if there are no such
pc_6, pc_7, pc_8,        notes). The key-finding check and reward correlate them with the
pc_9, pc_10, pc_11       Krumhansl-Kessler key profiles (planners.tonality).
iv_0, iv_1, iv_2,        interval histogram: ``iv_k`` is the share of melody intervals with
iv_3, iv_4, iv_5,        ``|i| == k`` for k = 0..11 and iv_12 the share with ``|i| >= 12`` (an
iv_6, iv_7, iv_8,        octave or more); they sum to 1 (all 0 if < 2 notes)
iv_9, iv_10, iv_11,
iv_12
weak_beat_chord_tones    chord-tone ratio of melody notes on a beat (``onset % beat_ticks == 0``)
                         that is not a strong offset (0 if none); with strong_chord_tone_ratio
                         and the next, one chord-tone ratio per metric position class
offbeat_chord_tones      chord-tone ratio of melody notes off the beat
                         (``onset % beat_ticks != 0``; 0 if none)
contour_up_ratio         fraction of nonzero intervals that ascend (0 if none)
net_motion               last minus first melody pitch in semitones (signed; 0 if none)
peak_position            onset of the first highest melody note / length_ticks (``[0, 1)``; 0
                         if none)
tessitura_deviation      duration-weighted mean of ``|p - c| / max(h, 1)`` over melody notes,
                         ``c = (melody_low + melody_high) / 2``, ``h = (melody_high -
                         melody_low) / 2``: 0 at the centre, 1 at the range edges, > 1 outside
                         (``>= 0``; 0 if none)
tessitura_outer_ratio    share of melody duration outside the middle half of the range
                         (``|p - c| > h / 2``; ``[0, 1]``; 0 if none)
sync_across_beat         fraction of melody notes that start off the beat and still sound at the
                         next beat (``end > (onset // beat_ticks + 1) * beat_ticks``; 0 if none)
note_density             notes of tracks 0..2 per bar = count / (length_ticks / bar_ticks)
bar_notes_std            per-bar melody note counts (bar of a note = ``min(onset // bar_ticks,
bar_notes_min            n_bars - 1)``, n_bars = ceil(length_ticks / bar_ticks)): population
bar_notes_max            standard deviation, minimum and maximum over the n_bars bars (mean =
                         count / n_bars; melody_density is count per nominal bar)
groove_consistency       over consecutive bars (k-1, k), the mean Jaccard similarity of the
                         distinct onset offsets within the bar of all notes of tracks 0..2 (the
                         ensemble's groove); two empty bars are identical (1); 1 if one bar
bar_pitch_repetition     as bar_rhythm_repetition over the sets of (offset within bar, pitch)
                         of melody notes: 1 when every bar repeats an earlier bar exactly
has_reference            1 if check_batch got a ``reference`` segment (the source a repeat or
                         variation follows, times relative to this section's start), else 0
ref_onset_similarity     Jaccard similarity of the distinct melody onsets of candidate and
                         reference (two empty sets: 0; 0 without reference)
ref_note_similarity      Jaccard similarity of their distinct melody (onset, pitch) pairs
ref_bar_match            fraction of bars whose set of melody (offset, pitch) pairs equals the
                         reference's in the same bar (two empty bars match; 0 without reference)
has_previous             1 if check_batch got the ``previous`` segment (the one this candidate
                         follows, times relative to its own start) and its length, else 0
boundary_interval        first melody pitch minus the previous segment's last melody pitch (last
                         row in (onset, pitch, duration) order), signed semitones (0 if either
                         is missing)
boundary_abs_interval    ``|boundary_interval|``
boundary_gap_beats       (previous_length - end of that last melody note + first melody onset) /
                         beat_ticks: the melody's silence across the seam in beats (negative if
                         the note rings past its section; 0 if either is missing)
boundary_bass_interval   first bass pitch minus the previous segment's last bass pitch (0 if
                         either is missing)
boundary_rhythm_match    Jaccard similarity of the melody onset offsets in the previous
                         segment's last bar ``[previous_length - bar_ticks, previous_length)``
                         and in this candidate's first bar (two empty sets: 0; 0 if no previous)
=======================  ========================================================================
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.context import _chord_index
from kernels.notes import TRACK_BASS, TRACK_CHORDS, TRACK_MELODY
from kernels.repetition import _bar_rhythm_repetition
from kernels.voiceleading import _track_span

FEATURES: tuple[str, ...] = (
    "melody_notes",
    "melody_density",
    "chord_tone_ratio",
    "strong_chord_tone_ratio",
    "step_ratio",
    "repeat_ratio",
    "leap_ratio",
    "mean_abs_interval",
    "pitch_range",
    "mean_pitch",
    "duration_variety",
    "rest_ratio",
    "accomp_chord_tone_ratio",
    "first_pitch",
    "last_pitch",
    "last_duration",
    "last_is_tonic",
    "last_is_chord_tone",
    "syncopation",
    "pc_entropy",
    "contour_changes",
    "bar_rhythm_repetition",
    "bass_root_ratio",
    *(f"pc_{pc}" for pc in range(12)),
    *(f"iv_{k}" for k in range(13)),
    "weak_beat_chord_tones",
    "offbeat_chord_tones",
    "contour_up_ratio",
    "net_motion",
    "peak_position",
    "tessitura_deviation",
    "tessitura_outer_ratio",
    "sync_across_beat",
    "note_density",
    "bar_notes_std",
    "bar_notes_min",
    "bar_notes_max",
    "groove_consistency",
    "bar_pitch_repetition",
    "has_reference",
    "ref_onset_similarity",
    "ref_note_similarity",
    "ref_bar_match",
    "has_previous",
    "boundary_interval",
    "boundary_abs_interval",
    "boundary_gap_beats",
    "boundary_bass_interval",
    "boundary_rhythm_match",
)
_F = {name: i for i, name in enumerate(FEATURES)}
F_MELODY_NOTES = _F["melody_notes"]
F_MELODY_DENSITY = _F["melody_density"]
F_CHORD_TONE_RATIO = _F["chord_tone_ratio"]
F_STRONG_CHORD_TONE_RATIO = _F["strong_chord_tone_ratio"]
F_STEP_RATIO = _F["step_ratio"]
F_REPEAT_RATIO = _F["repeat_ratio"]
F_LEAP_RATIO = _F["leap_ratio"]
F_MEAN_ABS_INTERVAL = _F["mean_abs_interval"]
F_PITCH_RANGE = _F["pitch_range"]
F_MEAN_PITCH = _F["mean_pitch"]
F_DURATION_VARIETY = _F["duration_variety"]
F_REST_RATIO = _F["rest_ratio"]
F_ACCOMP_CHORD_TONE_RATIO = _F["accomp_chord_tone_ratio"]
F_FIRST_PITCH = _F["first_pitch"]
F_LAST_PITCH = _F["last_pitch"]
F_LAST_DURATION = _F["last_duration"]
F_LAST_IS_TONIC = _F["last_is_tonic"]
F_LAST_IS_CHORD_TONE = _F["last_is_chord_tone"]
F_SYNCOPATION = _F["syncopation"]
F_PC_ENTROPY = _F["pc_entropy"]
F_CONTOUR_CHANGES = _F["contour_changes"]
F_BAR_RHYTHM_REPETITION = _F["bar_rhythm_repetition"]
F_BASS_ROOT_RATIO = _F["bass_root_ratio"]
F_PC_0 = _F["pc_0"]


@njit(cache=True)
def _covered_ticks(onset: np.ndarray, duration: np.ndarray, a: int, b: int, length: int) -> int:
    """Ticks of ``[0, length)`` covered by the union of rows ``[a, b)`` (sorted by onset)."""
    covered = 0
    cur_s = 0
    cur_e = 0
    for i in range(a, b):
        s = max(onset[i], 0)
        e = min(onset[i] + duration[i], length)
        if s >= e:
            continue
        if s > cur_e:
            covered += cur_e - cur_s
            cur_s = s
            cur_e = e
        elif e > cur_e:
            cur_e = e
    return covered + cur_e - cur_s


@njit(cache=True)
def _candidate_features(
    onset: np.ndarray,
    duration: np.ndarray,
    pitch: np.ndarray,
    track: np.ndarray,
    length_ticks: int,
    bar_ticks: int,
    beat_ticks: int,
    strong_offsets: np.ndarray,
    tonic: int,
    chord_starts: np.ndarray,
    chord_masks: np.ndarray,
    chord_roots: np.ndarray,
    out: np.ndarray,
) -> None:
    """Write the :data:`FEATURES` of one candidate into ``out`` (float64, len(FEATURES)).

    ``onset``/``duration``/``pitch``/``track`` are int64 columns of one candidate grouped by
    track (melody, chords, bass, others), the first three sorted by (onset, pitch, duration).
    """
    ma, mb = _track_span(track, TRACK_MELODY)
    ca, _ = _track_span(track, TRACK_CHORDS)
    ba, bb = _track_span(track, TRACK_BASS)
    n = mb - ma

    # accompaniment and bass first: they are defined (as 1) for an empty melody too
    acc_total = 0
    acc_ct = 0
    for i in range(ca, bb):  # rows are sorted by track, so chords [ca, cb) abut bass [ba, bb)
        if track[i] != TRACK_CHORDS and track[i] != TRACK_BASS:
            continue
        acc_total += duration[i]
        if (chord_masks[_chord_index(chord_starts, onset[i])] >> (pitch[i] % 12)) & 1:
            acc_ct += duration[i]
    bass_root = 0
    for i in range(ba, bb):
        if pitch[i] % 12 == chord_roots[_chord_index(chord_starts, onset[i])]:
            bass_root += 1
    out[:] = 0.0
    pc_total = 0.0
    for i in range(track.shape[0]):
        if track[i] <= TRACK_BASS:  # melody, chords and bass; not extra tracks
            out[F_PC_0 + pitch[i] % 12] += duration[i]
            pc_total += duration[i]
    if pc_total > 0.0:
        for k in range(12):
            out[F_PC_0 + k] /= pc_total
    out[F_ACCOMP_CHORD_TONE_RATIO] = acc_ct / acc_total if acc_total > 0 else 1.0
    out[F_BASS_ROOT_RATIO] = bass_root / (bb - ba) if bb > ba else 1.0
    out[F_REST_RATIO] = 1.0 - _covered_ticks(onset, duration, ma, mb, length_ticks) / length_ticks
    out[F_BAR_RHYTHM_REPETITION] = _bar_rhythm_repetition(onset, ma, mb, length_ticks, bar_ticks)
    out[F_FIRST_PITCH] = -1.0
    out[F_LAST_PITCH] = -1.0
    if n == 0:
        return

    chord_tones = 0
    strong = 0
    strong_chord_tones = 0
    syncopated = 0
    lowest = pitch[ma]
    highest = pitch[ma]
    pitch_sum = 0
    hist = np.zeros(12, dtype=np.float64)
    for i in range(ma, mb):
        pc = pitch[i] % 12
        is_ct = (chord_masks[_chord_index(chord_starts, onset[i])] >> pc) & 1
        chord_tones += is_ct
        offset = onset[i] % bar_ticks
        for s in strong_offsets:
            if offset == s:
                strong += 1
                strong_chord_tones += is_ct
                break
        if onset[i] % beat_ticks != 0:
            syncopated += 1
        lowest = min(lowest, pitch[i])
        highest = max(highest, pitch[i])
        pitch_sum += pitch[i]
        hist[pc] += duration[i]

    steps = 0
    repeats = 0
    leaps = 0
    abs_sum = 0
    nonzero = 0
    changes = 0
    prev_sign = 0
    for i in range(ma + 1, mb):
        d = pitch[i] - pitch[i - 1]
        ad = abs(d)
        abs_sum += ad
        if ad == 0:
            repeats += 1
            continue
        if ad <= 2:
            steps += 1
        elif ad >= 5:
            leaps += 1
        sign = 1 if d > 0 else -1
        if nonzero > 0 and sign != prev_sign:
            changes += 1
        prev_sign = sign
        nonzero += 1

    durations = np.sort(duration[ma:mb])
    variety = 1
    for i in range(1, n):
        if durations[i] != durations[i - 1]:
            variety += 1

    total_w = 0.0
    for pc in range(12):
        total_w += hist[pc]
    entropy = 0.0
    for pc in range(12):
        if hist[pc] > 0.0:
            p = hist[pc] / total_w
            entropy -= p * math.log2(p)

    last = mb - 1
    out[F_MELODY_NOTES] = n
    out[F_MELODY_DENSITY] = n / (length_ticks / bar_ticks)
    out[F_CHORD_TONE_RATIO] = chord_tones / n
    out[F_STRONG_CHORD_TONE_RATIO] = strong_chord_tones / strong if strong > 0 else 0.0
    if n >= 2:
        out[F_STEP_RATIO] = steps / (n - 1)
        out[F_REPEAT_RATIO] = repeats / (n - 1)
        out[F_LEAP_RATIO] = leaps / (n - 1)
        out[F_MEAN_ABS_INTERVAL] = abs_sum / (n - 1)
    out[F_PITCH_RANGE] = highest - lowest
    out[F_MEAN_PITCH] = pitch_sum / n
    out[F_DURATION_VARIETY] = variety
    out[F_FIRST_PITCH] = pitch[ma]
    out[F_LAST_PITCH] = pitch[last]
    out[F_LAST_DURATION] = duration[last]
    out[F_LAST_IS_TONIC] = 1.0 if pitch[last] % 12 == tonic else 0.0
    out[F_LAST_IS_CHORD_TONE] = float((chord_masks[-1] >> (pitch[last] % 12)) & 1)
    out[F_SYNCOPATION] = syncopated / n
    out[F_PC_ENTROPY] = entropy
    out[F_CONTOUR_CHANGES] = changes / (nonzero - 1) if nonzero >= 2 else 0.0
