"""What a user waits for: `compose` end to end, per generator, length and candidate count.

    python benchmarks/bench_speed.py [--trees before=/path/to/old/tree after=.]
        [--mode warm cold] [--generators transformer rules] [--bars 32 64 128 256]
        [--candidates 1 4 16] [--repeat 1] [--batch-songs 8] [--workers 1 2] [--output F]

``warm`` (the per-song cost): one process per tree loads everything once (imports, weights,
compiled kernels: its start-up, timed phase by phase, is reported apart as ``startup``) and then
composes every song in turn (``api.compose``, the MIDI bytes made), timed by wall clock and by
the process's CPU time (all its threads; the steadier figure on a shared machine). Per song
also seconds per bar and the SHA-256 of the MIDI (the same bytes on every tree show that a
change kept the output). ``warm_ratios``: transformer over rules per length and candidate count.

``cold`` (what a user running one ``compose`` waits for): every song is a fresh ``compose``
process (imports, model load, compiled kernels loaded from their cache, composing, writing,
interpreter exit). With several ``--trees``
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
# Generator names that are a spec option on top of a generator; measured on the newest tree
# only (listed last in --trees: an older tree may not know the option).
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "transformer-adaptive": ("transformer", {"preferences": {"adaptive": True}}),
}


def _spec(gen: str, bars: int, cand: int) -> dict[str, Any]:
    base, extra = VARIANTS.get(gen, (gen, {}))
    return {**spec_for(bars, cand, base), **extra}


COMPOSE = "import sys; from composer.cli import main; sys.exit(main())"
# The warm worker (run on each tree's code, so an old tree needs nothing of this file): timed
# start-up, then one JSON spec a line on stdin, one JSON result a line on stdout.
WORKER = r"""
import hashlib, json, sys, time
def lap(t0, c0): return {"wall_s": round(time.perf_counter() - t0, 3),
                         "cpu_s": round(time.process_time() - c0, 3)}
phases = {}
t0, c0 = time.perf_counter(), time.process_time()
import torch
phases["import_torch"] = lap(t0, c0); t, c = time.perf_counter(), time.process_time()
import numba
phases["import_numba"] = lap(t, c); t, c = time.perf_counter(), time.process_time()
from composer.app import api
from composer.generators.transformer.generator import load
phases["import_project"] = lap(t, c); t, c = time.perf_counter(), time.process_time()
load()
phases["load_weights"] = lap(t, c)
for gen in sys.argv[1:]:  # the compiled kernels: loaded from numba's cache (or compiled)
    t, c = time.perf_counter(), time.process_time()
    api.compose({"form": "A A' B A", "candidates": 2, "seed": 0, "generator": gen})
    phases["first_song_" + gen] = lap(t, c)
phases["total"] = lap(t0, c0)
print(json.dumps(phases), flush=True)
for line in sys.stdin:
    t, c = time.perf_counter(), time.process_time()
    song = api.compose(json.loads(line))
    r = lap(t, c)
    r["midi_sha256"] = hashlib.sha256(song.midi).hexdigest()[:16]
    print(json.dumps(r), flush=True)
"""


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


class _Warm:
    """A warm worker process on ``tree``: its start-up phases, then one song per call."""

    def __init__(self, tree: Path, generators: list[str]) -> None:
        env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, *generators], cwd=tree, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        self.startup = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"warm worker exited with {self.proc.wait()}")
        out: dict[str, Any] = json.loads(line)
        return out

    def song(self, spec: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None
        load = os.getloadavg()[0]
        self.proc.stdin.write(json.dumps(spec) + "\n")
        self.proc.stdin.flush()
        return {**self._read(), "load1": round(load, 2)}

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait()


def _warm(trees: dict[str, Path], args: argparse.Namespace) -> dict[str, Any]:
    """Every song composed in one warm process per tree, the trees taking turns."""
    plain = [g for g in args.generators if g not in VARIANTS]
    workers = {n: _Warm(t, plain) for n, t in trees.items()}
    newest = list(trees)[-1]
    rows = []
    try:
        for gen in args.generators:
            for bars in args.bars:
                for cand in args.candidates:
                    for r in range(args.repeat):
                        for name, w in workers.items():
                            if gen in VARIANTS and name != newest:
                                continue
                            m = w.song(_spec(gen, bars, cand))
                            rows.append({"tree": name, "generator": gen, "bars": bars,
                                         "candidates": cand, "repeat": r, **m,
                                         "cpu_s_per_bar": round(m["cpu_s"] / bars, 4)})  # fmt: skip
                            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    finally:
        for w in workers.values():
            w.close()
    return {
        "startup": {n: w.startup for n, w in workers.items()},
        "songs": rows,
        "ratios": _ratios(rows),
        "same_midi": _same_midi(rows) if len(trees) > 1 else None,
    }


def _same_midi(rows: list[dict[str, Any]]) -> dict[str, bool]:
    """Per song (generator/bars/candidates): whether every tree wrote the same MIDI bytes."""
    shas: dict[str, set[str]] = {}
    for r in rows:
        shas.setdefault(f"{r['generator']}/{r['bars']}/{r['candidates']}", set()).add(
            r["midi_sha256"]
        )
    return {k: len(v) == 1 for k, v in shas.items()}


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
    ap.add_argument("--mode", nargs="+", choices=["warm", "cold"], default=["warm", "cold"])
    ap.add_argument(
        "--generators", nargs="+", default=["transformer", "rules"],
        help="also transformer-adaptive (preferences.adaptive; warm mode, newest tree only)",
    )  # fmt: skip
    ap.add_argument("--bars", type=int, nargs="+", default=[32, 64, 128, 256])
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
    if "warm" in args.mode:
        result["warm"] = _warm(trees, args)
    if "cold" in args.mode:
        _cold(trees, args, result)
    result["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(result, indent=2)
    print(text)
    if args.output is not None:
        args.output.write_text(text + "\n")
    return result


def _cold(trees: dict[str, Path], args: argparse.Namespace, result: dict[str, Any]) -> None:
    """Every song a fresh ``compose`` process; ``compose --help``; batch throughput."""
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


def _ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per tree, generator, length and candidates: the generator over rules (best of the
    repeats, by CPU time), by wall and by CPU time, and CPU seconds per bar of each (the
    ``transformer_*`` keys name the generator of the row, ``generator``)."""
    best: dict[tuple, dict[str, float]] = {}
    for r in rows:
        k = (r["tree"], r["generator"], r["bars"], r["candidates"])
        if k not in best or r["cpu_s"] < best[k]["cpu_s"]:
            best[k] = r
    out = []
    for (tree, gen, bars, cand), r in best.items():
        if gen == "rules" or (tree, "rules", bars, cand) not in best:
            continue
        rules = best[(tree, "rules", bars, cand)]
        out.append({
            "tree": tree, "generator": gen, "bars": bars, "candidates": cand,
            "transformer_over_rules_wall": round(r["wall_s"] / rules["wall_s"], 2),
            "transformer_over_rules_cpu": round(r["cpu_s"] / rules["cpu_s"], 2),
            "transformer_cpu_s_per_bar": round(r["cpu_s"] / bars, 4),
            "rules_cpu_s_per_bar": round(rules["cpu_s"] / bars, 4),
        })  # fmt: skip
    return out


if __name__ == "__main__":
    main()
