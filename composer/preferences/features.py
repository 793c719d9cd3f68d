"""What a listener hears in a candidate, as one row of numbers: the personal model's inputs.

A rated item (a candidate of one section, or a section of a whole song) is described by

- the shipped reward model's inputs (:data:`composer.reward_model.INPUTS`: the kernels' features
  of the music itself, pitch classes rotated to the section's tonic, so the minor third is
  ``degree_3`` in every key),
- what that model leaves out on purpose and a listener still hears: how high the melody sits
  (``mean_pitch``, MIDI), how busy the whole band is (``note_density``: notes of melody, chords
  and bass per bar) and how busy the drums are (``drum_density``: drum hits per bar; the kernels
  drop the drum track, so it is counted here from the notes).

:data:`ITEM_FEATURES` names the columns. Rows are built from kernel feature rows (what the
search and the ratings store hold) with :func:`item_features`, or straight from NoteArrays and
their section with :func:`notes_features`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from composer.reward_model import INPUTS, model_inputs
from kernels.batch import check_batch
from kernels.context import SectionArrays
from kernels.features import FEATURES
from kernels.notes import TRACK_DRUMS

EXTRA_FEATURES: tuple[str, ...] = ("mean_pitch", "note_density", "drum_density")
ITEM_FEATURES: tuple[str, ...] = (*INPUTS, *EXTRA_FEATURES)
_EXTRA_COLUMNS = np.array([FEATURES.index(n) for n in EXTRA_FEATURES[:2]])


def item_features(
    kernel_rows: np.ndarray, tonic: int | np.ndarray, drum_density: float | np.ndarray = 0.0
) -> np.ndarray:
    """``(n, len(ITEM_FEATURES))`` rows from kernel feature rows ``(n, len(FEATURES))`` of
    sections whose key has ``tonic`` (one, or one per row), with their drum hits per bar (0 when
    the candidate carries no drums, as the search's candidates do)."""
    f = np.asarray(kernel_rows, dtype=np.float64)
    if f.ndim != 2 or f.shape[1] != len(FEATURES):
        raise ValueError(f"kernel rows must be (n, {len(FEATURES)}), not {f.shape}")
    drums = np.broadcast_to(np.asarray(drum_density, dtype=np.float64), (f.shape[0],))
    return np.concatenate([model_inputs(f, tonic), f[:, _EXTRA_COLUMNS], drums[:, None]], axis=1)


def drum_density(notes: np.ndarray, bars: float) -> float:
    """Drum hits (notes of the drum track) per bar of a NoteArray ``bars`` bars long."""
    return float(np.count_nonzero(notes["track"] == TRACK_DRUMS)) / max(bars, 1e-9)


def notes_features(candidates: Sequence[np.ndarray], arrays: SectionArrays) -> np.ndarray:
    """Item rows of NoteArrays (ticks from the section start) of one section: the kernels'
    features in one batched call, plus the drums counted from the notes."""
    result = check_batch(list(candidates), arrays)
    bars = arrays.length_ticks / arrays.bar_ticks
    drums = np.array([drum_density(c, bars) for c in candidates])
    return item_features(result.features, arrays.tonic, drums)


def column(name: str) -> int:
    """The index of a feature in :data:`ITEM_FEATURES` (KeyError naming it if absent)."""
    try:
        return ITEM_FEATURES.index(name)
    except ValueError:
        raise KeyError(f"no item feature {name!r}") from None
