"""The band as it will be played, judged with each candidate melody (issue 14).

A section generator's candidates come with a band of their own (``accompany``: diatonic, with no
melody to stay under), but the song is heard with the band the ``arrange`` pass writes: the
style's comp and bass chained from the song's start, then the comp moved under the melody
(:func:`composer.arrange.comp.under_melody`). That band depends on the plan alone, so it is built
once a section (:func:`played_band`) and each candidate melody is laid over it
(:func:`band_features`):

- ``comp_above_melody`` (a violation, soft): comp notes sounding at or above the melody note
  they sound with, before the arrange pass moves them down an octave or drops them (a melody
  sung inside the comp's register thins and inverts the voicings under it);
- ``band_moved_share``: those notes as a share of the comp notes that sound with the melody;
- ``band_b9_share``: share of melody time a semitone (or a minor ninth, ...) above a comp or
  bass note sounding under it, in the band as played: the harshest clash a melody makes.

The reward :func:`band_fit` reads these two shares; :data:`BAND_REWARDS` and
:data:`BAND_WEIGHTS` are what :mod:`composer.search.rewards` registers. Drums are never part of
it: their note numbers are instruments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from composer.arrange import section_band, section_energies
from composer.arrange.comp import under_melody
from composer.arrange.voicing import Voicing
from kernels.notes import TRACK_BASS, TRACK_CHORDS, TRACK_MELODY, make_notes
from planners.plan import SectionPlan, SongPlan

Features = Mapping[str, float]

# The last song's played bands, by section id: the lattice asks once per path and section, and
# the band does not depend on the path.
_CACHE: list[tuple[SongPlan, dict[str, np.ndarray]]] = []


def played_bands(song: SongPlan) -> dict[str, np.ndarray]:
    """Comp and bass (a NoteArray, ticks from each section's start) of every section, as
    :func:`composer.arrange.arrange_song` writes them before fitting the comp under the melody.
    """
    if _CACHE and _CACHE[0][0] is song:
        return _CACHE[0][1]
    energies = section_energies(song)
    voicing: Voicing | None = None
    bass: int | None = None
    out = {}
    for s in song.sections:
        rows, voicing, bass = section_band(song, s, voicing, bass, energies=energies)
        out[s.id] = make_notes([r for r in rows if r[4] in (TRACK_CHORDS, TRACK_BASS)])
    _CACHE[:] = [(song, out)]
    return out


def played_band(song: SongPlan, section: SectionPlan) -> np.ndarray:
    """The played comp and bass of one section (see :func:`played_bands`)."""
    return played_bands(song)[section.id]


def _sounding(notes: np.ndarray, a: int, b: int) -> np.ndarray:
    """Pitches of ``notes`` that sound at some time in ``[a, b)``."""
    on = notes["onset"].astype(np.int64)
    return notes["pitch"][(on < b) & (on + notes["duration"] > a)].astype(np.int64)


def band_features(band: np.ndarray, candidate: np.ndarray) -> tuple[dict[str, float], int]:
    """(features, comp notes above the melody) of ``candidate``'s melody over the played
    ``band`` (both section-relative NoteArrays); see the module docstring."""
    mel = candidate[candidate["track"] == TRACK_MELODY]
    comp = band[band["track"] == TRACK_CHORDS]
    bass = band[band["track"] == TRACK_BASS]
    if not mel.size:
        return {"band_moved_share": 0.0, "band_b9_share": 0.0}, 0
    m_on = mel["onset"].astype(np.int64)
    m_end = m_on + mel["duration"]
    m_p = mel["pitch"].astype(np.int64)
    above = with_melody = 0
    for on, dur, p in zip(comp["onset"], comp["duration"], comp["pitch"], strict=True):
        over = (m_on < int(on) + int(dur)) & (m_end > int(on))
        if over.any():
            with_melody += 1
            above += int(p) >= int(m_p[over].min())
    played = np.concatenate([under_melody(comp, mel), bass])
    clash = total = 0
    for a, b, p in zip(m_on, m_end, m_p, strict=True):
        total += int(b - a)
        under = _sounding(played, int(a), int(b))
        under = under[under < p]
        if under.size and bool(((p - under) % 12 == 1).any()):
            clash += int(b - a)
    feats = {
        "band_moved_share": above / with_melody if with_melody else 0.0,
        "band_b9_share": clash / total if total else 0.0,
    }
    return feats, above


def band_fit(f: Features, s: SectionPlan) -> float | None:
    """The melody with the band as played: (1 - share of the comp notes sounding with it that
    must move under it) * (1 - 2 * share of its time a minor ninth over the comp or bass,
    floored at 0). [0, 1], higher = the melody sits over the band; None when the search has
    not laid the candidate over the played band (training, a bare feature dict)."""
    if "band_moved_share" not in f:
        return None
    return (1.0 - f["band_moved_share"]) * max(0.0, 1.0 - 2.0 * f["band_b9_share"])


BAND_REWARDS: dict[str, Callable[[Features, SectionPlan], float | None]] = {"band_fit": band_fit}
# As much as the melody's contour and range: a melody the band must make room for is heard.
BAND_WEIGHTS: dict[str, float] = {"band_fit": 1.0}
