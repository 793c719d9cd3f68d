"""Composing with a profile: the listener's personal model takes the search's learned-reward
slot.

The personal model is the shipped reward plus what the listener's ratings taught it
(:mod:`composer.preferences.model`), so it replaces the shipped model in the ``learned`` reward
(:func:`composer.search.rewards.learned`) rather than being counted beside it, and that reward's
weight becomes :data:`PERSONAL_WEIGHT` unless the spec's ``preferences.weights`` names
``learned`` itself. The rule rewards keep their weights: a profile steers among good candidates,
it does not switch the rules off.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np

from composer.preferences.features import notes_features
from composer.preferences.model import PersonalModel
from composer.preferences.profiles import load_profile, versions
from composer.search.batch import section_arrays
from composer.search.lattice import SearchConfig
from planners.plan import SectionPlan, SongPlan

# The learned slot's weight with a profile (the shipped model's is 2 of ~13): measured by
# benchmarks/bench_personal.py, where it lifts each listener's utility of composed songs
# while the rule rewards still decide between candidates the listener cannot tell apart.
PERSONAL_WEIGHT = 6.0


def personal_reward(name: str) -> PersonalModel:
    """The newest model of profile ``name``, named for the report (``profile:NAME@vK``)."""
    model = load_profile(name)
    version = versions(name)[-1].stem.removeprefix("model-")
    return replace(model, meta={**model.meta, "name": f"profile:{name}@{version}"})


def segment_scorer(name: str) -> Callable[[np.ndarray, SectionPlan, SongPlan], float]:
    """A plain reward of profile ``name`` for other code (DPO's chooser): ``f(notes, section,
    song) -> (0, 1)``, higher = this listener likes it more; ``notes`` a NoteArray of one
    candidate of ``section`` (ticks from its start). Loads the model once."""
    model = personal_reward(name)

    def score(notes: np.ndarray, section: SectionPlan, song: SongPlan) -> float:
        row = notes_features([notes], section_arrays(section, song))
        z = (model.utility(row) - model.center) / model.scale
        return float(1.0 / (1.0 + np.exp(-z[0])))

    return score


def with_profile(
    config: SearchConfig, name: str, spec_weights: Mapping[str, float] | None = None
) -> SearchConfig:
    """``config`` composing for profile ``name``: its personal model in the learned slot."""
    weights = dict(config.weights)
    if "learned" not in (spec_weights or {}):
        weights["learned"] = PERSONAL_WEIGHT
    return replace(config, model=personal_reward(name), weights=weights)
