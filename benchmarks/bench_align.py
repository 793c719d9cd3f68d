"""The DPO-aligned melody model against its reference, on the same specs and seeds.

    python benchmarks/bench_align.py --aligned DIR [--reference DIR] [--specs examples] \
        [--seeds 1 2 3] [--quick] [--out benchmarks/results/bench_align.json]

Five runs of what ``compose eval`` measures (:mod:`composer.eval.harness`), plus the melody
metrics of issue 15 (:mod:`composer.eval.melody_metrics`), with the ``transformer``
generator, differing only in the model and the number of candidates per section:

- reference N=1 (beam 1, diversity 0: the first proposal is kept), N=4 and N=16 (the default
  search, beam 4);
- aligned N=1 and N=4, the same searches with ``checkpoint: DIR``.

Per run: the songs' reward total and learned reward, hard violations, the held-out corpus
metrics (no reward computes them), diversity across seeds, and wall time. The KL of the aligned
model to the reference is estimated on melodies sampled by both searches' sampler for the
all-new sections of the same specs (:mod:`composer.training.align_data`). Per song, aligned
N=4 vs reference N=16: wins/ties/losses on every metric. The aim (issue 19) is aligned N=4 >=
reference N=16 at a quarter of the candidates. Prints JSON and writes it to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from composer.eval.harness import HELD_OUT, paired
from composer.generators.transformer.model import CHECKPOINT

ROOT = Path(__file__).resolve().parent.parent
N1 = {"candidates": 1, "preferences": {"beam": 1, "diversity": 0.0}}


def runs(aligned: Path, reference: Path) -> dict[str, dict[str, Any]]:
    ref = {"generator": "transformer", "checkpoint": str(reference)}
    ali = {"generator": "transformer", "checkpoint": str(aligned)}
    return {
        "reference N=1": {**ref, **N1},
        "reference N=4": {**ref, "candidates": 4},
        "reference N=16": {**ref, "candidates": 16},
        "aligned N=1": {**ali, **N1},
        "aligned N=4": {**ali, "candidates": 4},
    }


def run(specs: Path, out: Path, seeds: list[int], overrides: dict[str, Any]) -> dict[str, Any]:
    """What ``compose eval`` measures of every spec and seed (:mod:`composer.eval.harness`),
    plus the listener's melody metrics of issue 15 (:mod:`composer.eval.melody_metrics`)."""
    from composer.app.api import build_spec, compose
    from composer.eval.harness import seed_diversity, song_metrics, spec_files, summarise
    from composer.eval.melody_metrics import song_melody_metrics

    out.mkdir(parents=True)
    rows, diversity, files = [], {}, spec_files(specs)
    for path in files:
        made = []
        for seed in seeds:
            song = compose(build_spec(path, {**overrides, "seed": seed}))
            midi = out / f"{path.stem}-{seed}.mid"
            song.save(midi, force=True)
            row = {"spec": path.stem, "seed": seed, **song_metrics(midi, song.report)}
            row.update(song_melody_metrics(song.notes, song.plan))
            rows.append(row)
            made.append(midi)
        diversity[path.stem] = seed_diversity(made)
    res = summarise([p.stem for p in files], seeds, overrides, rows, diversity)
    melody = sorted({k for r in rows for k in r} - set(res["summary"]) - {"spec", "seed"})
    for key in melody:
        vals = [r[key] for r in rows if isinstance(r.get(key), int | float)]
        res["summary"][key] = round(float(np.mean(vals)), 4) if vals else None
    return res


def kl(aligned: Path, reference: Path, specs: Path, seeds: list[int], k: int) -> dict[str, Any]:
    """KL(aligned || reference) per section (nats), on ``k`` melodies per all-new section of
    every spec and seed, sampled from the aligned model; and the same samples' diversity."""
    from composer.generators.transformer.model import load_model
    from composer.training.align import logprobs
    from composer.training.align_data import contexts, given_table, sample_contexts
    from composer.training.dpo import kl_estimate

    named = [
        (f"{p.stem}-{s}", {**yaml.safe_load(p.read_text()), "seed": s})
        for p in sorted(specs.glob("*.yaml"))
        for s in seeds
    ]
    ctxs = contexts(named)
    given, pad = given_table(reference)
    samples = sample_contexts(aligned, ctxs, k, 0)
    seqs = [(s.prefix, c) for s in samples for c in s.completions]
    pol, ref = load_model(aligned), load_model(reference)
    value = kl_estimate(
        logprobs(pol, seqs, given, pad, "cpu"), logprobs(ref, seqs, given, pad, "cpu")
    )
    return {
        "kl_per_section": round(value, 4),
        "sections": len(samples),
        "samples": len(seqs),
        "candidate_diversity": round(float(np.mean([s.diversity for s in samples])), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--aligned", type=Path, required=True, help="the aligned checkpoint folder")
    ap.add_argument("--reference", type=Path, default=CHECKPOINT)
    ap.add_argument("--specs", type=Path, default=ROOT / "examples")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--quick", action="store_true", help="2 seeds, N=16 run kept (a smoke run)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/bench_align.json")
    ap.add_argument(
        "--cache", type=Path, default=None,
        help="keep each run's results here and reuse those made with the same settings",
    )  # fmt: skip
    ap.add_argument(
        "--only", choices=("reference", "aligned"), default=None,
        help="make only these runs (into --cache) and stop",
    )  # fmt: skip
    args = ap.parse_args()
    seeds = args.seeds[:2] if args.quick else args.seeds
    results: dict[str, Any] = {"aligned": str(args.aligned), "reference": str(args.reference)}
    card = args.aligned / "align.json"
    if card.is_file():
        a = json.loads(card.read_text())
        results["alignment"] = {
            k: a[k] for k in ("kept_round", "stopped_early", "seconds", "contexts", "config")
        }
        keys = ("round", "reward", "best_reward", "hard", "kl", "diversity", "held_out_score")
        results["alignment"]["rounds"] = [{k: r[k] for k in keys} for r in a["rounds"]]
    summaries: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-align-") as tmp:
        for i, (name, overrides) in enumerate(runs(args.aligned, args.reference).items()):
            if args.only is not None and not name.startswith(args.only):
                continue
            key = {"specs": str(args.specs), "seeds": seeds, "overrides": overrides}
            cached = None if args.cache is None else args.cache / f"{name.replace(' ', '_')}.json"
            if cached is not None and cached.is_file():
                old = json.loads(cached.read_text())
                if old["key"] == key:
                    summaries[name] = old["result"]
                    continue
            t0 = time.perf_counter()
            res = run(args.specs, Path(tmp) / f"run{i}", seeds, overrides)
            res["wall_s"] = round(time.perf_counter() - t0, 1)
            summaries[name] = res
            print(f"{name}: {json.dumps(res['summary'])} ({res['wall_s']} s)", file=sys.stderr)
            if cached is not None:
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_text(json.dumps({"key": key, "result": res}) + "\n")
    if args.only is not None:
        return
    t0 = time.perf_counter()
    results["kl"] = kl(args.aligned, args.reference, args.specs, seeds, 8)
    results["kl"]["wall_s"] = round(time.perf_counter() - t0, 1)
    results["specs"] = str(args.specs)
    results["seeds"] = seeds
    results["held_out"] = list(HELD_OUT)
    results["runs"] = {
        n: {"summary": r["summary"], "wall_s": r["wall_s"], "failed": r.get("failed", [])}
        for n, r in summaries.items()
    }
    results["songs"] = {n: r["songs"] for n, r in summaries.items()}
    results["aligned N=4 vs reference N=16 (wins/ties/losses)"] = paired(
        summaries["aligned N=4"], summaries["reference N=16"]
    )
    results["aligned N=1 vs reference N=1 (wins/ties/losses)"] = paired(
        summaries["aligned N=1"], summaries["reference N=1"]
    )
    a4, r16 = summaries["aligned N=4"]["summary"], summaries["reference N=16"]["summary"]
    results["aim: aligned N=4 reward >= reference N=16"] = bool(
        a4["reward_total"] >= r16["reward_total"]
    )
    text = json.dumps(results, indent=1) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(json.dumps({k: v for k, v in results.items() if k != "songs"}, indent=1))


if __name__ == "__main__":
    main()
