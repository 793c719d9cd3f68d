"""SectionArrays: one section plan flattened into the scalars and int64 arrays the kernels read.

Everything is in ticks (see :data:`kernels.notes.TICKS_PER_BEAT`) relative to the section start,
and pitch classes are ``pitch % 12`` (0 = C .. 11 = B). A "12-bit mask" has bit ``pc`` set
(``1 << pc``) for every allowed pitch class, so it lies in ``0 .. 4095``.

The chord timeline is a partition of ``[0, length_ticks)`` into half-open spans
``[chord_starts[i], chord_ends[i])``; "the chord at tick t" is the span containing ``t``, clamped
to the first chord for ``t < 0`` and to the last chord for ``t >= length_ticks``.
:meth:`SectionArrays.chord_index_at` (plain Python) and :func:`_chord_index` (the njit twin used
inside kernels) implement exactly that rule.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np
from numba import njit

# Onsets are packed into 40 bits of a sort key inside the batch kernel (see kernels.batch).
MAX_LENGTH_TICKS = 1 << 40

# The monophonic voices checked for voice leading when a plan names none: melody over bass.
DEFAULT_VOICES = (0, 2)
# Default instrument ranges (MIDI low, high) of the chords and bass tracks; the melody's range is
# the section's melody_low .. melody_high. Chords: C2..C7 (a keyboard's comfortable compass);
# bass: E1..G4 (a four-string bass guitar or a cello's bass register).
DEFAULT_CHORDS_RANGE = (36, 96)
DEFAULT_BASS_RANGE = (28, 67)


# Layout of the int64 ``params`` vector the batch kernels read (see section_params): the
# section's scalars, then what the batch was given besides the candidates.
(
    P_LENGTH,
    P_BAR,
    P_BEAT,
    P_SCALE_MASK,
    P_TONIC,
    P_MELODY_LOW,
    P_MELODY_HIGH,
    P_HAS_REFERENCE,  # 1 if a reference segment was given, else 0
    P_HAS_PREVIOUS,  # 1 if a previous segment was given, else 0
    P_PREVIOUS_LENGTH,  # the previous segment's section length in ticks (0 if none)
) = range(10)
N_PARAMS = 10


def _empty_int64() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@njit(cache=True)
def _chord_index(chord_starts: np.ndarray, tick: int) -> int:
    """Index of the chord sounding at ``tick``: the last ``i`` with ``chord_starts[i] <= tick``.

    Range ``0 .. len(chord_starts) - 1`` (ticks before the first start map to 0). Binary search
    over the sorted ``chord_starts``; njit twin of :meth:`SectionArrays.chord_index_at`.
    """
    lo = 0
    hi = chord_starts.shape[0]
    while lo < hi:  # first index with chord_starts[index] > tick
        mid = (lo + hi) // 2
        if chord_starts[mid] <= tick:
            lo = mid + 1
        else:
            hi = mid
    return max(lo - 1, 0)


ARRAY_FIELDS = (
    "strong_offsets",
    "chord_starts",
    "chord_ends",
    "chord_masks",
    "chord_roots",
    "voices",
    "track_low",
    "track_high",
)


def _as_int64_vector(name: str, value: object) -> np.ndarray:
    """``value`` as a read-only, contiguous 1-D int64 array; ValueError naming ``name`` if not."""
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise ValueError(f"SectionArrays.{name} must be 1-D, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise ValueError(f"SectionArrays.{name} must hold integers, got dtype {arr.dtype}")
    out = np.ascontiguousarray(arr, dtype=np.int64)
    out.flags.writeable = False
    return out


def _check_int(name: str, value: object, low: int, high: int) -> None:
    """ValueError unless ``value`` is an integer in ``low .. high`` (inclusive)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"SectionArrays.{name} must be an int, got {type(value).__name__}")
    if not low <= int(value) <= high:
        raise ValueError(f"SectionArrays.{name} = {value} is outside {low}..{high}")


@dataclass(frozen=True)
class SectionArrays:
    """What the kernels need to know about one section plan, as arrays.

    Attributes:
        length_ticks: section length in ticks, ``1 .. 2**40 - 1``.
        bar_ticks: ticks per bar, ``>= 1`` (1920 in 4/4, 1440 in 6/8).
        beat_ticks: ticks per felt beat, ``>= 1`` (a dotted quarter = 720 in 6/8).
        strong_offsets: int64, tick offsets within a bar that are strong beats, each in
            ``0 .. bar_ticks - 1`` (e.g. ``[0, 960]`` in 4/4).
        scale_mask: 12-bit mask of the pitch classes of the section's key (with the melody
            plan's blue notes, where it has any), ``0 .. 4095``.
        tonic: pitch class of the key's tonic, ``0 .. 11``.
        chord_starts: int64, strictly increasing, ``chord_starts[0] == 0``; chord ``i`` spans
            ``[chord_starts[i], chord_ends[i])``.
        chord_ends: int64, ``chord_ends[i] == chord_starts[i + 1]``,
            ``chord_ends[-1] == length_ticks``.
        chord_masks: int64 12-bit masks of each chord's tones (bass included), ``0 .. 4095``.
        chord_roots: int64 pitch classes of each chord's root, ``0 .. 11``.
        melody_low: lowest allowed melody MIDI pitch, ``0 .. 127``.
        melody_high: highest allowed melody MIDI pitch, ``melody_low .. 127``.
        voices: int64 track numbers of the monophonic voices checked for voice leading
            (parallel/direct fifths and octaves between every pair, crossing and spacing between
            neighbours), listed from the highest voice to the lowest, distinct, each ``>= 0``.
            Optional: empty (the default) means :data:`DEFAULT_VOICES` = melody over bass.
            Chorales use ``[0, 1, 2, 3]`` (S A T B).
        track_low, track_high: int64 instrument ranges indexed by track: notes of track ``t``
            must lie in ``track_low[t] .. track_high[t]``; tracks ``>= len(track_low)`` have no
            range. Optional: empty (the default) means three tracks, melody
            ``melody_low .. melody_high``, chords :data:`DEFAULT_CHORDS_RANGE`, bass
            :data:`DEFAULT_BASS_RANGE`. Both ``0 .. 127``, ``track_low <= track_high``.

    The three optional arrays default to empty and are filled in after validation, so callers
    that build SectionArrays with the twelve original fields by keyword keep working.

    Construction coerces the arrays to read-only contiguous int64 and raises ValueError
    naming the first field that breaks one of the rules above.
    """

    length_ticks: int
    bar_ticks: int
    beat_ticks: int
    strong_offsets: np.ndarray
    scale_mask: int
    tonic: int
    chord_starts: np.ndarray
    chord_ends: np.ndarray
    chord_masks: np.ndarray
    chord_roots: np.ndarray
    melody_low: int
    melody_high: int
    voices: np.ndarray = field(default_factory=_empty_int64)
    track_low: np.ndarray = field(default_factory=_empty_int64)
    track_high: np.ndarray = field(default_factory=_empty_int64)

    def __post_init__(self) -> None:
        _check_int("length_ticks", self.length_ticks, 1, MAX_LENGTH_TICKS - 1)
        _check_int("bar_ticks", self.bar_ticks, 1, MAX_LENGTH_TICKS - 1)
        _check_int("beat_ticks", self.beat_ticks, 1, MAX_LENGTH_TICKS - 1)
        _check_int("scale_mask", self.scale_mask, 0, 4095)
        _check_int("tonic", self.tonic, 0, 11)
        _check_int("melody_low", self.melody_low, 0, 127)
        _check_int("melody_high", self.melody_high, int(self.melody_low), 127)
        for name in ARRAY_FIELDS:
            object.__setattr__(self, name, _as_int64_vector(name, getattr(self, name)))
        self._fill_defaults()

        strong = self.strong_offsets
        if strong.size and (strong.min() < 0 or strong.max() >= self.bar_ticks):
            raise ValueError("SectionArrays.strong_offsets must lie in 0 .. bar_ticks - 1")

        starts, ends = self.chord_starts, self.chord_ends
        n = starts.size
        if n == 0:
            raise ValueError("SectionArrays.chord_starts is empty: a section needs >= 1 chord")
        for name in ("chord_ends", "chord_masks", "chord_roots"):
            if getattr(self, name).size != n:
                raise ValueError(
                    f"SectionArrays.{name} has {getattr(self, name).size} entries, "
                    f"chord_starts has {n}"
                )
        if starts[0] != 0:
            raise ValueError(f"SectionArrays.chord_starts[0] = {starts[0]}, expected 0")
        if ends[-1] != self.length_ticks:
            raise ValueError(
                f"SectionArrays.chord_ends[-1] = {ends[-1]}, expected length_ticks = "
                f"{self.length_ticks}"
            )
        if (ends <= starts).any():
            raise ValueError("SectionArrays.chord_ends must be > chord_starts (non-empty chords)")
        if (ends[:-1] != starts[1:]).any():
            raise ValueError("SectionArrays.chord_ends[i] must equal chord_starts[i + 1]")
        if ((self.chord_masks < 0) | (self.chord_masks > 4095)).any():
            raise ValueError("SectionArrays.chord_masks must be 12-bit masks (0 .. 4095)")
        if ((self.chord_roots < 0) | (self.chord_roots > 11)).any():
            raise ValueError("SectionArrays.chord_roots must be pitch classes (0 .. 11)")

    def _fill_defaults(self) -> None:
        """Validate ``voices`` and the track ranges, replacing empty ones by the defaults."""
        if self.voices.size == 0:
            object.__setattr__(self, "voices", _as_int64_vector("voices", DEFAULT_VOICES))
        if (self.voices < 0).any() or np.unique(self.voices).size != self.voices.size:
            raise ValueError("SectionArrays.voices must be distinct track numbers >= 0")
        if self.track_low.size == 0 and self.track_high.size == 0:
            low = (int(self.melody_low), DEFAULT_CHORDS_RANGE[0], DEFAULT_BASS_RANGE[0])
            high = (int(self.melody_high), DEFAULT_CHORDS_RANGE[1], DEFAULT_BASS_RANGE[1])
            object.__setattr__(self, "track_low", _as_int64_vector("track_low", low))
            object.__setattr__(self, "track_high", _as_int64_vector("track_high", high))
        lo, hi = self.track_low, self.track_high
        if lo.size != hi.size:
            raise ValueError(
                f"SectionArrays.track_high has {hi.size} entries, track_low has {lo.size}"
            )
        if (lo < 0).any() or (hi > 127).any() or (lo > hi).any():
            raise ValueError(
                "SectionArrays.track_low/track_high must satisfy 0 <= low <= high <= 127"
            )

    def params(self, reference: bool = False, previous_length: int | None = None) -> np.ndarray:
        """The int64 ``params`` vector of the batch kernels (``P_*`` indices above)."""
        out = np.zeros(N_PARAMS, dtype=np.int64)
        out[P_LENGTH] = self.length_ticks
        out[P_BAR] = self.bar_ticks
        out[P_BEAT] = self.beat_ticks
        out[P_SCALE_MASK] = self.scale_mask
        out[P_TONIC] = self.tonic
        out[P_MELODY_LOW] = self.melody_low
        out[P_MELODY_HIGH] = self.melody_high
        out[P_HAS_REFERENCE] = int(reference)
        out[P_HAS_PREVIOUS] = int(previous_length is not None)
        out[P_PREVIOUS_LENGTH] = previous_length or 0
        return out

    @property
    def n_bars(self) -> int:
        """Number of (possibly partial) bars: ``ceil(length_ticks / bar_ticks)``, ``>= 1``."""
        return -(-int(self.length_ticks) // int(self.bar_ticks))

    def chord_index_at(self, tick: int) -> int:
        """Index of the chord sounding at ``tick`` (plain Python, bisect).

        The last ``i`` with ``chord_starts[i] <= tick``; 0 for ticks before the section and the
        last chord for ticks at or after ``length_ticks``. Range ``0 .. len(chord_starts) - 1``.
        """
        return max(bisect_right(self.chord_starts, int(tick)) - 1, 0)
