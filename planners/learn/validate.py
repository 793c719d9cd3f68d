"""Our labelling against the hand analyses that ship with music21 (Riemenschneider 1-20).

Two agreements, over beats where both have a chord:
- chord: the same root pitch class and quality class (major, minor, diminished, augmented);
- roman: that, and the same key (tonic and mode): the same roman numeral in the same key.

    python -m planners.learn.validate        # prints JSON
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass
from typing import Any

from planners.learn.labelling import quality_class

QUALITY = {"major": "M", "minor": "m", "diminished": "o", "augmented": "+"}


@dataclass
class Agreement:
    beats: int = 0
    chord: int = 0
    roman: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "beats": self.beats,
            "chord_agreement": round(self.chord / max(1, self.beats), 4),
            "roman_agreement": round(self.roman / max(1, self.beats), 4),
        }


def analyses() -> list[tuple[int, str]]:
    import music21

    root = os.path.join(os.path.dirname(music21.__file__), "corpus", "bach", "choraleAnalyses")
    out = []
    for path in sorted(glob.glob(os.path.join(root, "riemenschneider*.rntxt"))):
        out.append((int(os.path.basename(path)[len("riemenschneider") : -len(".rntxt")]), path))
    return out


def compare(number: int, path: str, total: Agreement) -> Agreement:
    from music21 import converter, roman
    from music21.corpus import chorales

    from planners.learn.chorales import load

    score = next(
        iter(
            chorales.Iterator(
                number, number, numberingSystem="riemenschneider", returnType="stream"
            )
        )
    )
    piece = load(score, f"riemenschneider{number:03d}")
    mine = Agreement()
    if piece is None:  # not a four-part chorale in one meter (Riemenschneider 11: nine parts)
        return mine
    rns = list(
        converter.parse(path, forceSource=True).recurse().getElementsByClass(roman.RomanNumeral)
    )
    spans = sorted(((rn.measureNumber, float(rn.beat)), rn) for rn in rns)
    # Some analyses are of an edition in another key (Riemenschneider 14 is in G, music21's
    # score in D): compare after moving the analysis by the difference of the opening keys.
    first = spans[0][1].key
    shift = (piece.key.tonic - first.tonic.pitchClass) % 12 if first.mode == piece.key.mode else 0
    for i, b in enumerate(piece.beats):
        label = piece.label(i)
        here = [rn for pos, rn in spans if pos <= (b.measure, b.beat + 1e-9)]
        if label is None or not here:
            continue
        rn = here[-1]
        q = QUALITY.get(rn.quality)
        if q is None:
            continue
        mine.beats += 1
        same_chord = (rn.root().pitchClass + shift) % 12 == label[0] and q == quality_class(
            label[1]
        )
        key = piece.local_keys[i]
        same_key = (rn.key.tonic.pitchClass + shift) % 12 == key.tonic and rn.key.mode == key.mode
        mine.chord += same_chord
        mine.roman += same_chord and same_key
    total.beats += mine.beats
    total.chord += mine.chord
    total.roman += mine.roman
    return mine


def main() -> None:
    total = Agreement()
    per = {}
    for number, path in analyses():
        per[number] = compare(number, path, total).as_dict()
    skipped = [n for n, v in per.items() if v["beats"] == 0]
    print(
        json.dumps(
            {
                "chorales": len(per) - len(skipped),
                "skipped": skipped,
                **total.as_dict(),
                "per_chorale": per,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
