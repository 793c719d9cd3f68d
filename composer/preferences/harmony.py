"""Harmony for a profile: the listener's personal model picks among the planner's progressions.

A listener who wants darker harmony (the minor third, sixth and seventh over the major third)
hears it mostly in the chords: the pitch-class shares the model reads are duration-weighted over
melody, chords and bass, and the chords and bass sound most of the time. The search cannot move
them (its candidates differ in the melody; the chords are planned before it), so with a profile
the harmony pass plans :data:`ALTERNATIVES` progressions (the planner's own, and the same planner
on other seeded streams: every one valid by construction, the user's chords kept as written)
and keeps the one whose band (comp and bass as the arrangement plays them at the form's energies)
the personal model's head prefers, bar-weighted over the song, by more than :data:`MARGIN`.

The head alone (:meth:`PersonalModel.head`): the shipped reward judges melodies over a band,
and a band without its melody is not what it was trained on; the head is linear, so only the
differences between the alternatives' rows count, and those are the chords' (pitch-class
shares, chord and bass tones). Deterministic; without a profile nothing here runs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from composer.arrange import section_band
from composer.arrange.voicing import Voicing
from composer.preferences.features import notes_features
from composer.preferences.model import PersonalModel
from composer.search.batch import section_arrays
from grammar.spec import SongSpec
from kernels.notes import make_notes
from planners.plan import SongPlan
from planners.seeding import rng_for

ALTERNATIVES = 6
MARGIN = 0.1  # the model's logit units: a 52.5% preference; less keeps the planner's own


def band_utility(song: SongPlan, model: PersonalModel) -> float:
    """The model's head utility of the song's band (no melody), bar-weighted over sections."""
    voicing: Voicing | None = None
    bass: int | None = None
    total = 0.0
    for s in song.sections:
        rows, voicing, bass = section_band(song, s, voicing, bass, diatonic=True)
        total += s.bars * float(
            model.head(notes_features([make_notes(rows)], section_arrays(s, song)))[0]
        )
    return total / max(1, song.total_bars)


def profile_harmony(
    spec: SongSpec,
    song: SongPlan,
    model: PersonalModel,
    plan: Callable[[SongSpec, SongPlan], SongPlan],
    alternatives: int = ALTERNATIVES,
    margin: float = MARGIN,
) -> SongPlan:
    """``plan(spec, song)``, or one of ``alternatives - 1`` other progressions ``plan`` gives on
    other seeds, whichever the model prefers (see the module doc); the song keeps its seed."""
    own = plan(spec, song)
    options = [own]
    for k in range(1, alternatives):
        seed = int(rng_for(song.seed, "preferences", "harmony", k).integers(0, 2**31 - 1))
        alt = plan(spec, song.model_copy(update={"seed": seed}))
        options.append(alt.model_copy(update={"seed": song.seed}))
    u = np.array([band_utility(p, model) for p in options])
    best = int(np.argmax(u))
    return options[best] if u[best] > u[0] + margin else own
