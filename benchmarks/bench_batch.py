"""Batch throughput: songs per minute through `compose batch`, local workers and Ray.

    python benchmarks/bench_batch.py [--songs 8] [--bars 32] [--candidates 16]
        [--runs local:1 local:2 ray:2] [--output benchmarks/results/speed_batch.json]

Each run is one fresh `compose batch SPECS --out DIR [--workers N | --ray --workers N] -q`
process over the same ``--songs`` specs (``bench_pipeline.spec_for``: 8-bar sections, the
default generator; seeds 1..N), as a user runs it: imports, every worker's start-up and model
load, Ray's start and stop, composing, writing. Per run: wall seconds, songs per minute, the
summary's own seconds (the pool, without the driver's imports), the sum of the songs' seconds
in their workers, and the machine's load (1-minute average) sampled every 2 s during the run
(this machine is shared: the load says how many cores the run really had). The outputs of
every run are compared with the first's: the same MIDI bytes. Prints one JSON object; with
``--output``, adds it to that file's ``batch_runs`` list (the file's other figures are kept).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import spec_for

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = "import sys; from composer.cli import main; sys.exit(main())"


def _batch(specs: Path, out: Path, kind: str, workers: int) -> dict[str, Any]:
    args = ["batch", str(specs), "--out", str(out), "--workers", str(workers), "-q"]
    if kind == "ray":
        args.append("--ray")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    loads: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(2.0):
            loads.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample, daemon=True)
    load0 = os.getloadavg()[0]
    sampler.start()
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", COMPOSE, *args], env=env, capture_output=True,
                       text=True)  # fmt: skip
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    if r.returncode != 0:
        raise RuntimeError(f"compose {' '.join(args)}: {r.stderr.strip()[-800:]}")
    summary = json.loads((out / "summary.json").read_text())
    songs = summary["counts"]["ok"]
    return {
        "executor": kind,
        "workers": workers,
        "songs": songs,
        "wall_s": round(wall, 2),
        "songs_per_minute": round(60 * songs / wall, 2),
        "pool_s": summary["seconds"],
        "song_s_sum": round(sum(s["seconds"] for s in summary["songs"]), 2),
        "song_s_mean": round(sum(s["seconds"] for s in summary["songs"]) / max(songs, 1), 2),
        "load1_start": round(load0, 2),
        "load1_mean": round(sum(loads) / len(loads), 2) if loads else None,
        "load1_max": round(max(loads), 2) if loads else None,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--songs", type=int, default=8)
    ap.add_argument("--bars", type=int, default=32)
    ap.add_argument("--candidates", type=int, default=16)
    ap.add_argument("--generator", default="transformer")
    ap.add_argument("--runs", nargs="+", default=["local:1", "local:2", "ray:2"],
                    help="EXECUTOR:WORKERS, EXECUTOR local or ray")  # fmt: skip
    ap.add_argument("--output", type=Path, default=None)
    args = ap.parse_args(argv)
    result: dict[str, Any] = {
        "benchmark": "batch",
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "songs": args.songs,
        "spec": {"bars": args.bars, "candidates": args.candidates, "generator": args.generator},
        "runs": [],
    }
    with tempfile.TemporaryDirectory() as tmp_:
        tmp = Path(tmp_)
        specs = tmp / "specs"
        specs.mkdir()
        for i in range(args.songs):
            s = {**spec_for(args.bars, args.candidates, args.generator), "seed": i + 1}
            (specs / f"s{i:02d}.yaml").write_text(yaml.safe_dump(s))
        first: Path | None = None
        for run in args.runs:
            kind, _, n = run.partition(":")
            out = tmp / f"out-{kind}-{n}"
            row = _batch(specs, out, kind, int(n))
            if first is None:
                first = out
            row["same_midi_as_first"] = all(
                (out / f.name).read_bytes() == f.read_bytes() for f in first.glob("*.mid")
            )
            result["runs"].append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    text = json.dumps(result, indent=2)
    print(text)
    if args.output is not None:
        data = json.loads(args.output.read_text()) if args.output.exists() else {}
        data.setdefault("batch_runs", []).append(result)
        args.output.write_text(json.dumps(data, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
