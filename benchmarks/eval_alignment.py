"""Inference-time alignment against none: best-of-16 with lattice stitching vs one candidate.

    python benchmarks/eval_alignment.py [--specs examples] [--seeds 1 2 3 4 5] \
        [--output out/alignment] [--results benchmarks/results]

Both runs compose the same specs with the same seeds through ``compose eval``
(:mod:`composer.eval.harness`); only the search differs:

- ``aligned``: 16 candidates per section on each of the beam's 4 paths, diversity 0.25 (the
  defaults), learned reward on;
- ``n1``: 1 candidate per section, beam 1, diversity 0: the first proposal is kept (no alignment);
- and, for the knobs: the aligned search at diversity 0 and 1, greedy stitching (beam 1), and
  adaptive candidate counts (``preferences: {adaptive: true}``; run 5).

Both songs are scored by the same rewards (the report computes them for the chosen candidate
either way). Metrics in ``HELD_OUT`` are computed by no reward. The songs go under
``--output``; ``alignment.json`` (every song's metrics) and ``alignment.md`` (the table in the
README) under ``--results``; the table is printed.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from composer.app.api import evaluate
from composer.eval.harness import HELD_OUT, paired, table

RUNS = {
    "aligned (best-of-16, beam 4)": {"candidates": 16},
    "n1 (no alignment)": {"candidates": 1, "preferences": {"beam": 1, "diversity": 0.0}},
    # the diversity knob at its ends, and greedy stitching, for the same budget
    "aligned, diversity 0": {"candidates": 16, "preferences": {"diversity": 0.0}},
    "aligned, diversity 1": {"candidates": 16, "preferences": {"diversity": 1.0}},
    "greedy (beam 1)": {"candidates": 16, "preferences": {"beam": 1}},
    # up to 16 candidates, in rounds of 4 until the best leads (composer.search.adaptive)
    "aligned, adaptive": {"candidates": 16, "preferences": {"adaptive": True}},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--specs", type=Path, default=Path("examples"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--output", type=Path, default=Path("out/alignment"), help="songs go here")
    ap.add_argument("--results", type=Path, default=Path("benchmarks/results"))
    ap.add_argument(
        "--generator", default="rules",
        help="section generator of every run (default rules, as in the recorded results)",
    )  # fmt: skip
    ap.add_argument(
        "--runs", type=int, nargs="+", default=None,
        help="indices of the runs to make (default all; 0 = aligned, 1 = n1)",
    )  # fmt: skip
    args = ap.parse_args()
    results = {}
    picked = {n: o for i, (n, o) in enumerate(RUNS.items()) if args.runs is None or i in args.runs}
    for name, overrides in picked.items():
        t0 = time.perf_counter()
        out = args.output / f"run{len(results)}"
        out.parent.mkdir(parents=True, exist_ok=True)
        results[name] = evaluate(
            args.specs,
            out,
            args.seeds,
            {**overrides, "generator": args.generator},
            save_results=False,
            force=True,  # a rerun of the benchmark replaces its own songs
        )
        results[name]["wall_s"] = round(time.perf_counter() - t0, 2)
    names = list(picked)
    if len(names) > 1:
        results["paired"] = {
            "runs": names[:2],
            "wins/ties/losses": paired(*(results[n] for n in names[:2]), tol=1e-12),
        }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "alignment.json").write_text(json.dumps(results, indent=1) + "\n")
    text = table({n: results[n] for n in names})
    songs = len(results[names[0]]["songs"])
    if len(names) > 1:
        text += f"\nPer song, {names[0]} vs {names[1]} (wins/ties/losses of {songs}):\n\n"
        text += "| metric | wins/ties/losses |\n|---|---|\n"
        for key, wtl in results["paired"]["wins/ties/losses"].items():
            tag = " (held out)" if key in HELD_OUT else ""
            text += f"| {key}{tag} | {wtl} |\n"
    (args.results / "alignment.md").write_text(text)
    print(text)
    print("held out of every reward:", ", ".join(HELD_OUT))


if __name__ == "__main__":
    main()
