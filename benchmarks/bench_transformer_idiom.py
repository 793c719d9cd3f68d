"""The issue-15 idiom figures of the ``transformer`` generator, with and without the melody
plan's decoding masks, printed as JSON.

    python benchmarks/bench_transformer_idiom.py [--seeds 3] [--candidates 1] [--examples a,b]
        [--out F.json]

Composes the examples ballad, hymn, jig, blues and pop_song (their own spec, seeds 1..k) with
the ``transformer`` generator twice: ``masks`` (the plan's phrase ends, rhythm vocabulary and
budgets, tessitura as decoding masks, and the conditioning tokens the checkpoint knows) and
``no_masks`` (the same checkpoint and plan, the masks off: the generator as it was before issue
15). Measures each song's melody with :func:`composer.eval.melody_metrics.song_melody_metrics`:
16th-note and dotted-eighth shares (targets for ballad and hymn: <= 0.08 and <= 0.05), notes per
quarter (Bach's chorales ~0.84), phrase breathing (target 0.45-0.9).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXAMPLES = ("ballad", "hymn", "jig", "blues", "pop_song")
KEYS = ("sixteenth_share", "dotted_eighth_share", "notes_per_quarter", "phrase_breathing")


def _measure(spec: dict[str, Any]) -> dict[str, Any]:
    from composer.app import api
    from composer.eval.melody_metrics import song_melody_metrics
    from kernels.notes import TRACK_MELODY

    song = api.compose(spec)
    mel = song.notes[song.notes["track"] == TRACK_MELODY]
    m = song_melody_metrics(song.notes, song.plan)
    return {"style": song.plan.style, "notes": int(mel.size), **{k: m.get(k) for k in KEYS}}


def run(seeds: int, candidates: int, masks: bool, examples: tuple[str, ...]) -> dict[str, Any]:
    from composer.generators.transformer import plan_rules as pr

    original = pr.plan_rules
    if not masks:
        pr.plan_rules = lambda *a, **k: (None, None)
    try:
        out: dict[str, Any] = {}
        for name in examples:
            spec = yaml.safe_load((ROOT / "examples" / f"{name}.yaml").read_text())
            rows = []
            for seed in range(1, seeds + 1):
                rows.append(
                    _measure(
                        {**spec, "seed": seed, "candidates": candidates, "generator": "transformer"}
                    )
                )
            mean = {
                k: round(sum(r[k] for r in rows if r[k] is not None) / max(1, n), 4)
                for k in KEYS
                if (n := sum(r[k] is not None for r in rows))
            }
            out[name] = {"style": rows[0]["style"], "mean": mean, "songs": rows}
        return out
    finally:
        pr.plan_rules = original


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--candidates", type=int, default=1)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--examples", default=",".join(EXAMPLES), help="comma-separated names")
    args = ap.parse_args(argv)
    from composer.generators.transformer.generator import load
    from composer.generators.transformer.model import CHECKPOINT

    t0 = time.perf_counter()
    result = {
        "benchmark": "transformer idiom figures, plan masks on/off",
        "vocab_version": load(CHECKPOINT)[1].version,
        "seeds": args.seeds,
        "candidates": args.candidates,
        "no_masks": run(args.seeds, args.candidates, False, tuple(args.examples.split(","))),
        "masks": run(args.seeds, args.candidates, True, tuple(args.examples.split(","))),
    }
    result["seconds"] = round(time.perf_counter() - t0, 1)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return result


if __name__ == "__main__":
    main()
