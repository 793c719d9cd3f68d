"""The listener's melody metrics (:mod:`composer.eval.melody_metrics`) on held-out corpus pieces.

    python -m composer.training.melody_reference [--output FILE]

Pieces are the *test* split (:func:`composer.eval.metrics.corpus_split`, the rule every held-out
measure of the project shares), grouped by the style they stand for:

- ``hymn``: Bach chorales (``bach/*.mxl``), the soprano;
- ``folk``: the Essen tunes of :data:`planners.learn.folk.DEFAULT_FILES` (the pieces of the
  shipped evaluation reference), ``essenFolksong/<file>.abc#<X number>``;
- ``jig``: Ryan's Mammoth Collection tunes in 6/8 (slip jigs in 9/8 left out);
- ``reel``: Ryan's Mammoth tunes named a reel, in 2/2 or 4/4 (hornpipes, clogs left out).

The default FILE is ``benchmarks/results/bench_melody_corpus.json``. Only the test tunes of
an ABC collection are parsed (each tune's text with the file's header). A tune's top part is
read measure by measure (a short first measure is a pickup: its notes end bar 0 and phrases are
counted from bar 1); rests are gaps; a chord gives its top note. The key is the
Krumhansl-Schmuckler best key of the durations (:mod:`planners.tonality`); the blue-note rate
is kept for major-key pieces only (b3 and b7 are scale tones in minor). Written: per style,
the median, quartiles and mean of every metric over the pieces, and each piece's values.
Deterministic: same corpus, same file.
"""

from __future__ import annotations

import argparse
import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from composer.eval.melody_metrics import piece_metrics
from composer.eval.metrics import corpus_split
from grammar.errors import GrammarError
from grammar.meter import parse_time_signature
from kernels.notes import TICKS_PER_BEAT
from planners.learn.folk import DEFAULT_FILES
from planners.tonality import correlations

OUTPUT = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "bench_melody_corpus.json"
Piece = tuple[str, str, Any]  # (style, corpus path, music21 score)


def _corpus_root() -> Path:
    from music21 import corpus

    return Path(corpus.__file__).parent.resolve()


def _abc_tunes(path: Path) -> list[tuple[str, str]]:
    """(X number, tune text with the file's header) of every tune of an ABC file."""
    text = path.read_text(encoding="latin-1")
    parts = re.split(r"(?m)^(?=X:)", text)
    header = parts[0] if parts and not parts[0].startswith("X:") else ""
    out = []
    for part in parts:
        m = re.match(r"X:\s*(\d+)", part)
        if m:
            out.append((m.group(1), header + part))
    return out


def pieces() -> list[Piece]:
    """Every held-out piece, parsed (music21 imported here)."""
    from music21 import converter

    warnings.filterwarnings("ignore")
    root = _corpus_root()
    out: list[Piece] = []
    for p in sorted((root / "bach").glob("*.mxl")):
        rel = f"bach/{p.name}"
        if corpus_split(rel) == "test":
            out.append(("hymn", rel, converter.parse(str(p))))
    for stem in DEFAULT_FILES:
        for number, text in _abc_tunes(root / "essenFolksong" / f"{stem}.abc"):
            rel = f"essenFolksong/{stem}.abc#{number}"
            if corpus_split(rel) == "test":
                out.append(("folk", rel, converter.parseData(text, format="abc")))
    for p in sorted((root / "ryansMammoth").glob("*.abc")):
        rel = f"ryansMammoth/{p.name}"
        if corpus_split(rel) != "test":
            continue
        score = converter.parse(str(p))
        meter = _meter(score)
        if meter == "6/8":
            out.append(("jig", rel, score))
        elif meter in ("2/2", "4/4") and p.stem.endswith("Reel"):
            out.append(("reel", rel, score))
    return out


def _meter(score: Any) -> str | None:
    from music21 import meter

    sigs = list(score.recurse().getElementsByClass(meter.TimeSignature))
    if not sigs or any(s.ratioString != sigs[0].ratioString for s in sigs):
        return None
    return str(sigs[0].ratioString)


def melody_of(score: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, str, int] | None:
    """(onsets, durations, pitches in ticks, meter, first bar) of a score's top part; None
    for a mixed or unreadable meter or fewer than two notes."""
    from music21 import chord as m21chord

    text = _meter(score)
    if text is None or not score.parts:
        return None
    try:
        bar_ticks = parse_time_signature(text).bar_ticks
    except GrammarError:
        return None
    part = score.parts[0].stripTies()
    rows = []
    first = 0
    for i, m in enumerate(part.getElementsByClass("Measure")):
        length = round(float(m.duration.quarterLength) * TICKS_PER_BEAT)
        shift = 0
        if i == 0 and length < bar_ticks:
            shift, first = bar_ticks - length, 1
        for n in m.notes:
            if n.duration.isGrace or float(n.quarterLength) <= 0:
                continue
            pitch = (
                max(p.midi for p in n.pitches) if isinstance(n, m21chord.Chord) else n.pitch.midi
            )
            on = i * bar_ticks + shift + round(float(n.offset) * TICKS_PER_BEAT)
            rows.append((on, round(float(n.quarterLength) * TICKS_PER_BEAT), int(pitch)))
    if len(rows) < 2:
        return None
    a = np.array(sorted(rows), dtype=np.int64)
    return a[:, 0], a[:, 1], a[:, 2], text, first


def _key(durations: np.ndarray, pitches: np.ndarray) -> tuple[int, bool]:
    """(tonic pitch class, is major) of the best key of the duration-weighted histogram."""
    hist = np.bincount(pitches % 12, weights=durations, minlength=12)
    r = correlations(hist)
    mode, tonic = np.unravel_index(int(np.argmax(r)), r.shape)
    return int(tonic), int(mode) == 0


def summary(values: list[float]) -> dict[str, float | int]:
    """Median, quartiles, mean and count of a metric's values."""
    v = np.array(values, dtype=np.float64)
    q1, med, q3 = np.percentile(v, [25, 50, 75])
    return {
        "median": round(float(med), 4),
        "q1": round(float(q1), 4),
        "q3": round(float(q3), 4),
        "mean": round(float(v.mean()), 4),
        "n": len(v),
    }


def build(items: list[Piece]) -> dict[str, Any]:
    """Per style: the summary of every metric over its pieces, and the pieces' values."""
    rows: dict[str, dict[str, dict[str, float | None]]] = {}
    for style, rel, score in items:
        mel = melody_of(score)
        if mel is None:
            continue
        on, du, pi, text, first = mel
        tonic, major = _key(du, pi)
        metrics = piece_metrics(on, du, pi, parse_time_signature(text), tonic, first)
        if not major:  # b3 and b7 are scale tones in minor: the blue-note rate is for major keys
            metrics["blue_note_rate"] = None
        rows.setdefault(style, {})[rel] = metrics
    out: dict[str, Any] = {"schema_version": 1, "split": "test", "styles": {}}
    for style, pieces_ in sorted(rows.items()):
        names = sorted({k for m in pieces_.values() for k in m})
        out["styles"][style] = {
            "pieces": len(pieces_),
            "summary": {
                k: summary([v for m in pieces_.values() if (v := m.get(k)) is not None])
                for k in names
                if any(m.get(k) is not None for m in pieces_.values())
            },
            "values": {
                rel: {k: None if v is None else round(v, 4) for k, v in m.items()}
                for rel, m in sorted(pieces_.items())
            },
        }
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--output", type=Path, default=OUTPUT)
    args = ap.parse_args(argv)
    ref = build(pieces())
    args.output.write_text(json.dumps(ref, indent=1) + "\n", encoding="utf-8")
    counts = {s: v["pieces"] for s, v in ref["styles"].items()}
    print(f"wrote {args.output}: {counts}")


if __name__ == "__main__":
    main()
