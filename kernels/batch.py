"""check_batch: check and featurise many candidates for one section in one kernel call.

The wrapper validates the NoteArrays, concatenates their columns into flat int64 arrays with a
CSR ``offsets`` array (``n + 1`` entries; candidate ``c`` owns rows ``offsets[c]:offsets[c+1]``)
and calls :func:`_batch_kernel` once (:func:`_batch_kernel_serial` for batches under
:data:`PARALLEL_MIN_NOTES` notes). The kernel runs a ``prange`` over candidates; each
candidate's rows are grouped there by track (melody, chords, bass, others), the first three
sorted by (onset, pitch, duration) -- so callers may pass rows in any order -- and handed to
:func:`kernels.checker._candidate_violations` and :func:`kernels.features._candidate_features`.

Numba's on-disk cache keys each kernel on a hash of ITS OWN source file only, so editing
``kernels/checker.py`` would leave a cached ``_batch_kernel`` (which inlines the checker) stale.
:func:`_share_cache_stamp` therefore stamps every kernel cache in the package with one hash of all
kernel modules at import, so editing any of them recompiles all. It touches numba internals and
degrades to numba's default behaviour if those change; if in doubt, delete
``kernels/__pycache__/*.nbi``.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
from numba import njit, prange

from kernels import checker, context, features, notes
from kernels.checker import VIOLATIONS, _candidate_violations
from kernels.context import SectionArrays
from kernels.features import FEATURES, _candidate_features
from kernels.notes import NOTE_DTYPE

# Sort key inside the kernel: onset (< 2**40, see SectionArrays) above pitch (7 bits).
_ONSET_SHIFT = 7


@dataclass(frozen=True)
class BatchResult:
    """Violation counts and features of a batch of candidates, row ``i`` = candidate ``i``.

    Attributes:
        violations: ``(n_candidates, len(VIOLATIONS))`` int64 counts, columns named by
            :data:`kernels.checker.VIOLATIONS` (``>= 0``; 0 is clean).
        features: ``(n_candidates, len(FEATURES))`` float64, columns named by
            :data:`kernels.features.FEATURES`.
    """

    violations: np.ndarray
    features: np.ndarray

    def violation_dict(self, i: int) -> dict[str, int]:
        """Candidate ``i``'s violation counts by name."""
        row = self.violations[i]
        return {name: int(row[k]) for k, name in enumerate(VIOLATIONS)}

    def feature_dict(self, i: int) -> dict[str, float]:
        """Candidate ``i``'s features by name."""
        row = self.features[i]
        return {name: float(row[k]) for k, name in enumerate(FEATURES)}


@njit(cache=True)
def _sort_segment(
    onset: np.ndarray, duration: np.ndarray, pitch: np.ndarray, a: int, b: int
) -> None:
    """Sort rows ``[a, b)`` of the three columns in place by (onset, pitch, duration).

    O(n) when already sorted (the usual case: canonical NoteArrays filtered to one track);
    otherwise an argsort of the packed key (onset, pitch) then an insertion pass that orders
    the (rare, short) runs of equal keys by duration. Rows equal in all three are
    interchangeable for every kernel, so the result is a function of the multiset of rows.
    """
    is_sorted = True
    for i in range(a + 1, b):
        if (onset[i], pitch[i], duration[i]) < (onset[i - 1], pitch[i - 1], duration[i - 1]):
            is_sorted = False
            break
    if is_sorted:
        return
    n = b - a
    key = np.empty(n, dtype=np.int64)
    for i in range(n):
        key[i] = (onset[a + i] << _ONSET_SHIFT) | pitch[a + i]
    order = np.argsort(key)
    s_key = key[order]
    s_onset = onset[a:b][order]
    s_duration = duration[a:b][order]
    s_pitch = pitch[a:b][order]
    for i in range(1, n):  # order equal keys by duration (insertion sort within runs)
        k, d = s_key[i], s_duration[i]
        j = i - 1
        while j >= 0 and s_key[j] == k and s_duration[j] > d:
            s_duration[j + 1] = s_duration[j]
            j -= 1
        s_duration[j + 1] = d  # rows in a run share onset and pitch: only durations move
    onset[a:b] = s_onset
    duration[a:b] = s_duration
    pitch[a:b] = s_pitch


@njit(cache=True)
def _gather_sorted(
    onset: np.ndarray, duration: np.ndarray, pitch: np.ndarray, track: np.ndarray, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows ``[lo, hi)`` copied out in the order the per-candidate kernels expect.

    A stable partition into melody, chords, bass, then every other track (whose rows only
    feed the order-free out_of_key count, so they stay in input order), and each of the
    first three sorted by (onset, pitch, duration) with :func:`_sort_segment`.
    """
    n = hi - lo
    counts = np.zeros(4, dtype=np.int64)
    for r in range(lo, hi):
        counts[min(track[r], 3)] += 1
    pos = np.zeros(4, dtype=np.int64)
    for t in range(1, 4):
        pos[t] = pos[t - 1] + counts[t - 1]
    c_onset = np.empty(n, dtype=np.int64)
    c_duration = np.empty(n, dtype=np.int64)
    c_pitch = np.empty(n, dtype=np.int64)
    c_track = np.empty(n, dtype=np.int64)
    for r in range(lo, hi):
        g = min(track[r], 3)
        p = pos[g]
        pos[g] += 1
        c_onset[p] = onset[r]
        c_duration[p] = duration[r]
        c_pitch[p] = pitch[r]
        c_track[p] = track[r]
    a = 0
    for t in range(3):
        _sort_segment(c_onset, c_duration, c_pitch, a, a + counts[t])
        a += counts[t]
    return c_onset, c_duration, c_pitch, c_track


# Layout of the int64 ``params`` vector the batch kernels read (see _section_params).
P_LENGTH, P_BAR, P_BEAT, P_SCALE_MASK, P_TONIC, P_MELODY_LOW, P_MELODY_HIGH = range(7)

# Below this many notes in a batch the serial kernel is used: waking the thread pool costs more
# than it saves (and much more on an oversubscribed machine). Tests set it to 0 to force prange.
PARALLEL_MIN_NOTES = 8192


@njit(cache=True)
def _check_candidate(
    c: int,
    offsets: np.ndarray,
    onset: np.ndarray,
    duration: np.ndarray,
    pitch: np.ndarray,
    track: np.ndarray,
    params: np.ndarray,
    strong_offsets: np.ndarray,
    chord_starts: np.ndarray,
    chord_masks: np.ndarray,
    chord_roots: np.ndarray,
    violations: np.ndarray,
    features: np.ndarray,
) -> None:
    """Fill ``violations[c]`` and ``features[c]`` for candidate ``c`` of the CSR batch."""
    c_onset, c_duration, c_pitch, c_track = _gather_sorted(
        onset, duration, pitch, track, offsets[c], offsets[c + 1]
    )
    _candidate_violations(
        c_onset,
        c_duration,
        c_pitch,
        c_track,
        params[P_SCALE_MASK],
        chord_starts,
        chord_masks,
        params[P_MELODY_LOW],
        params[P_MELODY_HIGH],
        violations[c],
    )
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
        features[c],
    )


@njit(cache=True, parallel=True)
def _batch_kernel(
    offsets: np.ndarray,
    onset: np.ndarray,
    duration: np.ndarray,
    pitch: np.ndarray,
    track: np.ndarray,
    params: np.ndarray,
    strong_offsets: np.ndarray,
    chord_starts: np.ndarray,
    chord_masks: np.ndarray,
    chord_roots: np.ndarray,
    violations: np.ndarray,
    features: np.ndarray,
) -> None:
    """Fill ``violations`` (n, 7) and ``features`` (n, len(FEATURES)) for all ``n`` CSR candidates,
    candidates spread over numba's threads with ``prange``."""
    for c in prange(offsets.shape[0] - 1):
        _check_candidate(
            c,
            offsets,
            onset,
            duration,
            pitch,
            track,
            params,
            strong_offsets,
            chord_starts,
            chord_masks,
            chord_roots,
            violations,
            features,
        )


@njit(cache=True)
def _batch_kernel_serial(
    offsets: np.ndarray,
    onset: np.ndarray,
    duration: np.ndarray,
    pitch: np.ndarray,
    track: np.ndarray,
    params: np.ndarray,
    strong_offsets: np.ndarray,
    chord_starts: np.ndarray,
    chord_masks: np.ndarray,
    chord_roots: np.ndarray,
    violations: np.ndarray,
    features: np.ndarray,
) -> None:
    """:func:`_batch_kernel` on one thread, for small batches."""
    for c in range(offsets.shape[0] - 1):
        _check_candidate(
            c,
            offsets,
            onset,
            duration,
            pitch,
            track,
            params,
            strong_offsets,
            chord_starts,
            chord_masks,
            chord_roots,
            violations,
            features,
        )


def _section_params(arrays: SectionArrays) -> np.ndarray:
    """The scalar fields of ``arrays`` as the int64 ``params`` vector (P_* indices)."""
    params = np.empty(7, dtype=np.int64)
    params[P_LENGTH] = arrays.length_ticks
    params[P_BAR] = arrays.bar_ticks
    params[P_BEAT] = arrays.beat_ticks
    params[P_SCALE_MASK] = arrays.scale_mask
    params[P_TONIC] = arrays.tonic
    params[P_MELODY_LOW] = arrays.melody_low
    params[P_MELODY_HIGH] = arrays.melody_high
    return params


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


def check_batch(candidates: Sequence[np.ndarray], arrays: SectionArrays) -> BatchResult:
    """Violation counts and features of every candidate for the section described by ``arrays``.

    ``candidates`` are NoteArrays (:data:`kernels.notes.NOTE_DTYPE`) with times relative to the
    section start, in any row order. Every onset must lie in ``0 .. length_ticks - 1``; notes
    may ring past the section end. An empty candidate is valid (zero counts, the features'
    empty-case values); an empty list gives arrays of shape ``(0, k)``. Raises ValueError on a
    malformed candidate, naming it.
    """
    if not isinstance(arrays, SectionArrays):
        raise TypeError(f"arrays must be a SectionArrays, got {type(arrays).__name__}")
    n_v, n_f = len(VIOLATIONS), len(FEATURES)
    if len(candidates) == 0:
        return BatchResult(np.zeros((0, n_v), dtype=np.int64), np.zeros((0, n_f)))
    offsets, onset, duration, pitch, track = _flatten(candidates, int(arrays.length_ticks))
    violations = np.zeros((len(candidates), n_v), dtype=np.int64)
    features = np.zeros((len(candidates), n_f), dtype=np.float64)
    kernel = _batch_kernel if onset.size >= PARALLEL_MIN_NOTES else _batch_kernel_serial
    kernel(
        offsets,
        onset,
        duration,
        pitch,
        track,
        _section_params(arrays),
        arrays.strong_offsets,
        arrays.chord_starts,
        arrays.chord_masks,
        arrays.chord_roots,
        violations,
        features,
    )
    return BatchResult(violations, features)


def _share_cache_stamp(modules: Sequence[ModuleType]) -> None:
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


_share_cache_stamp((notes, context, checker, features, sys.modules[__name__]))
