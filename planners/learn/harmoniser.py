"""Harmonise a melody: the most likely chord per bar under a progression model (Viterbi).

The hidden states are the model's chords in the melody's key; transitions are the model's;
each bar's emission scores its melody notes against the chord: a chord tone is likely, another
scale tone (a passing or neighbour note) less, a chromatic note rare; the note on the downbeat
counts double. The first and last bars are on the tonic, as folk tunes begin and end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from grammar.chords import parse_roman
from grammar.errors import GrammarError
from grammar.keys import Key
from planners.learn.model import RARE, ProgressionModel

CHORD_TONE, SCALE_TONE, CHROMATIC = 0.7, 0.1, 0.02
DOWNBEAT = 2.0
MIN_STATE_COUNT = 30  # states rarer than this in the model are not offered as harmonisations


def _pcs(state: str, key: Key) -> frozenset[int] | None:
    try:
        return parse_roman(state, key).pitch_classes
    except GrammarError:
        return None


def harmonise(
    bars: Sequence[Sequence[tuple[float, float, int]]], key: Key, model: ProgressionModel
) -> list[str]:
    """One state per bar. ``bars``: per bar, (onset in bar, duration, MIDI pitch) notes."""
    known = [s for s in model.states if s != RARE]
    common = [s for s in known if model.unigram.get(s, 0) >= MIN_STATE_COUNT]
    cands = common if len(common) >= 3 else known  # a small model (a quick build) offers all
    chords = {s: _pcs(s, key) for s in cands}
    cands = [s for s in cands if chords[s]]
    if not cands:
        raise ValueError("the model has no chord to harmonise with")
    idx = [model.index[s] for s in cands]
    trans = np.log(model.matrix(0)[np.ix_(idx, idx)])
    scale = set(key.scale)
    emit = np.zeros((len(bars), len(cands)))
    for b, notes in enumerate(bars):
        for j, s in enumerate(cands):
            pcs = chords[s]
            assert pcs is not None
            lp = 0.0
            for on, dur, pitch in notes:
                pc = pitch % 12
                p = CHORD_TONE if pc in pcs else SCALE_TONE if pc in scale else CHROMATIC
                lp += dur * (DOWNBEAT if on == 0 else 1.0) * math.log(p)
            emit[b, j] = lp
    tonic = "I" if key.mode == "major" else "i"
    allowed = np.zeros((len(bars), len(cands)))
    if tonic in cands:
        t = cands.index(tonic)
        for b in (0, len(bars) - 1):
            allowed[b, :] = -np.inf
            allowed[b, t] = 0.0
    score = emit[0] + allowed[0] + np.log(model.start_probs[idx])
    back = np.zeros((len(bars), len(cands)), dtype=int)
    for b in range(1, len(bars)):
        total = score[:, None] + trans
        back[b] = np.argmax(total, axis=0)
        score = total[back[b], np.arange(len(cands))] + emit[b] + allowed[b]
    path = [int(np.argmax(score))]
    for b in range(len(bars) - 1, 0, -1):
        path.append(int(back[b, path[-1]]))
    return [cands[j] for j in reversed(path)]
