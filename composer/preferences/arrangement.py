"""Arranging for a profile: the listener's personal model picks each section's energy.

The arrangement engine (:mod:`composer.arrange`) gives every section an energy from its role
and place in the form (:func:`composer.arrange.section_energies`); the level picks the style's
drum, comp and bass patterns. A listener who wants busier drums hears none of the search's
choices there (its candidates carry no drums), so with a profile the arrangement is chosen too:
for each section, in song order, the form's energy and its neighbours one level down and one up
(``low`` < ``mid`` < ``high``; a bridge keeps its own patterns and only its dynamics move) are
arranged, heard as the listener would (the section's melody over that band: the kernels'
features plus the drum hits per bar, :func:`composer.preferences.features.notes_features`) and
scored by the personal model. A neighbour replaces the form's energy only if the model prefers
it by a margin and with confidence (:meth:`PersonalModel.prefer`: what the ratings did not
teach moves nothing); ties keep the form. Deterministic: the bands come from the
sections' own random streams, and nothing else is drawn.

Without a profile nothing here runs and the arrangement is the form's, byte for byte.
"""

from __future__ import annotations

import numpy as np

from composer.arrange import Energy, section_band, section_energies
from composer.arrange.voicing import Voicing
from composer.preferences.features import notes_features
from composer.preferences.model import MARGIN, PersonalModel
from composer.search.batch import section_arrays
from kernels.notes import TRACK_MELODY, make_notes, sort_notes
from planners.plan import SongPlan

LEVELS = ("low", "mid", "high")


def variants(base: Energy) -> list[Energy]:
    """The form's energy first, then one level down and one up (energy 1..5 moved with it);
    a bridge keeps its patterns, its energy moves one step each way."""
    out = [base]
    for step in (-1, 1):
        e = min(5, max(1, base.energy + step))
        if base.level == "bridge":
            cand = Energy("bridge", e)
        else:
            k = LEVELS.index(base.level) + step
            if not 0 <= k < len(LEVELS):
                continue
            cand = Energy(LEVELS[k], e)
        if cand not in out:
            out.append(cand)
    return out


def _section_melody(melody: np.ndarray, start: int, length: int) -> np.ndarray:
    mel = melody[
        (melody["track"] == TRACK_MELODY)
        & (melody["onset"] >= start)
        & (melody["onset"] < start + length)
    ].copy()
    mel["onset"] -= start
    return mel


def profile_energies(
    song: SongPlan, melody: np.ndarray, model: PersonalModel, margin: float = MARGIN
) -> list[Energy]:
    """One Energy per section, chosen for the listener of ``model`` (see the module doc).
    ``melody``: the song's notes (absolute ticks; the melody track is read)."""
    chosen = section_energies(song)
    bar = song.meter().bar_ticks
    voicing: Voicing | None = None
    bass: int | None = None
    for s in song.sections:
        mel = _section_melody(melody, song.section_start_tick(s), s.bars * bar)
        options = variants(chosen[s.index])
        heard, carried = [], []
        for v in options:
            energies = [*chosen[: s.index], v, *chosen[s.index + 1 :]]
            rows, vo, ba = section_band(song, s, voicing, bass, energies=energies)
            heard.append(sort_notes(np.concatenate([mel, make_notes(rows)])))
            carried.append((vo, ba))
        items = notes_features(heard, section_arrays(s, song))
        k = model.prefer(items, margin=margin)
        chosen[s.index] = options[k]
        voicing, bass = carried[k]
    return chosen
