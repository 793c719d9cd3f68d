"""check_batch: check and featurise many candidates for one section in one kernel call.

The wrapper validates the NoteArrays, concatenates their columns into flat int64 arrays with a
CSR ``offsets`` array (``n + 1`` entries; candidate ``c`` owns rows ``offsets[c]:offsets[c+1]``)
and calls :func:`_batch_kernel` once (:func:`_batch_kernel_serial` for batches under
:data:`PARALLEL_MIN_NOTES` notes). The kernel runs a ``prange`` over candidates; each
candidate's rows are grouped there by ascending track, each track sorted by (onset, pitch,
duration) (:func:`kernels.gather._gather_sorted`) -- so callers may pass rows in any order --
and handed to the checker (:mod:`kernels.checker`, :mod:`kernels.voiceleading`) and the
feature kernels (:mod:`kernels.features`, :mod:`kernels.melodic`, :mod:`kernels.rhythm`,
:mod:`kernels.repetition`). The optional ``reference`` and ``previous`` segments are gathered
once and shared by every candidate.

Numba's on-disk cache keys each kernel on a hash of ITS OWN source file only, so editing
``kernels/checker.py`` would leave a cached ``_batch_kernel`` (which inlines the checker) stale.
:func:`share_cache_stamp` therefore stamps every kernel cache in the package with one hash of all
kernel modules at import, so editing any of them recompiles all. It touches numba internals and
degrades to numba's default behaviour if those change; if in doubt, delete
``kernels/__pycache__/*.nbi``.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np
from numba import njit, prange

from kernels import (
    checker,
    context,
    features,
    gather,
    melodic,
    notes,
    repetition,
    rhythm,
    voiceleading,
)
from kernels.checker import VIOLATIONS, _candidate_violations
from kernels.context import P_BAR, P_BEAT, P_LENGTH, P_TONIC, SectionArrays
from kernels.features import FEATURES, _candidate_features
from kernels.gather import _gather_sorted
from kernels.melodic import _melodic_features
from kernels.notes import NOTE_DTYPE, TRACK_DRUMS
from kernels.repetition import _repetition_features
from kernels.rhythm import _rhythm_features
from kernels.voiceleading import VOICE_PAIR_COUNTS, voice_pairs

# Where each feature kernel writes (first column of its block, FEATURES order).
F_IV = FEATURES.index("iv_0")
F_CT = FEATURES.index("weak_beat_chord_tones")
F_CONTOUR = FEATURES.index("contour_up_ratio")
F_TESS = FEATURES.index("tessitura_deviation")
F_RHYTHM = FEATURES.index("sync_across_beat")
F_BAR_PITCH = FEATURES.index("bar_pitch_repetition")
F_REF = FEATURES.index("has_reference")
F_PREV = FEATURES.index("has_previous")

# Below this many notes in a batch the serial kernel is used: waking the thread pool costs more
# than it saves (and much more on an oversubscribed machine). Tests set it to 0 to force prange.
PARALLEL_MIN_NOTES = 8192


def _no_pairs() -> np.ndarray:
    return np.zeros((0, 0, len(VOICE_PAIR_COUNTS)), dtype=np.int64)


@dataclass(frozen=True)
class BatchResult:
    """Violation counts and features of a batch of candidates, row ``i`` = candidate ``i``.

    Attributes:
        violations: ``(n_candidates, len(VIOLATIONS))`` int64 counts, columns named by
            :data:`kernels.checker.VIOLATIONS` (``>= 0``; 0 is clean).
        features: ``(n_candidates, len(FEATURES))`` float64, columns named by
            :data:`kernels.features.FEATURES`.
        voice_pairs: ``(n_candidates, n_pairs, len(VOICE_PAIR_COUNTS))`` int64: for every pair
            ``(i, j)``, ``i < j``, of ``voices`` in :func:`kernels.voiceleading.voice_pairs`
            order, the counts named by :data:`kernels.voiceleading.VOICE_PAIR_COUNTS`.
        voices: the track numbers of the voices, highest first (``SectionArrays.voices``).
    """

    violations: np.ndarray
    features: np.ndarray
    voice_pairs: np.ndarray = field(default_factory=_no_pairs)
    voices: tuple[int, ...] = ()

    def violation_dict(self, i: int) -> dict[str, int]:
        """Candidate ``i``'s violation counts by name."""
        row = self.violations[i]
        return {name: int(row[k]) for k, name in enumerate(VIOLATIONS)}

    def feature_dict(self, i: int) -> dict[str, float]:
        """Candidate ``i``'s features by name."""
        row = self.features[i]
        return {name: float(row[k]) for k, name in enumerate(FEATURES)}

    def voice_pair_dict(self, i: int) -> dict[tuple[int, int], dict[str, int]]:
        """Candidate ``i``'s per-voice-pair counts: ``(upper track, lower track) -> counts``."""
        out = {}
        for p, (a, b) in enumerate(voice_pairs(len(self.voices))):
            row = self.voice_pairs[i, p]
            out[(self.voices[a], self.voices[b])] = {
                name: int(row[k]) for k, name in enumerate(VOICE_PAIR_COUNTS)
            }
        return out


@njit(cache=True)
def _check_candidate(
    c: int,
    offsets: np.ndarray,
    columns: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    reference: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    previous: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    params: np.ndarray,
    section: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    voices: np.ndarray,
    violations: np.ndarray,
    features: np.ndarray,
    pairs: np.ndarray,
) -> None:
    """Fill ``violations[c]``, ``features[c]`` and ``pairs[c]`` for candidate ``c``.

    ``columns`` = (onset, duration, pitch, track) of the whole CSR batch; ``reference`` and
    ``previous`` the gathered (onset, duration, pitch, track) of those segments (empty if not
    given); ``section`` = (strong_offsets, chord_starts, chord_masks, chord_roots, track
    ranges as a ``(2, n)`` array of low and high).
    """
    onset, duration, pitch, track = columns
    strong_offsets, chord_starts, chord_masks, chord_roots, ranges = section
    c_onset, c_duration, c_pitch, c_track, end, end_max = _gather_sorted(
        onset, duration, pitch, track, offsets[c], offsets[c + 1]
    )
    _candidate_violations(
        c_onset,
        c_duration,
        c_pitch,
        c_track,
        end,
        end_max,
        params,
        strong_offsets,
        chord_starts,
        chord_masks,
        voices,
        ranges[0],
        ranges[1],
        pairs[c],
        violations[c],
    )
    out = features[c]
    _candidate_features(
        c_onset,
        c_duration,
        c_pitch,
        c_track,
        params[P_LENGTH],
        params[P_BAR],
        params[P_BEAT],
        strong_offsets,
        params[P_TONIC],
        chord_starts,
        chord_masks,
        chord_roots,
        out,
    )
    _melodic_features(
        c_onset,
        c_duration,
        c_pitch,
        c_track,
        params,
        strong_offsets,
        chord_starts,
        chord_masks,
        F_IV,
        F_CT,
        F_CONTOUR,
        F_TESS,
        out,
    )
    _rhythm_features(c_onset, c_duration, c_track, params, F_RHYTHM, out)
    r_onset, _, r_pitch, r_track = reference
    p_onset, p_duration, p_pitch, p_track = previous
    _repetition_features(
        c_onset,
        c_pitch,
        c_track,
        r_onset,
        r_pitch,
        r_track,
        p_onset,
        p_duration,
        p_pitch,
        p_track,
        params,
        F_BAR_PITCH,
        F_REF,
        F_PREV,
        out,
    )


@njit(cache=True, parallel=True)
def _batch_kernel(
    offsets: np.ndarray,
    columns: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    reference: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    previous: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    params: np.ndarray,
    section: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    voices: np.ndarray,
    violations: np.ndarray,
    features: np.ndarray,
    pairs: np.ndarray,
) -> None:
    """Fill the outputs for all CSR candidates, spread over numba's threads with ``prange``."""
    for c in prange(offsets.shape[0] - 1):
        _check_candidate(
            c, offsets, columns, reference, previous, params, section, voices, violations,
            features, pairs,
        )  # fmt: skip


@njit(cache=True)
def _batch_kernel_serial(
    offsets: np.ndarray,
    columns: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    reference: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    previous: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    params: np.ndarray,
    section: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    voices: np.ndarray,
    violations: np.ndarray,
    features: np.ndarray,
    pairs: np.ndarray,
) -> None:
    """:func:`_batch_kernel` on one thread, for small batches."""
    for c in range(offsets.shape[0] - 1):
        _check_candidate(
            c, offsets, columns, reference, previous, params, section, voices, violations,
            features, pairs,
        )  # fmt: skip


def _flatten(candidates: Sequence[np.ndarray], length_ticks: int) -> tuple[np.ndarray, ...]:
    """(offsets, onset, duration, pitch, track) int64 arrays; ValueError on malformed notes."""
    counts = np.empty(len(candidates), dtype=np.int64)
    for c, cand in enumerate(candidates):
        if not isinstance(cand, np.ndarray) or cand.dtype != NOTE_DTYPE or cand.ndim != 1:
            got = getattr(cand, "dtype", type(cand).__name__)
            raise ValueError(f"candidate {c} is not a 1-D NoteArray (NOTE_DTYPE), got {got}")
        counts[c] = cand.shape[0]
    offsets = np.zeros(len(candidates) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    # column by column: much faster than concatenating structured arrays
    onset, duration, pitch, track = (
        np.concatenate([cand[field] for cand in candidates], dtype=np.int64)
        for field in ("onset", "duration", "pitch", "track")
    )
    checks = (
        ((onset < 0) | (onset >= length_ticks), f"an onset outside 0 .. {length_ticks - 1}"),
        (duration <= 0, "a non-positive duration"),
        ((pitch < 0) | (pitch > 127), "a pitch outside 0 .. 127"),
        (track < 0, "a negative track"),
    )
    for bad, problem in checks:
        if bad.any():
            row = int(np.argmax(bad))
            c = int(np.searchsorted(offsets, row, side="right") - 1)
            raise ValueError(f"candidate {c} has {problem} (row {row - int(offsets[c])})")
    return offsets, onset, duration, pitch, track


def _segment_columns(
    name: str, notes: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A shared segment's (onset, duration, pitch, track), gathered like a candidate's; four
    empty arrays for None. ValueError naming ``name`` if it is not a well-formed NoteArray."""
    if notes is None:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    if not isinstance(notes, np.ndarray) or notes.dtype != NOTE_DTYPE or notes.ndim != 1:
        raise ValueError(f"{name} is not a 1-D NoteArray (NOTE_DTYPE)")
    cols = [np.ascontiguousarray(notes[f], dtype=np.int64) for f in ("onset", "duration")]
    cols += [np.ascontiguousarray(notes[f], dtype=np.int64) for f in ("pitch", "track")]
    onset, duration, pitch, track = cols
    if (onset < 0).any() or (duration <= 0).any() or (track < 0).any():
        raise ValueError(f"{name} has a negative onset or track or a non-positive duration")
    if ((pitch < 0) | (pitch > 127)).any():
        raise ValueError(f"{name} has a pitch outside 0 .. 127")
    if onset.size and int(onset.max()) >= 1 << 40:
        raise ValueError(f"{name} has an onset >= 2**40")
    gathered = _gather_sorted(onset, duration, pitch, track, 0, onset.size)
    return gathered[0], gathered[1], gathered[2], gathered[3]


def _pitched(notes: np.ndarray) -> np.ndarray:
    """``notes`` without drum notes (the same array when it has none)."""
    if notes.dtype.names is None or "track" not in notes.dtype.names:
        return notes  # malformed: _flatten names the problem
    drums = notes["track"] == TRACK_DRUMS
    return notes[~drums] if drums.any() else notes


def check_batch(
    candidates: Sequence[np.ndarray],
    arrays: SectionArrays,
    *,
    reference: np.ndarray | None = None,
    previous: np.ndarray | None = None,
    previous_length: int | None = None,
) -> BatchResult:
    """Violation counts and features of every candidate for the section described by ``arrays``.

    ``candidates`` are NoteArrays (:data:`kernels.notes.NOTE_DTYPE`) with times relative to the
    section start, in any row order. Every onset must lie in ``0 .. length_ticks - 1``; notes
    may ring past the section end. An empty candidate is valid (zero counts, the features'
    empty-case values); an empty list gives arrays of shape ``(0, k)``.

    Optional, shared by all candidates: ``reference``, a NoteArray the section repeats or varies
    (times relative to this section's start; feeds the ``ref_*`` features), and ``previous``,
    the segment the candidates follow (times relative to ITS start) with ``previous_length``,
    its section length in ticks (feeds the ``boundary_*`` features). Raises ValueError on a
    malformed candidate (naming it) or segment, or ``previous`` without ``previous_length``.
    Drum notes (track :data:`kernels.notes.TRACK_DRUMS`) are left out: a drum's note number is
    an instrument, not a pitch, so no constraint or feature reads it; unless ``arrays.voices``
    names that track as a voice (a four-part chorale's fourth voice).
    """
    if not isinstance(arrays, SectionArrays):
        raise TypeError(f"arrays must be a SectionArrays, got {type(arrays).__name__}")
    if TRACK_DRUMS not in arrays.voices:
        candidates = [_pitched(c) for c in candidates]
        reference = None if reference is None else _pitched(reference)
        previous = None if previous is None else _pitched(previous)
    if (previous is None) != (previous_length is None):
        raise ValueError("previous and previous_length must be given together")
    if previous_length is not None and not 1 <= int(previous_length) < 1 << 40:
        raise ValueError(f"previous_length = {previous_length} is outside 1 .. 2**40 - 1")
    voices = tuple(int(v) for v in arrays.voices)
    n_v, n_f = len(VIOLATIONS), len(FEATURES)
    n_pairs = len(voice_pairs(len(voices)))
    shape_pairs = (len(candidates), n_pairs, len(VOICE_PAIR_COUNTS))
    if len(candidates) == 0:
        return BatchResult(
            np.zeros((0, n_v), dtype=np.int64),
            np.zeros((0, n_f)),
            np.zeros(shape_pairs, dtype=np.int64),
            voices,
        )
    ref_cols = _segment_columns("reference", reference)
    prev_cols = _segment_columns("previous", previous)
    offsets, onset, duration, pitch, track = _flatten(candidates, int(arrays.length_ticks))
    violations = np.zeros((len(candidates), n_v), dtype=np.int64)
    feats = np.zeros((len(candidates), n_f), dtype=np.float64)
    pairs = np.zeros(shape_pairs, dtype=np.int64)
    section = (
        arrays.strong_offsets,
        arrays.chord_starts,
        arrays.chord_masks,
        arrays.chord_roots,
        np.stack([arrays.track_low, arrays.track_high]),
    )
    params = arrays.params(reference is not None, previous_length)
    kernel = _batch_kernel if onset.size >= PARALLEL_MIN_NOTES else _batch_kernel_serial
    kernel(
        offsets,
        (onset, duration, pitch, track),
        ref_cols,
        prev_cols,
        params,
        section,
        arrays.voices,
        violations,
        feats,
        pairs,
    )
    return BatchResult(violations, feats, pairs, voices)


def share_cache_stamp(modules: Sequence[ModuleType]) -> None:
    """Key the on-disk cache of every njit kernel in ``modules`` on all of their sources.

    Replaces each cache's per-file source stamp with a SHA-256 of the concatenated module files,
    so a change to any of them invalidates every kernel (numba otherwise misses edits to
    callees in other files). A no-op if numba's cache internals are not as expected.
    """
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(str(module.__file__)).read_bytes())
    stamp = digest.digest()
    for module in modules:
        for value in vars(module).values():
            cache_file = getattr(getattr(value, "_cache", None), "_cache_file", None)
            if cache_file is not None and hasattr(cache_file, "_source_stamp"):
                cache_file._source_stamp = stamp


share_cache_stamp(
    (
        notes,
        context,
        voiceleading,
        gather,
        checker,
        features,
        melodic,
        rhythm,
        repetition,
        sys.modules[__name__],
    )
)
