"""Harmony for a profile: the listener's personal model picks among the planner's progressions.

A listener who wants darker harmony (the minor third, sixth and seventh over the major third)
hears it mostly in the chords: the pitch-class shares the model reads are duration-weighted over
melody, chords and bass, and the chords and bass sound most of the time. The search cannot move
them (its candidates differ in the melody; the chords are planned before it), so with a profile
the harmony pass plans :data:`ALTERNATIVES` progressions (the planner's own, and the same planner
on other seeded streams: every one valid by construction, the user's chords kept as written)
and keeps the one whose band (comp and bass as the arrangement plays them at the form's energies)
the personal model's head prefers, bar-weighted over the song, by a margin and with confidence
(:meth:`PersonalModel.prefer`: a listener whose ratings never spoke of harmony keeps the
planner's progression).

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
from composer.preferences.model import MARGIN, PersonalModel
from composer.search.batch import section_arrays
from grammar.spec import SongSpec
from kernels.notes import make_notes
from planners.plan import SongPlan
from planners.seeding import rng_for

ALTERNATIVES = 6


def band_row(song: SongPlan) -> np.ndarray:
    """The song's band (comp and bass at the form's energies, no melody) as one item row:
    each section's row, bar-weighted (the head is linear, so its utility is the songs')."""
    voicing: Voicing | None = None
    bass: int | None = None
    rows, bars = [], []
    for s in song.sections:
        notes, voicing, bass = section_band(song, s, voicing, bass, diatonic=True)
        rows.append(notes_features([make_notes(notes)], section_arrays(s, song))[0])
        bars.append(s.bars)
    return np.average(np.array(rows), axis=0, weights=np.array(bars, dtype=np.float64))


def band_utility(song: SongPlan, model: PersonalModel) -> float:
    """The model's head utility of the song's band (no melody), bar-weighted over sections."""
    return float(model.head(band_row(song))[0])


def profile_harmony(
    spec: SongSpec,
    song: SongPlan,
    model: PersonalModel,
    plan: Callable[[SongSpec, SongPlan], SongPlan],
    alternatives: int = ALTERNATIVES,
    margin: float = MARGIN,
) -> SongPlan:
    """``plan(spec, song)``, or one of ``alternatives - 1`` other progressions ``plan`` gives on
    other seeds that the model prefers by more than ``margin``, with confidence
    (:meth:`PersonalModel.prefer`); the best such, the song keeping its seed."""
    own = plan(spec, song)
    options = [own]
    for k in range(1, alternatives):
        seed = int(rng_for(song.seed, "preferences", "harmony", k).integers(0, 2**31 - 1))
        alt = plan(spec, song.model_copy(update={"seed": seed}))
        options.append(alt.model_copy(update={"seed": song.seed}))
    rows = np.array([band_row(p) for p in options])
    return options[model.prefer(rows, head_only=True, margin=margin)]
