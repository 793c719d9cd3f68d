"""The issue-15 idiom figures of the ``transformer`` generator, with and without the melody
plan's decoding masks, printed as JSON.

    python benchmarks/bench_transformer_idiom.py [--seeds 3] [--examples a,b] [--out F.json]

Plans the examples ballad, hymn, jig, blues and pop_song (their own spec, seeds 1..k, up to the
melody plan) and writes every section's melody with the ``transformer`` generator (one
candidate, no search, so the figures are the generator's own) twice: ``masks`` (the plan's
phrase ends, rhythm vocabulary and budgets, tessitura as decoding masks, plus the
conditioning tokens the checkpoint knows) and ``no_masks`` (the same checkpoint and plan, the
masks off: the generator as it was before issue 15). Measures each song's melody with
:func:`composer.eval.melody_metrics.song_melody_metrics`:
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


def _melody_song(spec: dict[str, Any], seed: int, masks: bool) -> tuple[Any, Any]:
    """The planned song of ``spec`` and the transformer's melody of every section (one
    candidate, sampled section by section on the plan; no search), as one NoteArray."""
    import numpy as np

    from composer.app.api import _as_spec
    from composer.generators.base import GenerationContext
    from composer.generators.transformer import plan_rules as pr
    from composer.generators.transformer.generator import TransformerGenerator
    from composer.pipeline import PLANNING, compile_song
    from kernels.notes import TRACK_MELODY, shift

    song = compile_song(_as_spec({**spec, "seed": seed}), stop_after=PLANNING[-1]).plan
    assert song is not None
    original = pr.plan_rules
    if not masks:
        pr.plan_rules = lambda *a, **k: (None, None)
    try:
        gen, parts = TransformerGenerator(), []
        for i, sec in enumerate(song.sections):
            seg = gen.generate(
                sec, GenerationContext(song=song), 1, np.random.default_rng([seed, i])
            )
            mel = seg[0].notes[seg[0].notes["track"] == TRACK_MELODY]
            parts.append(shift(mel, song.section_start_tick(sec)))
    finally:
        pr.plan_rules = original
    return song, np.concatenate(parts)


def run(seeds: int, masks: bool, examples: tuple[str, ...]) -> dict[str, Any]:
    from composer.eval.melody_metrics import song_melody_metrics

    out: dict[str, Any] = {}
    for name in examples:
        spec = yaml.safe_load((ROOT / "examples" / f"{name}.yaml").read_text())
        rows = []
        for seed in range(1, seeds + 1):
            song, notes = _melody_song(spec, seed, masks)
            m = song_melody_metrics(notes, song)
            rows.append(
                {"style": song.style, "notes": int(notes.size), **{k: m.get(k) for k in KEYS}}
            )
        mean = {
            k: round(sum(r[k] for r in rows if r[k] is not None) / n, 4)
            for k in KEYS
            if (n := sum(r[k] is not None for r in rows))
        }
        out[name] = {"style": rows[0]["style"], "mean": mean, "songs": rows}
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeds", type=int, default=3)
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
        "no_masks": run(args.seeds, False, tuple(args.examples.split(","))),
        "masks": run(args.seeds, True, tuple(args.examples.split(","))),
    }
    result["seconds"] = round(time.perf_counter() - t0, 1)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)
    return result


if __name__ == "__main__":
    main()
