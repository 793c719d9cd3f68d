"""Does the song sound in the key that was asked for? A Krumhansl-Schmuckler sweep.

    python benchmarks/bench_keys.py [--seed-offset 0] [--candidates 4] [--every 1]

Composes every combination of 8 keys x 7 styles x 4 forms (224 songs; ``--every N`` takes every
Nth) and runs a Krumhansl-Schmuckler key finder (the published Krumhansl-Kessler profiles,
written here, independent of the compiler) on all notes of the home-key sections. Prints JSON:
how many were detected in the requested key, and each miss. Few candidates per section is the
hard case: less room for the search to pick a candidate that states the key.
"""

from __future__ import annotations

import argparse
import itertools
import json

import numpy as np

from composer.app import api
from grammar.keys import parse_key

KEYS = ["Eb major", "C# minor", "A minor", "G major", "F major", "B minor", "Db major", "E minor"]
STYLES = ["jazz", "pop", "classical", "folk", "waltz", "march", "blues"]
FORMS = ["AABA", "A A' B A", "ABACA", "verse chorus verse chorus bridge chorus"]
KK = {
    "major": np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]),
    "minor": np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17]),
}


def detect(hist: np.ndarray) -> tuple[int, str]:
    best = max(
        ((np.corrcoef(hist, np.roll(KK[m], t))[0, 1], t, m) for t in range(12) for m in KK),
        key=lambda x: x[0],
    )
    return best[1], best[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed-offset", type=int, default=0)
    ap.add_argument("--candidates", type=int, default=4)
    ap.add_argument("--every", type=int, default=1)
    args = ap.parse_args()
    misses, total = [], 0
    for i, (key, style, form) in enumerate(itertools.product(KEYS, STYLES, FORMS)):
        if i % args.every:
            continue
        spec = {
            "key": key,
            "style": style,
            "form": form,
            "seed": i + args.seed_offset,
            "candidates": args.candidates,
        }
        song = api.compose(spec)
        bar = song.plan.meter().bar_ticks
        drums = [t for t, tr in enumerate(song.plan.tracks) if tr.role == "drums"]
        notes = song.notes[~np.isin(song.notes["track"], drums)]  # a drum's number is no pitch
        hist = np.zeros(12)
        for s in song.plan.sections:
            if s.key != song.plan.key:
                continue
            lo = (s.start_bar - 1) * bar
            sel = (notes["onset"] >= lo) & (notes["onset"] < lo + s.bars * bar)
            np.add.at(hist, notes["pitch"][sel] % 12, notes["duration"][sel])
        tonic, mode = detect(hist)
        want = parse_key(key)
        total += 1
        if (tonic, mode) != (want.tonic, want.mode):
            misses.append({**spec, "detected": f"{tonic} {mode}"})
    print(
        json.dumps(
            {
                "benchmark": "requested key = detected key (home-key sections)",
                "songs": total,
                "detected": total - len(misses),
                "misses": misses,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
