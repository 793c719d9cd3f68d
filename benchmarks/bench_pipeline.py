"""Wall time of the whole compiler against song length, at 16 candidates per section.

    python benchmarks/bench_pipeline.py [--bars 32 64 128 256] [--candidates 16] [--output F]

Prints one JSON object (and writes it to ``--output`` if given): per length, the seconds per pass
and in total, and seconds per bar (flat if cost grows linearly with the song), with the search
as it ships (lattice stitching, beam 4, the learned reward). The first compile of the numba
kernels is paid once per machine (on-disk cache) and reported separately as ``warmup_s``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from composer.app import api


def spec_for(bars: int, candidates: int, generator: str = "rules") -> dict:
    """A song of ``bars`` bars in 8-bar sections that are all new or varied material (A B C ...
    Z A' B' ...), so every section generates, checks and scores all its candidates: the worst
    case. (Literal repeats are cheaper: they are copied, with one candidate.)"""
    n = max(1, bars // 8)
    names = [chr(ord("A") + i % 26) + "'" * (i // 26) for i in range(n)]
    return {
        "form": " ".join(names),
        "key": "Eb major",
        "style": "jazz",
        "tempo": 96,
        "seed": 1,
        "candidates": candidates,
        "generator": generator,
        "sections": {name[0]: {"bars": 8} for name in names},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bars", type=int, nargs="+", default=[32, 64, 128, 256])
    ap.add_argument("--candidates", type=int, default=16)
    ap.add_argument(
        "--generator", default="rules",
        help="section generator (default rules: the pipeline's own cost; the transformer's "
        "sampling is measured by bench_sampling.py)",
    )  # fmt: skip
    ap.add_argument("--output", type=Path, default=None)
    args = ap.parse_args()
    t0 = time.perf_counter()
    api.compose(spec_for(32, 2, args.generator))
    warmup = time.perf_counter() - t0
    rows = []
    for bars in args.bars:
        t0 = time.perf_counter()
        song = api.compose(spec_for(bars, args.candidates, args.generator))
        wall = time.perf_counter() - t0
        rows.append(
            {
                "bars": song.report.bars,
                "sections": len(song.report.sections),
                "notes": int(song.notes.size),
                "wall_s": round(wall, 3),
                "s_per_bar": round(wall / song.report.bars, 5),
                "passes_s": song.report.timings,
                "beam": song.report.search.beam if song.report.search else None,
            }
        )
    text = json.dumps(
        {
            "benchmark": "pipeline",
            "candidates_per_section": args.candidates,
            "warmup_s": round(warmup, 3),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "runs": rows,
        },
        indent=2,
    )
    print(text)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
