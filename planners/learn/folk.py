"""Folk melodies from music21's corpus (Essen collection, ABC), harmonised by our harmoniser.

A tune becomes its key, its meter and, per bar, its notes (onset within the bar, duration,
MIDI pitch), all in quarter notes. music21 is imported lazily: a build-time dependency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grammar.keys import Key, parse_key
from planners.learn.corpus import essen_tunes

# A fixed, documented subset: parsing ABC costs ~60 ms a tune, and the German collections
# (about 1,800 tunes) are plenty for bar-level progressions. The build can take more.
DEFAULT_FILES = ("altdeu10", "altdeu20", "boehme10", "erk5", "fink0", "kinder0")

Note = tuple[float, float, int]


@dataclass(frozen=True)
class Tune:
    name: str
    key: Key
    bar_length: float
    bars: tuple[tuple[Note, ...], ...]


def load_tune(score: Any, name: str) -> Tune | None:
    from music21 import meter

    sigs = list(score.recurse().getElementsByClass(meter.TimeSignature))
    if not sigs or any(s.ratioString != sigs[0].ratioString for s in sigs):
        return None
    bar = float(sigs[0].barDuration.quarterLength)
    k = score.analyze("key")
    key = parse_key(f"{k.tonic.name.replace('-', 'b')} {k.mode}")
    bars: dict[int, list[Note]] = {}
    for m in score.stripTies().recurse().getElementsByClass("Measure"):
        if float(m.duration.quarterLength) < bar - 1e-9:
            continue  # pickup and short bars carry no full harmonic slot
        notes = [
            (float(n.offset), float(n.quarterLength), int(n.pitch.midi))
            for n in m.notes
            if not n.duration.isGrace and hasattr(n, "pitch")
        ]
        if notes:
            bars[len(bars)] = notes
    if len(bars) < 2:
        return None
    return Tune(name, key, bar, tuple(tuple(bars[b]) for b in sorted(bars)))


def iter_tunes(files: tuple[str, ...] = DEFAULT_FILES, limit: int | None = None) -> list[Tune]:
    """The tunes of the Essen ``files``, in file order, named by their corpus path string."""
    out: list[Tune] = []
    for stem in files:
        if limit is not None and len(out) >= limit:
            break
        for name, score in essen_tunes(stem):
            if limit is not None and len(out) >= limit:
                return out
            tune = load_tune(score, name)
            if tune is not None:
                out.append(tune)
    return out
