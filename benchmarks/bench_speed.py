"""What a user waits for: `compose` end to end, per generator, length and candidate count.

    python benchmarks/bench_speed.py [--trees after=. before=/path/to/old/tree]
        [--generators transformer rules] [--bars 32 64 128] [--candidates 1 4 16]
        [--repeat 1] [--batch-songs 8] [--workers 1 2] [--output F]

Every song is a fresh ``compose`` process, as a user runs it (imports, model load, compiled
kernels loaded from their cache, composing, writing, interpreter exit). With several ``--trees``
(source trees of this project, e.g. a checkout before a change), each measurement runs once per
tree in turn (A B A B), so a shared machine's load falls on both alike. Per song: wall seconds
and CPU seconds of the process (user + system, less sensitive to load) and the 1-minute load
average when it started. Also `compose --help` (best of 5) per tree and, for the last tree,
batch throughput: ``--batch-songs`` 32-bar songs through ``compose batch`` on each
``--workers`` count (songs per minute). Prints one JSON object (and writes it to ``--output``).
Songs are ``bench_pipeline.spec_for`` (8-bar sections, all new or varied material).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import spec_for

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = "import sys; from composer.cli import main; sys.exit(main())"


def _run(tree: Path, args: list[str]) -> dict[str, float]:
    """One `compose ARGS` process on ``tree``: wall and CPU seconds, load at the start."""
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1"}
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", COMPOSE, *args], cwd=tree, env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"compose {' '.join(args)} on {tree}: {out.stderr.strip()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "load1": round(load, 2)}


def _song(tree: Path, tmp: Path, gen: str, bars: int, cand: int) -> dict[str, float]:
    spec = tmp / f"{gen}-{bars}-{cand}.yaml"
    spec.write_text(yaml.safe_dump(spec_for(bars, cand, gen)))
    return _run(tree, ["--spec", str(spec), "-q", "--force", "-o", str(tmp / "song.mid")])


def _batch(tree: Path, tmp: Path, songs: int, workers: int, gen: str) -> dict[str, Any]:
    specs = tmp / f"batch-specs-{workers}"
    specs.mkdir()
    for i in range(songs):
        s = {**spec_for(32, 16, gen), "seed": i + 1}
        (specs / f"s{i:02d}.yaml").write_text(yaml.safe_dump(s))
    out = tmp / f"batch-out-{workers}"
    r = _run(tree, ["batch", str(specs), "--out", str(out), "--workers", str(workers), "-q"])
    summary = json.loads((out / "summary.json").read_text())
    return {
        "workers": workers,
        "songs": songs,
        **r,
        "songs_per_minute": round(60 * songs / r["wall_s"], 2),
        "pool_seconds": summary["seconds"],
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--trees", nargs="+", default=[f"this={ROOT}"], help="NAME=PATH ...")
    ap.add_argument("--generators", nargs="+", default=["transformer", "rules"])
    ap.add_argument("--bars", type=int, nargs="+", default=[32, 64, 128])
    ap.add_argument("--candidates", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--batch-songs", type=int, default=0, help="0: no batch measurement")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--batch-generator", default="transformer")
    ap.add_argument("--output", type=Path, default=None)
    args = ap.parse_args(argv)
    trees = {n: Path(p).resolve() for n, p in (t.split("=", 1) for t in args.trees)}
    result: dict[str, Any] = {
        "benchmark": "speed",
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "trees": {n: str(p) for n, p in trees.items()},
        "load_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory() as tmp_:
        tmp = Path(tmp_)
        for tree in trees.values():  # compile or load every kernel before timing
            for gen in args.generators:
                _song(tree, tmp, gen, 16, 2)
        helps: dict[str, list[dict[str, float]]] = {n: [] for n in trees}
        for _ in range(5):
            for name, tree in trees.items():
                helps[name].append(_run(tree, ["--help"]))
        result["help"] = {
            n: {"wall_s": min(h["wall_s"] for h in hs), "cpu_s": min(h["cpu_s"] for h in hs)}
            for n, hs in helps.items()
        }
        rows = []
        for gen in args.generators:
            for bars in args.bars:
                for cand in args.candidates:
                    for r in range(args.repeat):
                        for name, tree in trees.items():
                            m = _song(tree, tmp, gen, bars, cand)
                            rows.append({"tree": name, "generator": gen, "bars": bars,
                                         "candidates": cand, "repeat": r, **m})  # fmt: skip
                            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        result["songs"] = rows
        result["ratios"] = _ratios(rows)
        if args.batch_songs:
            last = list(trees.values())[-1]  # the newest tree (listed last)
            result["batch"] = [
                _batch(last, tmp, args.batch_songs, w, args.batch_generator) for w in args.workers
            ]
    result["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(result, indent=2)
    print(text)
    if args.output is not None:
        args.output.write_text(text + "\n")
    return result


def _ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per tree, length and candidates: transformer over rules (best of the repeats), by wall
    and by CPU time, and seconds per bar of each."""
    best: dict[tuple, dict[str, float]] = {}
    for r in rows:
        k = (r["tree"], r["generator"], r["bars"], r["candidates"])
        if k not in best or r["cpu_s"] < best[k]["cpu_s"]:
            best[k] = r
    out = []
    for (tree, gen, bars, cand), r in best.items():
        if gen != "transformer" or (tree, "rules", bars, cand) not in best:
            continue
        rules = best[(tree, "rules", bars, cand)]
        out.append({
            "tree": tree, "bars": bars, "candidates": cand,
            "transformer_over_rules_wall": round(r["wall_s"] / rules["wall_s"], 2),
            "transformer_over_rules_cpu": round(r["cpu_s"] / rules["cpu_s"], 2),
            "transformer_cpu_s_per_bar": round(r["cpu_s"] / bars, 4),
        })  # fmt: skip
    return out


if __name__ == "__main__":
    main()
