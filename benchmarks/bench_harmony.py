"""How much do planned progressions sound like Bach's? Log-likelihood under held-out chorales.

    python benchmarks/bench_harmony.py [--progressions 200] [--bars 8]

The chorales are split in two halves (even and odd corpus positions). A progression model is
fitted on each: the planner learns from the first (TRAIN), the judge is the second (HELD).
Reported, as the average natural-log likelihood per chord under HELD:
- ``real``: the TRAIN chorales' own progressions (what Bach's harmony scores; the target),
- ``learned``: this planner as it plans (planners/harmony.py): constrained draws from the TRAIN
  model (tonic opening, phrase structure, cadences), the first that states the key kept, at the
  temperature calibrated on TRAIN alone, as the build calibrates the shipped model
  (planners/learn/calibration.py; HELD is never seen before it judges),
- ``learned_uncalibrated``: the same at temperature 1 (what calibration corrects),
- ``rules``: the rule planner (planners/rule_harmony.py, the end-to-end issue's planner),
- ``random``: uniformly random diatonic triads, tonic first and last.
The planner whose figure is closest to ``real`` writes the most Bach-like progressions.
Prints one JSON object. Takes about two minutes (labelling 350 chorales).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

import numpy as np

from planners import rule_harmony
from planners.learn.calibration import REFERENCE_KEYS, as_sequence, calibrate, cross_validated
from planners.learn.chorales import by_mode, iter_chorales
from planners.learn.model import fit, per_chord
from planners.progression import (
    TRIADS,
    plan_progression,
    vocabulary,
)
from planners.styles import get_style


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--progressions", type=int, default=200, help="per planner and mode")
    ap.add_argument("--bars", type=int, default=8)
    args = ap.parse_args()
    pieces = iter_chorales()
    train = [p for i, p in enumerate(pieces) if i % 2 == 0]
    held = [p for i, p in enumerate(pieces) if i % 2 == 1]
    style = get_style("classical")
    rng = np.random.default_rng(0)
    results: dict[str, dict[str, float]] = {}
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    for mode in ("major", "minor"):
        tr = by_mode(train, mode)
        he = by_mode(held, mode)
        learner, judge = fit(tr), fit(he)
        vocab = vocabulary(learner, mode, "all")
        key = REFERENCE_KEYS[mode]
        t = calibrate(tr, key, "all", 2)  # TRAIN only, as the build does
        calibrated = replace(learner, temperature=t)

        planned: dict[str, list[tuple[list[str], list[int]]]] = {
            "learned": [],
            "learned_uncalibrated": [],
            "rules": [],
            "random": [],
        }
        for _ in range(args.progressions):
            planned["learned"].append(
                as_sequence(
                    plan_progression(
                        args.bars, 2, "authentic", key, "theme", calibrated, vocab, rng
                    ),
                    key,
                )
            )
            planned["learned_uncalibrated"].append(
                as_sequence(
                    plan_progression(args.bars, 2, "authentic", key, "theme", learner, vocab, rng),
                    key,
                )
            )
            planned["rules"].append(
                as_sequence(
                    rule_harmony.plan_numerals(
                        args.bars, 2, "authentic", mode, style, "theme", rng
                    ),
                    key,
                )
            )
            triads = sorted(t for t in TRIADS[mode] if not t.endswith("7"))
            tonic = "I" if mode == "major" else "i"
            n = (args.bars - 1) * 2 + 1
            rand = (
                [tonic] + [triads[int(rng.integers(len(triads)))] for _ in range(n - 2)] + [tonic]
            )
            bars = [rand[i * 2 : i * 2 + 2] for i in range(args.bars - 1)] + [rand[-1:]]
            planned["random"].append(as_sequence(bars, key))
        row = {"real": per_chord(judge, tr)}
        row.update({name: per_chord(judge, seqs) for name, seqs in planned.items()})
        results[mode] = {k: round(v, 4) for k, v in row.items()}
        # what the calibration saw (TRAIN only), beside what it aimed at (HELD)
        results[mode]["calibrated_temperature"] = t
        results[mode]["train_only_estimate_of_real"] = round(cross_validated(tr), 4)
        n_chords = sum(len(s) for s, _ in tr)
        for k, v in row.items():
            totals[k] = totals.get(k, 0.0) + v * n_chords
        counts[mode] = n_chords
    overall = {k: v / sum(counts.values()) for k, v in totals.items()}
    gaps = {k: round(abs(v - overall["real"]), 4) for k, v in overall.items() if k != "real"}
    print(
        json.dumps(
            {
                "benchmark": "harmony log-likelihood per chord under held-out chorales",
                "chorales": {"train": len(train), "held_out": len(held)},
                "progressions_per_planner_and_mode": args.progressions,
                "bars": args.bars,
                "by_mode": results,
                "overall": {k: round(v, 4) for k, v in overall.items()},
                "distance_to_real": gaps,
                "closest_to_real": min(gaps, key=lambda k: gaps[k]),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
