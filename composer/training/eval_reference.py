"""The evaluation reference: melody statistics of held-out corpus pieces, shipped as JSON.

    python -m composer.training.eval_reference [--output composer/eval/data/eval_reference.json]

Pieces are the *test* split (:func:`composer.eval.metrics.corpus_split`) of the Bach chorales
(soprano lines) and of the Essen folk tunes in :data:`planners.learn.folk.DEFAULT_FILES` (path
string ``essenFolksong/<file>.abc#<tune number>``, or its 1-based position in the file if it
has no number). Written: the pooled melodic interval
histogram, the duration-class histogram and the mean pitch-class entropy per piece, and the
piece list, so ``compose eval`` never parses the corpus. Deterministic: same corpus, same file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from composer.eval.metrics import (
    REFERENCE_PATH,
    corpus_split,
    interval_histogram,
    pitch_class_entropy,
    rhythm_histogram,
)
from composer.training.reward_corpus import Melody, load_chorales
from kernels.notes import TICKS_PER_BEAT
from planners.learn.corpus import essen_tunes
from planners.learn.folk import DEFAULT_FILES


def folk_melodies(split: str = "test", files: tuple[str, ...] = DEFAULT_FILES) -> list[Melody]:
    """Melodies of the Essen tunes of ``split`` in ``files`` (music21 imported lazily)."""
    from music21 import meter

    out = []
    for stem in files:
        for name, score in essen_tunes(stem):
            if corpus_split(name) != split:
                continue
            sigs = list(score.recurse().getElementsByClass(meter.TimeSignature))
            if not sigs:
                continue
            beat = round(float(sigs[0].beatDuration.quarterLength) * TICKS_PER_BEAT)
            notes = [n for n in score.stripTies().flatten().notes if hasattr(n, "pitch")]
            notes = [n for n in notes if not n.duration.isGrace and n.quarterLength > 0]
            if len(notes) < 2:
                continue
            out.append(
                Melody(
                    name,
                    np.array([n.pitch.midi for n in notes], dtype=np.int64),
                    np.array([round(float(n.quarterLength) * TICKS_PER_BEAT) for n in notes]),
                    beat,
                )
            )
    return out


def build_reference(melodies: list[Melody]) -> dict:
    """Pooled interval and rhythm histograms (each piece weighted by its notes) and the mean
    pitch-class entropy of ``melodies``."""
    iv = np.zeros(25)
    rh = np.zeros(10)
    for m in melodies:
        iv += interval_histogram(m.pitches) * max(0, len(m.pitches) - 1)
        rh += rhythm_histogram(m.durations, m.beat_ticks) * len(m.durations)
    return {
        "schema_version": 1,
        "split": "test",
        "interval": [round(x, 6) for x in (iv / iv.sum()).tolist()],
        "rhythm": [round(x, 6) for x in (rh / rh.sum()).tolist()],
        "pitch_class_entropy": round(
            float(np.mean([pitch_class_entropy(m.pitches) for m in melodies])), 6
        ),
        "pieces": sorted(m.name for m in melodies),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--output", type=Path, default=REFERENCE_PATH)
    args = ap.parse_args(argv)
    _, chorales = load_chorales(splits=("test",))
    ref = build_reference(chorales + folk_melodies("test"))
    args.output.write_text(json.dumps(ref, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.output}: {len(ref['pieces'])} pieces")


if __name__ == "__main__":
    main()
