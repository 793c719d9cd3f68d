"""``compose learn``: a profile's personal model fitted from the ratings store.

The ratings of one rater (:mod:`composer.studio.ratings`; by default the rater named like the
profile) become item-row pairs: each side's kernel features (as the studio stored them), the
tonic of what was compared (the section's key for a section pair, the home key for two songs;
the spec is planned again to know it, once per spec) and the drum hits per bar of its notes.
"a" and "b" are preferences, "tie" is half a win each way, "both_bad" says nothing about the
order and is left out. The model is fitted on all of them and its held-out accuracy estimated
by cross-validation, then saved as the profile's next version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from composer.pipeline import PLANNING, compile_song
from composer.preferences.features import drum_density, item_features
from composer.preferences.model import cross_validate, fit
from composer.preferences.profiles import check_name, save_profile
from composer.studio.ratings import Rating, RatingsStore
from grammar.errors import SpecError
from grammar.spec import validate_spec
from kernels.features import FEATURES
from planners.plan import SongPlan

OUTCOME_VALUE = {"a": 1.0, "b": 0.0, "tie": 0.5}
MIN_RATINGS = 4  # fewer ordered ratings cannot fit anything worth saving


@dataclass(frozen=True)
class Learned:
    """What ``compose learn`` did: the file written, the ratings used and the CV accuracy."""

    profile: str
    path: Path
    ratings: int
    skipped: int  # both_bad
    cv_accuracy: float | None
    l2: float

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "path": str(self.path),
            "ratings": self.ratings,
            "skipped_both_bad": self.skipped,
            "cv_accuracy": None if self.cv_accuracy is None else round(self.cv_accuracy, 4),
            "l2": self.l2,
        }


def _plan(spec: dict[str, Any], cache: dict[str, SongPlan]) -> SongPlan:
    key = json.dumps(spec, sort_keys=True)
    if key not in cache:
        cache[key] = compile_song(validate_spec(spec), stop_after=PLANNING[-1]).need_plan()
    return cache[key]


def rating_rows(ratings: Iterable[Rating]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Item rows of both sides of every ordered rating, the outcomes (1 A, 0 B, 0.5 tie), and
    how many ``both_bad`` ratings were left out."""
    plans: dict[str, SongPlan] = {}
    rows_a: list[np.ndarray] = []
    rows_b: list[np.ndarray] = []
    outcomes: list[float] = []
    skipped = 0
    for r in ratings:
        if r.outcome not in OUTCOME_VALUE:
            skipped += 1
            continue
        plan = _plan(r.spec, plans)
        if r.kind == "section" and r.section is not None:
            sect = plan.section(r.section)
            tonic, bars = sect.key_obj().tonic, float(sect.bars)
        else:
            tonic, bars = plan.key_obj().tonic, float(plan.total_bars)
        for side, notes, out in (("a", r.notes_a, rows_a), ("b", r.notes_b, rows_b)):
            try:
                kernel = r.vector(side, FEATURES)[None, :]  # type: ignore[arg-type]
            except KeyError as exc:
                raise SpecError("ratings", f"rating {r.id}: {exc.args[0]}") from None
            out.append(item_features(kernel, tonic, drum_density(notes, bars))[0])
        outcomes.append(OUTCOME_VALUE[r.outcome])
    if not outcomes:
        return np.zeros((0, 0)), np.zeros((0, 0)), np.zeros(0), skipped
    return np.array(rows_a), np.array(rows_b), np.array(outcomes), skipped


def learn(profile: str, rater: str | None = None, store: RatingsStore | None = None) -> Learned:
    """Fit profile ``profile`` from ``rater``'s ratings (default: the rater of that name) and
    save it as the profile's next version. SpecError when there are too few ratings."""
    check_name(profile)
    who = rater or profile
    store = store or RatingsStore()
    a, b, o, skipped = rating_rows(store.iter_ratings(rater=who))
    decided = int(np.sum(o != 0.5))
    if decided < MIN_RATINGS:
        raise SpecError(
            "profile",
            f"'{profile}': rater '{who}' has {decided} A/B ratings with a preference, "
            f"{MIN_RATINGS} are needed (rate pairs in compose studio)",
        )
    cv = cross_validate(a, b, o)
    model = fit(a, b, o, meta={"rater": who, "ratings": int(o.size)})
    path = save_profile(profile, model)
    return Learned(profile, path, int(o.size), skipped, cv, model.l2)
