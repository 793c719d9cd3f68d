"""``compose eval``: measure the songs composed from a folder of specs (the loop is
:func:`composer.app.api.evaluate`), from the MIDI written.

Metrics (:mod:`composer.eval.metrics`) are computed on the output MIDI file read back
(:mod:`composer.eval.midiread`), with the sections, keys and chords of its report; the rewards and
hard violations come from the report. Per run: one row per song, means over songs, and the
diversity across seeds of each spec (mean over seed pairs of 1 - the interval-trigram Jaccard
similarity of the two songs' whole melodies), written as JSON and as a Markdown table.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from composer.app.output import write_files
from composer.eval import metrics as ev
from composer.eval.midiread import read_midi
from composer.render.report import Report
from composer.search.batch import HARD
from composer.search.similarity import motif_set, motif_similarity
from grammar.chords import parse_chord
from grammar.errors import SpecError, shorten
from grammar.keys import parse_key
from grammar.meter import parse_time_signature
from grammar.paths import folder_problem
from kernels.notes import TRACK_DRUMS, TRACK_MELODY

# Metrics that no reward computes, held out to check that alignment is not reward hacking.
HELD_OUT = (
    "interval_overlap",
    "rhythm_overlap",
    "scale_consistency",
    "entropy_gap",
    "empty_beat_rate",
)
# Direction of every metric in the table: +1 higher is better, -1 lower is better.
DIRECTION = {
    "reward_total": 1,
    "learned": 1,
    "hard_violations": -1,
    "in_key_rate": 1,
    "chord_tone_ratio": 1,
    "groove_consistency": 1,
    "structure": 1,
    "interval_overlap": 1,
    "rhythm_overlap": 1,
    "scale_consistency": 1,
    "entropy_gap": -1,
    "empty_beat_rate": -1,
    "pitch_class_entropy": 0,
}


def chord_spans(report: Report) -> list[tuple[int, int, int]]:
    """(start tick, end tick, 12-bit pitch-class mask) of every chord in the report, ticks from
    the song's start: the spans :func:`composer.eval.metrics.chord_tone_ratio` takes."""
    meter = parse_time_signature(report.time_signature)
    bar, beat = meter.bar_ticks, meter.beat_ticks
    out = []
    for s in report.sections:
        start = (s.start_bar - 1) * bar
        spans = [start + (c.bar - 1) * bar + round((c.beat - 1) * beat) for c in s.chords]
        ends = [*spans[1:], start + s.bars * bar]
        out += [
            (a, b, parse_chord(c.symbol).mask)
            for a, b, c in zip(spans, ends, s.chords, strict=True)
        ]
    return out


def song_metrics(midi_path: Path, report: Report, ref: dict | None = None) -> dict[str, float]:
    """Every metric of one composed song: its MIDI file and its report."""
    midi = read_midi(midi_path)
    meter = parse_time_signature(report.time_signature)
    bar, beat = meter.bar_ticks, meter.beat_ticks
    notes = midi.notes[midi.notes["track"] != TRACK_DRUMS]  # drum numbers are not pitches
    mel = notes[notes["track"] == TRACK_MELODY]
    length = report.bars * bar
    chords = chord_spans(report)
    keys, sections = [], []
    for s in report.sections:
        start = (s.start_bar - 1) * bar
        k = parse_key(s.key)
        keys.append((start, k.tonic, k.mode))
        inside = mel[(mel["onset"] >= start) & (mel["onset"] < start + s.bars * bar)]
        sections.append((s.label, inside["pitch"].astype(np.int64)))
    weights = np.array([s.bars for s in report.sections], dtype=np.float64)
    totals = np.array([s.scores["total"] for s in report.sections])
    learned = [s.scores["learned"] for s in report.sections if "learned" in s.scores]
    out: dict[str, Any] = {
        "reward_total": float((totals * weights).sum() / weights.sum()),
        "learned": float(np.mean(learned)) if learned else None,
        "hard_violations": float(
            sum(v for s in report.sections for k, v in s.violations.items() if k in HARD)
        ),
        "in_key_rate": ev.in_key_rate(notes["pitch"], notes["onset"], keys),
        "chord_tone_ratio": ev.chord_tone_ratio(mel["pitch"], mel["onset"], chords),
        "groove_consistency": ev.groove_consistency(notes["onset"], bar, length),
        "structure": ev.structure(sections),
        "scale_consistency": ev.scale_consistency(notes["pitch"]),
        "empty_beat_rate": ev.empty_beat_rate(mel["onset"], mel["duration"], beat, length),
        **ev.melody_metrics(mel["pitch"].astype(np.int64), mel["duration"], beat, ref),
    }
    return out


def _melody(midi_path: Path) -> np.ndarray:
    n = read_midi(midi_path).notes
    return n[n["track"] == TRACK_MELODY]["pitch"].astype(np.int64)


def seed_diversity(midi_paths: Sequence[Path]) -> float | None:
    """Mean over pairs of songs of 1 - the Jaccard similarity of their melodies' interval
    trigrams; None for fewer than two songs. [0, 1], higher = more diverse."""
    sets = [motif_set(_melody(p)) for p in midi_paths]
    pairs = list(combinations(sets, 2))
    if not pairs:
        return None
    return float(np.mean([1.0 - motif_similarity(a, b) for a, b in pairs]))


def _mean(rows: list[dict[str, Any]], key: str) -> float | None:
    vals = [r[key] for r in rows if r.get(key) is not None]
    return round(float(np.mean(vals)), 4) if vals else None


def summarise(
    specs: Sequence[str],
    seeds: Sequence[int],
    overrides: dict[str, Any] | None,
    rows: list[dict[str, Any]],
    diversity: dict[str, float | None],
) -> dict[str, Any]:
    """One run's results: the rows (one per song, from :func:`song_metrics`), their means, and
    the diversity across seeds of each spec (:func:`seed_diversity`)."""
    vals = [d for d in diversity.values() if d is not None]
    summary = {k: _mean(rows, k) for k in DIRECTION}
    summary["seed_diversity"] = round(float(np.mean(vals)), 4) if vals else None
    return {
        "specs": list(specs),
        "seeds": list(seeds),
        "overrides": overrides or {},
        "held_out": list(HELD_OUT),
        "summary": summary,
        "diversity": diversity,
        "songs": rows,
    }


def spec_files(folder: Path) -> list[Path]:
    """The ``*.yaml`` specs of ``folder``, sorted by name; SpecError if there are none."""
    problem = folder_problem(folder)
    if problem is not None:
        raise SpecError("eval", problem)
    specs = sorted(folder.glob("*.yaml"))
    if not specs:
        raise SpecError("eval", f"no *.yaml specs in '{shorten(folder, 120)}'")
    return specs


def targets(folder: Path, out_dir: Path, seeds: Sequence[int]) -> list[Path]:
    """Every file an evaluation of ``folder`` writes under ``out_dir``."""
    songs = [out_dir / f"{p.stem}-{seed}.mid" for p in spec_files(folder) for seed in seeds]
    return [
        *songs,
        *(p.with_suffix(".json") for p in songs),
        out_dir / "eval.json",
        out_dir / "eval.md",
    ]


def paired(a: dict[str, Any], b: dict[str, Any], tol: float = 1e-9) -> dict[str, str]:
    """Per metric, on how many songs (same spec and seed) run ``a`` beat run ``b`` in the
    metric's better direction, as "wins/ties/losses" (a tie: within ``tol``). A song that only
    ``a`` measured, or a metric either lacks for it, is left out."""
    rows_b = {(r["spec"], r["seed"]): r for r in b["songs"]}
    out = {}
    for key, sign in DIRECTION.items():
        if sign == 0:
            continue
        w = t = lo = 0
        for r in a["songs"]:
            x, y = r.get(key), rows_b.get((r["spec"], r["seed"]), {}).get(key)
            if x is None or y is None:
                continue
            d = sign * (x - y)
            w, t, lo = w + (d > tol), t + (abs(d) <= tol), lo + (d < -tol)
        out[key] = f"{w}/{t}/{lo}"
    return out


def table(results: dict[str, dict[str, Any]]) -> str:
    """A Markdown table of the summaries of several runs (columns), one metric a row."""
    names = list(results)
    lines = [
        "| metric | better | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for key in [*DIRECTION, "seed_diversity"]:
        arrow = {1: "higher", -1: "lower", 0: "near corpus"}.get(DIRECTION.get(key, 1), "")
        tag = " (held out)" if key in HELD_OUT else ""
        cells = [results[n]["summary"].get(key) for n in names]
        text = ["-" if c is None else f"{c:.4f}" for c in cells]
        lines.append(f"| {key}{tag} | {arrow} | " + " | ".join(text) + " |")
    return "\n".join(lines) + "\n"


def write(results: dict[str, Any], path: Path, force: bool = True) -> None:
    """The results as JSON at ``path`` and a Markdown table beside it (``.md``), both or
    neither (replacing existing ones only with ``force``)."""
    runs = results if "summary" not in results else {"run": results}
    files = {
        path: (json.dumps(results, indent=1) + "\n").encode(),
        path.with_suffix(".md"): table(runs).encode(),
    }
    write_files(files, force)
