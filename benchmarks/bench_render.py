"""Render timings and sizes: each output format of a composed song (JSON on stdout).

    python benchmarks/bench_render.py [--spec examples/pop_song.yaml --tempo 64]

The song is composed first (not timed here; see bench_pipeline.py), then every renderer is run
alone, as `compose -o` runs it: audio (.wav: FluidSynth, loudness, encoding), MusicXML, the
lead sheet as PDF and PNG (MusicXML + verovio + cairo), the plan picture.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from composer.app import api
from composer.render import audio
from composer.render.outputs import render_outputs


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", default="examples/pop_song.yaml")
    ap.add_argument("--tempo", type=int, default=64, help="64 bpm: the pop song lasts 3.5 min")
    ap.add_argument("--candidates", type=int, default=4)
    ap.add_argument("--generator", default="rules", help="rules: quick to compose; same renders")
    args = ap.parse_args()
    song = api.compose(
        api.build_spec(
            args.spec,
            {"tempo": args.tempo, "candidates": args.candidates, "generator": args.generator},
        )
    )
    out: dict[str, object] = {
        "spec": args.spec,
        "bars": song.report.bars,
        "song_seconds": song.report.duration_seconds,
    }
    with tempfile.TemporaryDirectory() as tmp:
        for suffix in (".wav", ".flac", ".musicxml", ".pdf", ".png", ".score.pdf", ".plan.png"):
            audio._mastered.cache_clear()
            p = Path(tmp) / f"song{suffix}"
            t, cpu, kids = time.perf_counter(), time.process_time(), _children_cpu()
            r = render_outputs([p], song.plan, song.notes, song.midi, song.report.duration_seconds)
            out[suffix] = {
                "wall_s": round(time.perf_counter() - t, 2),
                # CPU seconds (ours + fluidsynth's): what it costs on an idle machine
                "cpu_s": round(time.process_time() - cpu + _children_cpu() - kids, 2),
                "bytes": len(r[p].data),
                **r[p].details,
            }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
