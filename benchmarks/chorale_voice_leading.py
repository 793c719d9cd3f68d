"""Parallel/direct fifths and octaves on EVERY Bach chorale: kernel vs music21 objects; JSON.

    python benchmarks/chorale_voice_leading.py [--limit N] [--native]

For each distinct chorale file of music21's corpus (``corpus.chorales.Iterator`` lists 371
entries, some files twice): skip it, with a reason, if
it is not four monophonic parts; otherwise count, per voice pair, parallel and direct fifths
and octaves twice -- with the numba kernel on a NoteArray loaded by tests/chorales.py, and
with the music21-object reference there -- and compare. Prints one JSON object: chorales
processed and skipped (with reasons), per-pair totals from both, the mismatching chorales
(must be none) and timings. ``--native`` adds music21's own VoiceLeadingQuartet verdicts
(``parallelFifth()`` etc., which also count contrary "antiparallel" fifths and read intervals
by spelling) for comparison; they are not expected to match.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.chorales import (
    COUNTS,
    PAIRS,
    VOICES,
    chorale_names,
    chorale_notes,
    kernel_counts,
    load,
    music21_counts,
    skip_reason,
)


def _pair_name(pair: tuple[int, int]) -> str:
    return f"{VOICES[pair[0]]}-{VOICES[pair[1]]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N chorales")
    parser.add_argument("--native", action="store_true", help="add music21's own verdicts")
    args = parser.parse_args()

    entries = chorale_names()  # Riemenschneider numbering: 21 of 371 entries repeat a file
    names = list(dict.fromkeys(entries))[: args.limit]
    totals: dict[str, dict[str, Counter[str]]] = {"kernel": {}, "music21": {}}
    if args.native:
        totals["music21_native"] = {}
    for per_source in totals.values():
        for pair in PAIRS:
            per_source[_pair_name(pair)] = Counter(dict.fromkeys(COUNTS, 0))
    skipped: dict[str, str] = {}
    mismatches: list[dict[str, object]] = []
    processed = 0
    notes_total = 0
    kernel_s = music21_s = 0.0
    start = time.perf_counter()
    for name in names:
        score = load(name)
        reason = skip_reason(score)
        if reason is not None:
            skipped[name] = reason
            continue
        notes = chorale_notes(score)
        t0 = time.perf_counter()
        got = kernel_counts(notes)
        t1 = time.perf_counter()
        want = music21_counts(score)
        t2 = time.perf_counter()
        kernel_s += t1 - t0
        music21_s += t2 - t1
        processed += 1
        notes_total += int(notes.size)
        for source, counts in (("kernel", got), ("music21", want)):
            for pair in PAIRS:
                totals[source][_pair_name(pair)].update(counts[pair])
        if args.native:
            for pair, native in music21_counts(score, native=True).items():
                totals["music21_native"][_pair_name(pair)].update(native)
        if got != want:
            diff = {
                _pair_name(p): {"kernel": got[p], "music21": want[p]}
                for p in PAIRS
                if got[p] != want[p]
            }
            mismatches.append({"chorale": name, "pairs": diff})

    def summed(source: str, key: str) -> int:
        return sum(c[key] for c in totals[source].values())

    report = {
        "iterator_entries": len(entries),
        "distinct_chorales": len(names),
        "processed": processed,
        "skipped": len(skipped),
        "skip_reasons": dict(Counter(skipped.values())),
        "skipped_chorales": skipped,
        "notes": notes_total,
        "totals": {
            source: {
                "all_pairs": {key: summed(source, key) for key in COUNTS},
                "per_pair": {pair: dict(c) for pair, c in per_pair.items()},
            }
            for source, per_pair in totals.items()
        },
        "mismatching_chorales": len(mismatches),
        "mismatches": mismatches,
        "kernel_s": round(kernel_s, 3),
        "music21_reference_s": round(music21_s, 3),
        "wall_s": round(time.perf_counter() - start, 1),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
