"""Does the melody sing? The listener's melody metrics on composed songs, against the corpus.

    python benchmarks/bench_melody.py [--quick] [--random 50] [--generators rules,transformer]
        [--candidates 1,16] [--output benchmarks/results/bench_melody.json]
    python benchmarks/bench_melody.py --combine A.json B.json --output C.json

Songs: the examples (their own seeds), ``--random`` specs drawn over every shipped style (its
own meter, a random form, key and tempo in the style's range; ``bench_arrangement``'s drawing,
seed 0) and one long pop song (the prompt "a 128-bar pop song"), each composed by every
generator at every candidate count. Per song, from its notes and plan
(:func:`composer.eval.melody_metrics.song_melody_metrics`), plus the previous issue's held-out
corpus metrics (:func:`composer.eval.metrics.melody_metrics`). Per run (generator x
candidates), the issue's targets:

- phrase_breathing: mean, and the share of songs in 0.45..0.9;
- motif_recurrence: median (corpus ~0.4) and the share of songs >= 0.25;
- 16th and dotted-eighth shares per style; ballad and hymn (the styles, and the examples
  ``ballad`` and ``hymn``) should stay <= 0.08 and <= 0.05;
- blue_note_rate in blues songs in major keys (target >= 0.05);
- chorus_minus_verse: mean and the share of songs whose chorus sits above the verse;
- literal_copies (lower better), returns_differ in the long song (target >= 0.5).

The corpus reference (the same metrics on held-out pieces, per style) is read from
``benchmarks/results/bench_melody_corpus.json`` (built by ``python -m
composer.training.melody_reference``) and copied into the output. Prints JSON and writes it to
``--output``; ``--quick`` takes 6 random specs and the examples, for iteration. The output is
rewritten after every song (a run cut short keeps what it measured; ``complete`` says which
runs finished).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_arrangement import random_specs  # noqa: E402  (the same random specs)

RESULTS = ROOT / "benchmarks" / "results"
CORPUS = RESULTS / "bench_melody_corpus.json"
LONG_SONG = {"title": "long pop", "prompt": "a 128-bar pop song", "style": "pop", "seed": 128}
SLOW_LYRICAL = ("ballad", "hymn")  # styles (and example names) held to few 16ths and dots
BREATHING = (0.45, 0.9)
TARGETS: dict[str, Any] = {
    "phrase_breathing": BREATHING,
    "motif_recurrence_min": 0.25,
    "slow_sixteenth_max": 0.08,
    "slow_dotted_max": 0.05,
    "blue_note_rate_min": 0.05,
    "returns_differ_min": 0.5,
}


def specs(n_random: int) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for p in sorted((ROOT / "examples").glob("*.yaml")):
        spec = yaml.safe_load(p.read_text())
        spec.setdefault("seed", 1)
        out.append((p.stem, spec))
    out += random_specs(n_random)
    out.append(("long pop (128 bars)", dict(LONG_SONG)))
    return out


def only_styles(
    items: list[tuple[str, dict[str, Any]]], styles: set[str]
) -> list[tuple[str, dict[str, Any]]]:
    """The specs whose style (or, for an example without one, whose name) is in ``styles``."""
    return [(n, s) for n, s in items if (s.get("style") or n.split(" ")[0]) in styles]


def measure(name: str, song: Any) -> dict[str, Any]:
    from composer.eval import metrics as ev
    from composer.eval.melody_metrics import song_melody_metrics
    from kernels.notes import TRACK_MELODY

    plan = song.plan
    mel = song.notes[song.notes["track"] == TRACK_MELODY]
    row: dict[str, Any] = {
        "style": plan.style,
        "meter": plan.time_signature,
        "mode": plan.key_obj().mode,
        "bars": plan.total_bars,
        "slow_lyrical": plan.style in SLOW_LYRICAL or name in SLOW_LYRICAL,
    }
    row.update(song_melody_metrics(song.notes, plan))
    held = ev.melody_metrics(
        mel["pitch"].astype(np.int64), mel["duration"], plan.meter().beat_ticks
    )
    row.update({k: held[k] for k in ("interval_overlap", "rhythm_overlap", "entropy_gap")})
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}


def _vals(rows: list[dict[str, Any]], key: str, **where: Any) -> list[float]:
    return [
        r[key]
        for r in rows
        if r.get(key) is not None and all(r.get(k) == v for k, v in where.items())
    ]


def _r(x: Any) -> float | None:
    return None if x is None else round(float(x), 4)


def _mean(xs: list[float]) -> float | None:
    return _r(np.mean(xs)) if xs else None


def summarise(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The issue's figures over one run's songs."""
    allr = list(rows.values())
    short = [r for n, r in rows.items() if not n.startswith("long")]
    lo, hi = BREATHING
    pb = _vals(short, "phrase_breathing")
    mr = _vals(short, "motif_recurrence")
    cmv = _vals(allr, "chorus_minus_verse")
    per_style: dict[str, dict[str, Any]] = {}
    for style in sorted({r["style"] for r in allr}):
        rs = [r for r in allr if r["style"] == style]
        per_style[style] = {
            "songs": len(rs),
            **{
                k: _mean(_vals(rs, k))
                for k in (
                    "sixteenth_share",
                    "dotted_eighth_share",
                    "notes_per_quarter",
                    "phrase_breathing",
                    "motif_recurrence",
                    "blue_note_rate",
                )
            },
        }
    slow = [r for r in allr if r["slow_lyrical"]]
    long = [r for n, r in rows.items() if n.startswith("long")]
    return {
        "songs": len(allr),
        "phrase_breathing_mean": _mean(pb),
        "phrase_breathing_in_target": _mean([float(lo <= x <= hi) for x in pb]),
        "motif_recurrence_median": _r(np.median(mr)) if mr else None,
        "motif_recurrence_ge_0.25": _mean(
            [float(x >= TARGETS["motif_recurrence_min"]) for x in mr]
        ),
        "slow_lyrical_songs": len(slow),
        "slow_lyrical_sixteenth_share": _mean(_vals(slow, "sixteenth_share")),
        "slow_lyrical_dotted_eighth_share": _mean(_vals(slow, "dotted_eighth_share")),
        "blues_major_songs": len(_vals(allr, "blue_note_rate", style="blues", mode="major")),
        "blues_major_blue_note_rate": _mean(
            _vals(allr, "blue_note_rate", style="blues", mode="major")
        ),
        "blues_all_blue_note_rate": _mean(_vals(allr, "blue_note_rate", style="blues")),
        "chorus_minus_verse_mean": _mean(cmv),
        "chorus_above_verse": _mean([float(x > 0) for x in cmv]),
        "chorus_verse_songs": len(cmv),
        "literal_copies_mean": _mean(_vals(allr, "literal_copies")),
        "long_song_bars": long[0]["bars"] if long else None,
        "long_song_returns_differ": long[0].get("returns_differ") if long else None,
        "interval_overlap_mean (held out)": _mean(_vals(allr, "interval_overlap")),
        "rhythm_overlap_mean (held out)": _mean(_vals(allr, "rhythm_overlap")),
        "entropy_gap_mean (held out)": _mean(_vals(allr, "entropy_gap")),
        "per_style": per_style,
    }


def corpus_reference() -> dict[str, Any] | None:
    """Per corpus style: the median of every metric over its held-out pieces."""
    if not CORPUS.exists():
        return None
    ref = json.loads(CORPUS.read_text())
    return {
        style: {"pieces": v["pieces"], **{k: s["median"] for k, s in v["summary"].items()}}
        for style, v in ref["styles"].items()
    }


def run(
    items: list[tuple[str, dict[str, Any]]],
    generator: str,
    candidates: int,
    on_song: Callable[[dict[str, Any]], object] | None = None,
    weights: dict[str, float] | None = None,
) -> dict[str, Any]:
    from composer.app import api

    rows: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    t0 = time.perf_counter()

    def result(done: bool) -> dict[str, Any]:
        return {
            "generator": generator,
            "candidates": candidates,
            "complete": done,
            "seconds": round(time.perf_counter() - t0, 1),
            "summary": summarise(rows) if rows else None,
            "errors": errors,
            "songs": rows,
        }

    for name, spec in items:
        spec = {**spec, "generator": generator, "candidates": candidates}
        if weights:
            prefs = dict(spec.get("preferences") or {})
            prefs["weights"] = {**prefs.get("weights", {}), **weights}
            spec["preferences"] = prefs
        try:
            song = api.compose(spec)
        except Exception as exc:  # one failing spec is a row of the report, not the end of it
            errors[name] = f"{type(exc).__name__}: {exc}"[:300]
            continue
        rows[name] = measure(name, song)
        if on_song is not None:
            on_song(result(False))
        print(
            f"  {generator} x{candidates} {name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr
        )
    return result(True)


def table(result: dict[str, Any], which: str = "summary") -> str:
    """A Markdown table of the headline figures, one run a column, the corpus and target last
    (``which``: each run's "summary", or its "common" one after :func:`combine`)."""
    runs = result["runs"]
    corpus = result.get("corpus") or {}
    keys = [
        ("phrase_breathing_mean", "phrase_breathing", "0.45-0.9"),
        ("motif_recurrence_median", "motif_recurrence", ">= 0.25"),
        ("slow_lyrical_sixteenth_share", "sixteenth_share", "<= 0.08"),
        ("slow_lyrical_dotted_eighth_share", "dotted_eighth_share", "<= 0.05"),
        ("blues_major_blue_note_rate", None, ">= 0.05"),
        ("chorus_above_verse", None, "1"),
        ("chorus_minus_verse_mean", None, "> 0"),
        ("literal_copies_mean", "literal_copies", "low"),
        ("long_song_returns_differ", None, ">= 0.5"),
    ]
    names = [f"{r.get('label', '')} {r['generator']} x{r['candidates']}".strip() for r in runs]
    lines = [
        "| measure | " + " | ".join(names) + " | corpus (hymn / folk / jig / reel) | target |",
        "|---|" + "---|" * (len(names) + 2),
    ]
    for key, ckey, target in keys:
        cells = []
        for r in runs:
            v = (r.get(which) or {}).get(key)
            cells.append("-" if v is None else f"{v:.3f}")
        ref = "-"
        if ckey is not None:
            ref = " / ".join(
                "-" if corpus.get(s, {}).get(ckey) is None else f"{corpus[s][ckey]:.2f}"
                for s in ("hymn", "folk", "jig", "reel")
            )
        lines.append(f"| {key} | " + " | ".join(cells) + f" | {ref} | {target} |")
    return "\n".join(lines) + "\n"


def combine(paths: list[Path]) -> dict[str, Any]:
    """The runs of several outputs in one (the first file's header), each run also summarised
    over the songs every run measured (``common``), so runs on different spec sets compare."""
    parts = [json.loads(p.read_text()) for p in paths]
    runs: list[dict[str, Any]] = []
    for part in parts:  # shards of one run (same label, generator, candidates) become one run
        for r in part["runs"]:
            r = {"label": part.get("label", ""), **r}
            same = [
                x
                for x in runs
                if (x["label"], x["generator"], x["candidates"])
                == (r["label"], r["generator"], r["candidates"])
            ]
            if not same:
                runs.append(r)
                continue
            x = same[0]
            x["songs"] = {**x["songs"], **r["songs"]}
            x["errors"] = {**x["errors"], **r["errors"]}
            x["complete"] = x["complete"] and r["complete"]
            x["seconds"] = round(x["seconds"] + r["seconds"], 1)
            x["summary"] = summarise(x["songs"]) if x["songs"] else None
    common = set.intersection(*(set(r["songs"]) for r in runs)) if runs else set()
    for r in runs:
        rows = {n: v for n, v in r["songs"].items() if n in common}
        r["common"] = summarise(rows) if rows else None
    out = {**parts[0], "runs": runs, "combined_from": [str(p) for p in paths]}
    out["common_songs"] = sorted(common)
    out["table"] = table(out)
    out["table_common"] = table(out, "common")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="6 random specs instead of --random")
    ap.add_argument("--random", type=int, default=50)
    ap.add_argument("--generators", default="rules,transformer")
    ap.add_argument("--candidates", default="1,16")
    ap.add_argument(
        "--styles",
        default="",
        help="only these styles, e.g. blues (an example counts by its style or its name; the "
        "long song is pop)",
    )
    ap.add_argument(
        "--shard",
        default="",
        help="K/N: only every N-th spec from the K-th (0-based); --combine merges the shards",
    )
    ap.add_argument("--output", type=Path, default=RESULTS / "bench_melody.json")
    ap.add_argument("--label", default="", help="names the runs in tables, e.g. before / after")
    ap.add_argument(
        "--weights", type=json.loads, default=None, help="reward weights, JSON: '{\"hook\": 0}'"
    )
    ap.add_argument(
        "--combine",
        type=Path,
        nargs="+",
        help="merge these outputs' runs into --output, run nothing",
    )
    args = ap.parse_args(argv)
    if args.combine:
        text = json.dumps(combine(args.combine), indent=1)
        args.output.write_text(text + "\n", encoding="utf-8")
        print(text)
        return 0
    items = specs(6 if args.quick else args.random)
    if args.styles:
        items = only_styles(items, set(args.styles.split(",")))
    if args.shard:
        k, n = (int(x) for x in args.shard.split("/"))
        items = items[k::n]
    t0 = time.perf_counter()
    result: dict[str, Any] = {
        "label": args.label,
        "weights": args.weights,
        "quick": args.quick,
        "specs": [n for n, _ in items],
        "targets": TARGETS,
        "corpus": corpus_reference(),
        "runs": [],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)

    def save(runs: list[dict[str, Any]]) -> str:
        # after every song: a run cut short still leaves what it measured
        out = {**result, "runs": runs, "seconds": round(time.perf_counter() - t0, 1)}
        out["table"] = table(out)
        text = json.dumps(out, indent=1)
        args.output.write_text(text + "\n", encoding="utf-8")
        return text

    done: list[dict[str, Any]] = []
    for g in args.generators.split(","):
        for c in args.candidates.split(","):
            done.append(run(items, g, int(c), lambda partial: save([*done, partial]), args.weights))
            save(done)
    print(save(done))
    return 0


if __name__ == "__main__":
    sys.exit(main())
