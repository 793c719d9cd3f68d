"""The personal reward model: Bradley-Terry on top of the shipped reward model.

A listener's utility of an item row ``x`` (:data:`composer.preferences.features.ITEM_FEATURES`) is

    u(x) = a * s(x) + w . z(x),     z = (x - mean) / std   (per column, over the rated items)

where ``s`` is the shipped reward model's standardised logit (:mod:`composer.reward_model`;
0 without it) and ``w . z`` a linear head over every item feature. ``P(A over B) =
sigmoid(u(A) - u(B))``. The prior is the shipped reward: ``a ~ N(1, 1/prior_a)``, ``w ~ N(0,
1/l2)``, so with no ratings the model *is* the shipped reward, and a few ratings move only the
directions they speak for (20 ratings help, they do not overfit 60 weights). Each head weight's
prior precision starts at ``l2`` and is then set by automatic relevance determination (see
:func:`_solve`), so a taste carried by a few features is found among all of them. Fitting is a
maximum a posteriori Newton solve (convex; a few ms); the Hessian at the optimum is the Laplace
posterior's precision, which active learning reads (:mod:`composer.preferences.active`).
``l2`` is chosen among :data:`L2_GRID` by cross-validated log-likelihood once there are enough
ratings.

Outcomes: 1.0 = A preferred, 0.0 = B, 0.5 = a tie (half a win each way).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from composer.preferences.features import ITEM_FEATURES, item_features
from composer.reward_model import INPUTS, RewardModel, default_model

SCHEMA_VERSION = 1
L2_GRID = (1.0, 3.0, 10.0, 30.0)
DEFAULT_L2 = 3.0  # below MIN_CV_RATINGS: a prior strong enough for 10 ratings
PRIOR_A = 1.0  # precision of the prior on the shipped reward's weight
MIN_CV_RATINGS = 16  # fewer: no inner cross-validation of l2 (folds too small to mean much)
FOLDS = 5
ARD_ROUNDS = 10
# What moves a profile's choice off the default (harmony, arrangement): the listener's gain in
# the model's logit units (0.1 is a 52.5% preference, less one could not tell) ...
MARGIN = 0.1
CONFIDENCE = 2.0  # ... and this many posterior standard deviations above zero


def _shipped_logit(x: np.ndarray, model: RewardModel | None) -> np.ndarray:
    if model is None:
        return np.zeros(x.shape[0])
    return (model.logits(x[:, : len(INPUTS)]) - model.center) / model.scale


def _sigmoid(m: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * m))


@dataclass(frozen=True)
class PersonalModel:
    """A fitted personal reward (see the module docstring). ``center``/``scale``: mean and
    standard deviation of ``u`` over the rated items, so :meth:`score` spreads over (0, 1)."""

    mean: np.ndarray
    std: np.ndarray
    a: float
    w: np.ndarray
    l2: float
    precision: np.ndarray  # Laplace posterior precision over (a, w)
    center: float
    scale: float
    ratings: int
    meta: dict[str, Any] = field(default_factory=dict)

    def _design(self, x: np.ndarray, shipped: RewardModel | None) -> np.ndarray:
        z = (x - self.mean) / self.std
        return np.concatenate([_shipped_logit(x, shipped)[:, None], z], axis=1)

    def utility(self, items: np.ndarray) -> np.ndarray:
        """u of each item row; higher = this listener likes it more."""
        x = np.atleast_2d(np.asarray(items, dtype=np.float64))
        return self._design(x, default_model()) @ np.concatenate([[self.a], self.w])

    def head(self, items: np.ndarray) -> np.ndarray:
        """``w . z`` of each item row: what the ratings taught, without the shipped reward's
        term (for rows the shipped model was not trained on, such as a band without melody)."""
        x = np.atleast_2d(np.asarray(items, dtype=np.float64))
        return ((x - self.mean) / self.std) @ self.w

    def gain(
        self, a: np.ndarray, b: np.ndarray, *, head_only: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """How much more the listener likes each row of ``a`` than the row of ``b`` beside it:
        ``u(a) - u(b)`` and its standard deviation under the Laplace posterior (the ratings'
        uncertainty about the weights). ``head_only``: without the shipped reward's term."""
        a, b = (np.atleast_2d(np.asarray(v, dtype=np.float64)) for v in (a, b))
        shipped = None if head_only else default_model()
        d = self._design(a, shipped) - self._design(b, shipped)
        mean = d @ np.concatenate([[self.a], self.w])
        var = np.einsum("ij,ij->i", d, np.linalg.solve(self.precision, d.T).T)
        return mean, np.sqrt(np.maximum(var, 0.0))

    def prefer(self, rows: np.ndarray, *, head_only: bool = False, margin: float = MARGIN) -> int:
        """The row (an option's features) the listener prefers over row 0 (the default) by
        more than ``margin`` and :data:`CONFIDENCE` posterior standard deviations, the best
        such; 0 when none is (a taste the ratings did not teach moves nothing)."""
        gain, sd = self.gain(rows, np.repeat(rows[:1], len(rows), axis=0), head_only=head_only)
        ok = (gain > margin) & (gain > CONFIDENCE * sd)
        return int(np.argmax(np.where(ok, gain, -np.inf))) if ok.any() else 0

    def prob(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """P(A preferred over B) per row pair."""
        return _sigmoid(self.utility(a) - self.utility(b))

    def score(self, features: np.ndarray, tonic: int) -> np.ndarray:
        """The personal reward in (0, 1) of kernel feature rows of a section with ``tonic``
        (the search's learned-reward slot: same call as :meth:`RewardModel.score`). The
        search's candidates carry no drums, so drum density is 0 for all of them alike."""
        z = (self.utility(item_features(features, tonic)) - self.center) / self.scale
        return 1.0 / (1.0 + np.exp(-z))

    def to_json(self) -> str:
        data = {
            "schema_version": SCHEMA_VERSION,
            "inputs": list(ITEM_FEATURES),
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "a": self.a,
            "w": self.w.tolist(),
            "l2": self.l2,
            "precision": self.precision.tolist(),
            "center": self.center,
            "scale": self.scale,
            "ratings": self.ratings,
            "meta": self.meta,
        }
        return json.dumps(data, indent=1, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> PersonalModel:
        """Read :meth:`to_json`'s text; ValueError naming what is wrong."""
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON ({exc.msg})") from None
        if not isinstance(d, dict) or d.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"not a schema_version {SCHEMA_VERSION} personal model")
        if tuple(d.get("inputs", ())) != ITEM_FEATURES:
            raise ValueError("fitted on other features: run compose learn again")
        n = len(ITEM_FEATURES)
        try:
            m = cls(
                np.array(d["mean"], dtype=np.float64),
                np.array(d["std"], dtype=np.float64),
                float(d["a"]),
                np.array(d["w"], dtype=np.float64),
                float(d["l2"]),
                np.array(d["precision"], dtype=np.float64),
                float(d["center"]),
                float(d["scale"]),
                int(d["ratings"]),
                dict(d.get("meta", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"a field is missing or malformed ({exc})") from None
        shapes = (m.mean.shape, m.std.shape, m.w.shape, m.precision.shape)
        if shapes != ((n,), (n,), (n,), (n + 1, n + 1)) or not m.scale > 0:
            raise ValueError("arrays of the wrong shape")
        return m


def _newton(
    d: np.ndarray, o: np.ndarray, prior: np.ndarray, lam: np.ndarray, theta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """MAP of theta for P = sigmoid(D theta) with outcomes o and a Gaussian prior (mean
    ``prior``, diagonal precision ``lam``), from ``theta``; returns theta and the precision."""
    for _ in range(50):
        p = _sigmoid(d @ theta)
        grad = d.T @ (p - o) + lam * (theta - prior)
        hess = (d * (p * (1 - p))[:, None]).T @ d + np.diag(lam)
        step = np.linalg.solve(hess, grad)
        theta = theta - step
        if np.max(np.abs(step)) < 1e-8:
            break
    p = _sigmoid(d @ theta)
    return theta, (d * (p * (1 - p))[:, None]).T @ d + np.diag(lam)


def _solve(
    d: np.ndarray, o: np.ndarray, prior: np.ndarray, l2: float
) -> tuple[np.ndarray, np.ndarray]:
    """The head's prior precision per feature by automatic relevance determination (MacKay):
    start every weight at precision ``l2``, then alternate a MAP solve with
    ``lam_k = 1 / (w_k^2 + posterior variance_k)``, kept within [l2 / 100, 1e4] so that no
    weight is freed of the prior entirely. A taste that lives in a few features is then found
    from a few dozen ratings among 59 features; the shipped reward's weight keeps PRIOR_A."""
    lam = np.full(d.shape[1], l2)
    lam[0] = PRIOR_A
    theta, precision = _newton(d, o, prior, lam, prior.copy())
    for _ in range(ARD_ROUNDS):
        var = np.diag(np.linalg.inv(precision))
        lam[1:] = np.clip(1.0 / (theta[1:] ** 2 + var[1:]), l2 / 100.0, 1e4)
        theta, precision = _newton(d, o, prior, lam, theta)
    return theta, precision


def _check(a: np.ndarray, b: np.ndarray, outcome: np.ndarray) -> None:
    if a.shape != b.shape or a.ndim != 2 or a.shape[1] != len(ITEM_FEATURES):
        raise ValueError(
            f"A and B must be (n, {len(ITEM_FEATURES)}) rows, got {a.shape}, {b.shape}"
        )
    if outcome.shape != (a.shape[0],) or not np.isin(outcome, (0.0, 0.5, 1.0)).all():
        raise ValueError("outcomes must be 1 (A), 0 (B) or 0.5 (tie), one per pair")


def fit(
    a: np.ndarray,
    b: np.ndarray,
    outcome: Sequence[float] | np.ndarray,
    *,
    l2: float | None = None,
    meta: dict[str, Any] | None = None,
) -> PersonalModel:
    """Fit a personal model to rated pairs: item rows ``a`` and ``b`` ``(n, len(ITEM_FEATURES))``
    and each outcome. ``l2`` None: chosen by cross-validation (:data:`L2_GRID`) from
    :data:`MIN_CV_RATINGS` ratings on, else :data:`DEFAULT_L2`."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    o = np.asarray(outcome, dtype=np.float64)
    _check(a, b, o)
    if l2 is None:
        l2 = DEFAULT_L2 if o.size < MIN_CV_RATINGS else _choose_l2(a, b, o)
    items = np.concatenate([a, b])
    mean = items.mean(axis=0) if items.size else np.zeros(len(ITEM_FEATURES))
    std = items.std(axis=0) if items.size else np.ones(len(ITEM_FEATURES))
    std = np.where(std > 1e-9, std, 1.0)  # a constant column: z = 0 on every rated item, w = 0
    shipped = default_model()
    base = PersonalModel(mean, std, 1.0, np.zeros(len(ITEM_FEATURES)), l2, np.eye(1), 0.0, 1.0, 0)
    d = base._design(a, shipped) - base._design(b, shipped)
    prior = np.zeros(d.shape[1])
    prior[0] = 1.0
    theta, precision = _solve(d, o, prior, l2)
    u = base._design(items, shipped) @ theta if items.size else np.zeros(1)
    scale = float(u.std()) if u.size > 1 and u.std() > 1e-9 else 1.0
    return PersonalModel(
        mean,
        std,
        float(theta[0]),
        theta[1:],
        float(l2),
        precision,
        float(u.mean()),
        scale,
        int(o.size),
        dict(meta or {}),
    )


def _folds(n: int, k: int) -> list[np.ndarray]:
    """Held-out index sets of a k-fold split (interleaved, deterministic)."""
    k = max(2, min(k, n))
    return [np.arange(i, n, k) for i in range(k)]


def _loglik(m: PersonalModel, a: np.ndarray, b: np.ndarray, o: np.ndarray) -> float:
    p = np.clip(m.prob(a, b), 1e-9, 1 - 1e-9)
    return float(np.sum(o * np.log(p) + (1 - o) * np.log(1 - p)))


def _choose_l2(a: np.ndarray, b: np.ndarray, o: np.ndarray) -> float:
    scores = []
    for l2 in L2_GRID:
        total = 0.0
        for held in _folds(o.size, FOLDS):
            keep = np.setdiff1d(np.arange(o.size), held)
            m = fit(a[keep], b[keep], o[keep], l2=l2)
            total += _loglik(m, a[held], b[held], o[held])
        scores.append(total)
    return L2_GRID[int(np.argmax(scores))]


def cross_validate(
    a: np.ndarray, b: np.ndarray, outcome: Sequence[float] | np.ndarray, folds: int = FOLDS
) -> float | None:
    """Held-out accuracy by k-fold cross-validation: the share of held-out decided ratings
    (ties left out) whose outcome the model fitted on the other folds predicts; None with
    fewer than 4 decided ratings."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    o = np.asarray(outcome, dtype=np.float64)
    _check(a, b, o)
    decided = o != 0.5
    if int(decided.sum()) < 4:
        return None
    hits = total = 0
    for held in _folds(o.size, folds):
        keep = np.setdiff1d(np.arange(o.size), held)
        m = fit(a[keep], b[keep], o[keep])
        h = held[decided[held]]
        hits += int(np.sum((m.prob(a[h], b[h]) > 0.5) == (o[h] == 1.0)))
        total += h.size
    return hits / total
