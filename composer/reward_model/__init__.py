"""The learned reward model: a small MLP over kernel features, trained on preference pairs.

At compose time it is plain numpy (:class:`RewardModel`, ~20 µs a candidate): the weights are
read once from ``composer/reward_model/data/reward_model.json``, written by ``compose train-reward``
(:mod:`composer.training.reward`, torch, Bradley-Terry loss). Inputs are the kernels'
features that describe the music itself (:data:`INPUTS`), with the pitch-class histogram
rotated to the section's tonic so the model is key-invariant; absolute pitches, the instrument
range and the boundary with the previous section are left out (the junction scores seams).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from kernels.features import FEATURES

MODEL_PATH = Path(__file__).resolve().parent / "data" / "reward_model.json"
SCHEMA_VERSION = 1

KERNEL_INPUTS: tuple[str, ...] = (
    "melody_density",
    "chord_tone_ratio",
    "strong_chord_tone_ratio",
    "step_ratio",
    "repeat_ratio",
    "leap_ratio",
    "mean_abs_interval",
    "pitch_range",
    "duration_variety",
    "rest_ratio",
    "accomp_chord_tone_ratio",
    "last_duration",
    "last_is_tonic",
    "last_is_chord_tone",
    "syncopation",
    "pc_entropy",
    "contour_changes",
    "bar_rhythm_repetition",
    "bass_root_ratio",
    *(f"iv_{k}" for k in range(13)),
    "weak_beat_chord_tones",
    "offbeat_chord_tones",
    "contour_up_ratio",
    "peak_position",
    "sync_across_beat",
    "bar_notes_std",
    "groove_consistency",
    "bar_pitch_repetition",
    "has_reference",
    "ref_onset_similarity",
    "ref_note_similarity",
    "ref_bar_match",
)
INPUTS: tuple[str, ...] = (*KERNEL_INPUTS, *(f"degree_{k}" for k in range(12)))
_COLUMNS = np.array([FEATURES.index(n) for n in KERNEL_INPUTS])
_PC = np.array([FEATURES.index(f"pc_{k}") for k in range(12)])


def model_inputs(features: np.ndarray, tonic: int | np.ndarray) -> np.ndarray:
    """The model's input matrix from kernel feature rows ``(n, len(FEATURES))``: the columns
    named in KERNEL_INPUTS, then the pitch-class shares rotated so column ``degree_k`` is the
    share of the pitch class ``k`` semitones above ``tonic`` (one tonic, or one per row)."""
    f = np.asarray(features, dtype=np.float64)
    tonics = np.broadcast_to(np.asarray(tonic, dtype=np.int64), (f.shape[0],))
    pcs = f[:, _PC]
    idx = (tonics[:, None] + np.arange(12)[None, :]) % 12
    degrees = np.take_along_axis(pcs, idx, axis=1)
    return np.concatenate([f[:, _COLUMNS], degrees], axis=1)


class SegmentScorer(Protocol):
    """What the search's ``learned`` reward calls: the shipped :class:`RewardModel`, or a
    listener's personal model (:mod:`composer.preferences.model`). ``meta['name']`` goes into
    the report."""

    @property
    def meta(self) -> dict[str, Any]: ...

    def score(self, features: np.ndarray, tonic: int) -> np.ndarray: ...


@dataclass(frozen=True)
class RewardModel:
    """``logit = w2 . tanh(W1 ((x - mean) / std) + b1) + b2``; the reward is
    ``sigmoid((logit - center) / scale)``, where center and scale are the mean and standard
    deviation of the logits of the training segments, so rewards spread over (0, 1)."""

    mean: np.ndarray
    std: np.ndarray
    w1: np.ndarray  # (hidden, inputs)
    b1: np.ndarray
    w2: np.ndarray  # (hidden,)
    b2: float
    center: float
    scale: float
    meta: dict[str, Any]

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Raw scores of model-input rows (see :func:`model_inputs`); higher = preferred."""
        h = np.tanh(((x - self.mean) / self.std) @ self.w1.T + self.b1)
        return h @ self.w2 + self.b2

    def score(self, features: np.ndarray, tonic: int) -> np.ndarray:
        """Reward in (0, 1) of each kernel-feature row of a section whose key has ``tonic``."""
        z = (self.logits(model_inputs(features, tonic)) - self.center) / self.scale
        return 1.0 / (1.0 + np.exp(-z))

    def to_json(self) -> str:
        data = {
            "schema_version": SCHEMA_VERSION,
            "inputs": list(INPUTS),
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "w1": self.w1.tolist(),
            "b1": self.b1.tolist(),
            "w2": self.w2.tolist(),
            "b2": self.b2,
            "center": self.center,
            "scale": self.scale,
            "meta": self.meta,
        }
        return json.dumps(data, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> RewardModel:
        d = json.loads(text)
        if d.get("schema_version") != SCHEMA_VERSION or tuple(d["inputs"]) != INPUTS:
            raise ValueError("reward model was trained on other inputs: run compose train-reward")
        return cls(
            np.array(d["mean"]),
            np.array(d["std"]),
            np.array(d["w1"]),
            np.array(d["b1"]),
            np.array(d["w2"]),
            float(d["b2"]),
            float(d["center"]),
            float(d["scale"]),
            d.get("meta", {}),
        )


@lru_cache(maxsize=1)
def default_model() -> RewardModel | None:
    """The shipped model, loaded once; None if the file is absent (rule rewards only)."""
    if not MODEL_PATH.is_file():
        return None
    return RewardModel.from_json(MODEL_PATH.read_text(encoding="utf-8"))
