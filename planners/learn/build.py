"""Rebuild the shipped harmony model from music21's corpus, bit for bit.

    python -m planners.learn.build [--out planners/data/harmony.json] [--chorales N] [--tunes N]
                                   [--plans N]

1. Every four-part Bach chorale is labelled beat by beat (``chorales.py``: template matching in
   the phrase's local key) and read at the planner's harmonic rhythm, in runs of one local key
   (``slots``); each run feeds the model of its key's mode.
2. A progression model per mode is fitted on those chorale progressions (``model.py``).
3. Folk melodies (``folk.py``: a fixed subset of the Essen collection) are harmonised bar by
   bar with that model (``harmoniser.py``), and a folk model per mode is fitted on the result.
4. Each model's sampling temperature is calibrated on its own corpus (``calibration.py``), at
   the harmonic rhythm and vocabulary of the style that uses it (chorale: two chords a bar, every
   chord the model knows; folk: one a bar, diatonic triads).
The output is sorted JSON of integer counts and the temperatures; the same corpus gives the same
bytes (calibration draws from fixed seeds).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from planners.learn.calibration import PLANS, REFERENCE_KEYS, calibrate
from planners.learn.chorales import by_mode, iter_chorales
from planners.learn.folk import DEFAULT_FILES, iter_tunes
from planners.learn.harmoniser import harmonise
from planners.learn.model import ProgressionModel, fit

SCHEMA_VERSION = 2  # 2: models carry calibrated temperatures
# (vocabulary, chords per bar) each corpus's model is calibrated at: its styles' usage
USAGE = {"chorale": ("all", 2), "folk": ("triads", 1)}
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "harmony.json"


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _calibrated(
    corpus: str, mode: str, seqs: list[tuple[list[str], list[int]]], plans: int
) -> ProgressionModel:
    """The model of ``seqs`` at the temperature calibrated for ``corpus``'s usage."""
    t0 = time.perf_counter()
    kind, per_bar = USAGE[corpus]
    temperature = calibrate(seqs, REFERENCE_KEYS[mode], kind, per_bar, plans=plans)
    _log(f"{corpus} {mode}: temperature {temperature} ({time.perf_counter() - t0:.0f} s)")
    return replace(fit(seqs), temperature=temperature)


def build(chorale_limit: int | None, tune_limit: int | None, plans: int = PLANS) -> dict[str, Any]:
    t0 = time.perf_counter()
    pieces = iter_chorales(chorale_limit)
    _log(f"chorales: {len(pieces)} labelled in {time.perf_counter() - t0:.0f} s")
    models: dict[str, dict[str, Any]] = {"chorale": {}, "folk": {}}
    counts: dict[str, dict[str, int]] = {"chorale": {}, "folk": {}}
    chorale = {}
    for mode in ("major", "minor"):
        seqs = by_mode(pieces, mode)
        chorale[mode] = _calibrated("chorale", mode, seqs, plans)  # the harmoniser's model too
        models["chorale"][mode] = chorale[mode].to_json()
        counts["chorale"][mode] = len(seqs)
    t1 = time.perf_counter()
    tunes = iter_tunes(DEFAULT_FILES, tune_limit)
    _log(f"folk tunes: {len(tunes)} read in {time.perf_counter() - t1:.0f} s")
    for mode in ("major", "minor"):
        seqs = []
        for tune in (t for t in tunes if t.key.mode == mode):
            states = harmonise(tune.bars, tune.key, chorale[mode])
            seqs.append((states, [0] * len(states)))
        models["folk"][mode] = _calibrated("folk", mode, seqs, plans).to_json()
        counts["folk"][mode] = len(seqs)
    return {
        "schema_version": SCHEMA_VERSION,
        "built_by": "python -m planners.learn.build",
        "corpus": {
            "chorales": len(pieces),
            "chorale_key_runs": counts["chorale"],
            "folk_tunes": counts["folk"],
            "folk_files": list(DEFAULT_FILES),
        },
        "models": models,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--chorales", type=int, default=None, help="only the first N (for a quick try)")
    ap.add_argument("--tunes", type=int, default=None, help="only the first N folk tunes")
    ap.add_argument(
        "--plans", type=int, default=PLANS, help="progressions per calibration step (quick tries)"
    )
    args = ap.parse_args(argv)
    if args.plans < 1:
        ap.error("--plans must be at least 1")
    data = build(args.chorales, args.tunes, args.plans)
    text = json.dumps(data, sort_keys=True, indent=1) + "\n"
    args.out.write_text(text, encoding="utf-8")
    _log(f"wrote {args.out} ({len(text) // 1024} KiB)")


if __name__ == "__main__":
    main()
