"""Active learning: which A/B pair to ask next, so that few ratings go far.

Among candidate pairs of items, ask the one the personal model learns most from. Two criteria:

- ``"margin"``: the pair whose predicted ``P(A over B)`` is nearest 1/2 (least sure).
- ``"information"`` (default): the expected information the answer gives about the model's
  weights (BALD: the entropy of the predicted answer minus its expected entropy under the
  Laplace posterior, :attr:`PersonalModel.precision`). A pair the model is unsure of *because it
  knows little about that direction* scores high; a pair that is a coin flip however much is
  known (two near-identical items) scores low, which ``margin`` cannot tell apart.

The studio calls :func:`next_pair_for` with a profile name and the kernel feature rows of the
candidates it could play, or :func:`next_pair` with a model and item rows (see
:mod:`composer.preferences.features`); before any rating, the model is None and the prior (the
shipped reward) decides.
"""

from __future__ import annotations

from itertools import combinations
from typing import Literal

import numpy as np

from composer.preferences.features import ITEM_FEATURES, item_features
from composer.preferences.model import DEFAULT_L2, PRIOR_A, PersonalModel
from composer.preferences.profiles import load_profile, versions
from composer.reward_model import default_model

Criterion = Literal["information", "margin"]
MAX_PAIRS = 5000  # all pairs of up to 100 items; a sample of this many beyond
# Gauss-Hermite nodes and weights for an expectation over a standard normal (deterministic)
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(20)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def prior_model(items: np.ndarray) -> PersonalModel:
    """The model before any rating: the shipped reward, the head at 0, standardised over
    ``items``."""
    n = len(ITEM_FEATURES)
    std = items.std(axis=0) if items.shape[0] > 1 else np.ones(n)
    precision = np.diag(np.r_[PRIOR_A, np.full(n, DEFAULT_L2)])
    std = np.where(std > 1e-9, std, 1.0)
    return PersonalModel(items.mean(axis=0), std, 1.0, np.zeros(n), DEFAULT_L2, precision, 0, 1, 0)


def _entropy(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return -(p * np.log(p) + (1 - p) * np.log(1 - p))


def pair_scores(
    model: PersonalModel, a: np.ndarray, b: np.ndarray, criterion: Criterion = "information"
) -> np.ndarray:
    """How worth asking each row pair is (higher = ask first)."""
    shipped = default_model()
    d = model._design(np.atleast_2d(a), shipped) - model._design(np.atleast_2d(b), shipped)
    theta = np.r_[model.a, model.w]
    mean = d @ theta
    if criterion == "margin":
        return -np.abs(mean)
    if criterion != "information":
        raise ValueError(f"criterion: {criterion!r} is not information or margin")
    var = np.einsum("ij,ij->i", d, np.linalg.solve(model.precision, d.T).T)
    f = mean[:, None] + np.sqrt(np.maximum(var, 0.0))[:, None] * _NODES[None, :]
    p = 0.5 * (1.0 + np.tanh(0.5 * f))
    return _entropy(p @ _WEIGHTS) - _entropy(p) @ _WEIGHTS


def next_pair_for(
    profile: str, kernel_rows: np.ndarray, tonic: int | np.ndarray, drums: float | np.ndarray = 0.0
) -> tuple[int, int]:
    """The studio's call: which two of these candidates (kernel feature rows, as
    ``composer.search.batch.check`` gives them, of sections with ``tonic``) to play to the
    listener of ``profile`` next. Before their first ``compose learn`` the prior decides."""
    have = versions(profile)
    model = load_profile(profile) if have else None
    return next_pair(model, item_features(kernel_rows, tonic, drums))


def candidate_pairs(n_items: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """``(m, 2)`` index pairs to choose from: all of them for up to 100 items, else
    :data:`MAX_PAIRS` drawn at random (``rng``, seeded by the caller)."""
    if n_items < 2:
        raise ValueError("at least two items are needed for a pair")
    if n_items * (n_items - 1) // 2 <= MAX_PAIRS:
        return np.array(list(combinations(range(n_items), 2)), dtype=np.int64)
    rng = rng or np.random.default_rng(0)
    a = rng.integers(0, n_items, MAX_PAIRS)
    b = (a + rng.integers(1, n_items, MAX_PAIRS)) % n_items
    return np.stack([a, b], axis=1)


def next_pair(
    model: PersonalModel | None,
    items: np.ndarray,
    pairs: np.ndarray | None = None,
    criterion: Criterion = "information",
    exclude: set[tuple[int, int]] | None = None,
) -> tuple[int, int]:
    """The pair of ``items`` rows (``(n, len(ITEM_FEATURES))``) to ask next: the best by
    ``criterion`` among ``pairs`` (default :func:`candidate_pairs`), skipping pairs in
    ``exclude`` (either order). Ties go to the first."""
    x = np.atleast_2d(np.asarray(items, dtype=np.float64))
    if x.shape[1] != len(ITEM_FEATURES):
        raise ValueError(f"items must be (n, {len(ITEM_FEATURES)}) rows, got {x.shape}")
    p = candidate_pairs(x.shape[0]) if pairs is None else np.asarray(pairs, dtype=np.int64)
    if exclude:
        keep = [
            k
            for k, (i, j) in enumerate(p)
            if (int(i), int(j)) not in exclude and (int(j), int(i)) not in exclude
        ]
        p = p[keep]
    if p.size == 0:
        raise ValueError("no pair left to ask")
    s = pair_scores(
        model if model is not None else prior_model(x), x[p[:, 0]], x[p[:, 1]], criterion
    )
    i, j = p[int(np.argmax(s))]
    return int(i), int(j)
