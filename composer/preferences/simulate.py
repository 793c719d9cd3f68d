"""A simulated listener rates A/B pairs into a ratings store, as a person would in the studio.

Used by the tests (``compose learn`` end to end on a real store) and to try the loop without a
person: every section of each spec's song gets fresh candidates
(:func:`composer.preferences.pool.song_candidates`); pairs of two candidates of one section are
drawn at random, the listener answers (:meth:`Listener.answer`, seeded) and each answer becomes
a :class:`composer.studio.ratings.Rating` of kind ``section``, with both candidates' notes and
kernel features, as the studio stores them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from composer.pipeline import compile_song
from composer.preferences.listeners import Listener
from composer.preferences.pool import song_candidates
from composer.studio.ratings import Rating
from grammar.spec import validate_spec
from kernels.features import FEATURES


def simulated_ratings(
    listener: Listener,
    specs: Sequence[dict[str, Any]],
    n: int,
    seed: int = 0,
    rater: str | None = None,
    per_section: int = 8,
) -> list[Rating]:
    """``n`` ratings by ``listener`` (stored under ``rater``, default the listener's name) of
    random candidate pairs of the specs' sections."""
    rng = np.random.default_rng(seed)
    groups = []
    for k, data in enumerate(specs):
        spec = validate_spec(data)
        c = compile_song(spec)
        shown = spec.model_dump(mode="json", exclude_none=True)
        groups += [(shown, sc) for sc in song_candidates(c, per_section, seed, str(k))]
    groups = [(s, g) for s, g in groups if len(g.notes) >= 2]
    if not groups:
        raise ValueError("no section has two candidates to compare")
    out = []
    for g in rng.integers(0, len(groups), n):
        shown, sc = groups[g]
        i, j = (int(v) for v in rng.choice(len(sc.notes), 2, replace=False))
        items = sc.items
        won = listener.answer(items[[i]], items[[j]], rng)[0] == 1.0
        out.append(
            Rating(
                rater=rater or listener.name,
                kind="section",
                section=sc.section.id,
                spec=shown,
                notes_a=sc.notes[i],
                notes_b=sc.notes[j],
                features_a=dict(zip(FEATURES, sc.kernel[i].tolist(), strict=True)),
                features_b=dict(zip(FEATURES, sc.kernel[j].tolist(), strict=True)),
                outcome="a" if won else "b",
                details={"simulated": listener.name, "candidates": [i, j]},
            )
        )
    return out
