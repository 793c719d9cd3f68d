"""Does the band play the style? Measured on the MIDI files read back by mido (not our code).

    python benchmarks/bench_arrangement.py [--random 50] [--generator rules] [--candidates 4]

Songs: the examples (their own seeds) and ``--random`` specs drawn over every shipped style
(its own meter, a random form, key and tempo in the style's range). The generator defaults to
``rules`` for speed: the band does not depend on the melody generator except through the melody
it must stay under and end with. Per song, from the MIDI file alone (track names, notes,
time signature) plus the plan's chords for the chord-tone checks:

- drums: a Drums track with notes iff the style has a beat (none in a hymn or chorale);
- melody_above: share of melody time (sampled every 30 ticks) with the melody above every
  comp note sounding then;
- ending: the last melody note starts on a bar's downbeat or strong beat (+-30 ticks: the
  performance is humanised), lasts >= 2 quarter beats, is a tone of the chord there; the last
  bass note is the root of the final chord and that root is the last section's tonic;
- patterns: distinct comp+drum bar patterns (onsets to the 16th, per instrument) a song; the
  verse (theme) and chorus (or bridge) sections share no bar pattern set;
- swing: median position of off-beat eighths in the beat (onsets between 0.42 and 0.78 of a
  quarter; swing styles should sit near 2/3, straight ones at 1/2);
- walking: bass notes per bar in 4/4 songs of walking styles (jazz, swing) at >= 100 bpm;
- grid_68: share of onsets within 30 ticks of the eighth-note grid in 6/8 (the melody's notes
  shorter than an eighth, its ornaments' graces, cuts and rolls, left out: they sit between
  the eighths by design);
- melody velocity standard deviation; the band's per-bar mean velocity span;
- count-in: the notes before the "bar 1" marker are drums only and last as long as the
  style's count-in (none where it has none);
- pedal points: sections where the style's pedal applies (composer.arrange.bass.pedal_span)
  whose bass notes, read back, all hold the pedal's pitch class.
Prints JSON: the figures over all songs, and per song.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import mido
import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOL = 30  # ticks: humanisation is ~6 ticks sd, clipped at 12
GRID_TOL = 48  # strums spread 7 ticks a string on top; an off-grid 16th is 120 ticks away


def read_midi(path: Path) -> dict[str, Any]:
    """Notes by track name from bar 1 on (a count-in before the "bar 1" marker is kept apart:
    ``count_in`` holds its drum notes, ``lead`` its length)."""
    mf = mido.MidiFile(str(path))
    ts, notes, lead, pre = (4, 4), {}, 0, []
    for track in mf.tracks:
        now, name, open_, out = 0, None, {}, []
        for m in track:
            now += m.time
            if m.type == "marker" and m.text == "bar 1":
                lead = now
            elif m.type == "track_name":
                name = m.name
            elif m.type == "time_signature":
                ts = (m.numerator, m.denominator)
            elif m.type == "note_on" and m.velocity > 0:
                open_[m.note] = (now, m.velocity)
            elif m.type in ("note_on", "note_off") and m.note in open_:
                s, v = open_.pop(m.note)
                out.append((s, now - s, m.note, v))
        pre += [(name, *n) for n in out if n[0] < lead]
        out = [(s - lead, d, p, v) for s, d, p, v in out if s >= lead]
        if out:
            notes[name] = sorted(out)
    return {"tpb": mf.ticks_per_beat, "ts": ts, "notes": notes, "lead": lead, "count_in": pre}


def _sounding(notes: list[tuple[int, int, int, int]], t: int) -> list[int]:
    return [p for s, d, p, _ in notes if s <= t < s + d]


def measure(path: Path, song: Any) -> dict[str, Any]:
    from planners.styles import get_style

    rb = read_midi(path)
    plan = song.plan
    style = get_style(plan.style)
    tpb, (num, den) = rb["tpb"], rb["ts"]
    bar = tpb * 4 * num // den
    mel = rb["notes"].get("Melody", [])
    comp = rb["notes"].get("Chords", [])
    bass = rb["notes"].get("Bass", [])
    drums = rb["notes"].get("Drums", [])
    out: dict[str, Any] = {"style": plan.style, "meter": f"{num}/{den}", "tempo": plan.tempo}
    out["has_beat"] = style.drums is not None
    out["drums_ok"] = bool(drums) == out["has_beat"]
    # melody above the comp
    above = total = 0
    for s, d, p, _ in mel:
        for t in range(s, s + d, 30):
            total += 1
            above += all(p > q for q in _sounding(comp, t))
    out["melody_above"] = above / max(1, total)
    # ending
    last = max(mel, key=lambda n: n[0])
    meter = plan.meter()
    pos = last[0] % bar
    strong = [0, *meter.strong_offsets]
    out["end_on_downbeat"] = min(abs(pos - o) for o in [*strong, bar]) <= TOL
    out["end_on_bar_downbeat"] = min(pos, bar - pos) <= TOL
    out["end_held_beats"] = round(last[1] / tpb, 2)
    sec = plan.sections[-1]
    start = plan.section_start_tick(sec)
    rel = min(max(0, round(last[0] / 60) * 60 - start), sec.bars * bar - 1)
    from composer.generators.rules.timeline import ChordTimeline

    chord = ChordTimeline.of(sec).at(rel)
    out["end_chord_tone"] = last[2] % 12 in chord.pitch_classes
    final_chord = ChordTimeline.of(sec).chords[-1]
    lb = max(bass, key=lambda n: (n[0] + n[1], n[0])) if bass else None
    tonic = sec.key_obj().tonic
    out["bass_final_root"] = lb is not None and lb[2] % 12 == final_chord.root
    out["bass_final_tonic"] = lb is not None and lb[2] % 12 == tonic
    # patterns
    pats = []
    for b in range(plan.total_bars):
        lo, hi = b * bar, (b + 1) * bar
        key = tuple(sorted({("c", round((s - lo) / (tpb / 4))) for s, *_ in comp if lo <= s < hi}))
        key += tuple(
            sorted({(p, round((s - lo) / (tpb / 4))) for s, _, p, _ in drums if lo <= s < hi})
        )
        pats.append(key)
    out["distinct_bar_patterns"] = len(set(pats))
    roles: dict[str, set[Any]] = {}
    for s in plan.sections:
        b0 = s.start_bar - 1
        group = {"verse": "A", "theme": "A", "chorus": "B", "refrain": "B", "bridge": "B"}
        g = group.get(s.role)
        if g:
            roles.setdefault(g, set()).update(pats[b0 : b0 + s.bars - 1])  # without the fill bar
    out["verse_chorus_differ"] = (
        None if len(roles) < 2 else not (roles["A"] >= roles["B"] and roles["B"] >= roles["A"])
    )
    # swing
    allnotes = mel + comp + bass + drums
    offs = [(s % tpb) / tpb for s, *_ in allnotes]
    mids = [x for x in offs if 0.42 <= x <= 0.78]
    out["swing"] = style.feel.swing
    out["offbeat_median"] = (
        round(float(np.median(mids)), 3) if mids and not meter.is_compound else None
    )
    # walking
    walking = style.bass is not None and "W" in str(style.bass.mid)
    if walking and (num, den) == (4, 4) and plan.tempo > style.slow_tempo and plan.tempo >= 100:
        out["bass_notes_per_bar"] = round(len(bass) / plan.total_bars, 2)
    # 6/8 grid
    if (num, den) == (6, 8):
        # the melody's ornaments (graces, cuts, rolls: composer.generators.ornaments) are notes
        # shorter than an eighth that sit between the eighths by design; the grid is judged on
        # the band and on the melody's notes of an eighth or more
        short = {id(n) for n in mel if n[1] < tpb // 2 - TOL}
        notes_68 = [n for n in allnotes if id(n) not in short]
        on = np.array([s for s, *_ in notes_68 if s < plan.total_bars * bar - bar])
        dev = np.minimum(on % (tpb // 2), tpb // 2 - on % (tpb // 2))
        out["grid_68"] = float(np.mean(dev <= GRID_TOL)) if on.size else None
    # count-in: as long as the style's, drums only, before bar 1 (none when the style has none)
    from composer.arrange.bass import pedal_span
    from composer.arrange.drums import count_in

    want, _ = count_in(style, meter, plan.count_in, plan.tempo)
    out["count_in_bars"] = round(rb["lead"] / bar, 2)
    out["count_in_ok"] = rb["lead"] == want and all(n[0] == "Drums" for n in rb["count_in"])
    out["count_in_ok"] = out["count_in_ok"] and (want == 0 or bool(rb["count_in"]))
    # pedal points: where the style's pedal applies, the bass notes starting there share one
    # pitch class, the pedal's, while the chords over it change or differ from it
    held = spans = 0
    for i, s in enumerate(plan.sections):
        nxt = plan.sections[i + 1] if i + 1 < len(plan.sections) else None
        span = pedal_span(style, s, nxt, bar)
        if span is None:
            continue
        a, b, pc = span
        a += plan.section_start_tick(s)
        b += plan.section_start_tick(s)
        if s.index == len(plan.sections) - 1:
            b -= bar  # the final bar ends on the final chord's root
        notes_ = [p for on, _, p, _ in bass if a - TOL <= on < b - TOL]
        spans += 1
        held += bool(notes_) and {p % 12 for p in notes_} == {pc}
    out["pedal_sections"] = spans
    out["pedal_held"] = held
    out["melody_velocity_std"] = round(float(np.std([v for *_, v in mel])), 2)
    means = []
    for b in range(plan.total_bars):
        vs = [v for s, _, _, v in comp + bass + drums if b * bar <= s < (b + 1) * bar]
        if vs:
            means.append(np.mean(vs))
    out["band_velocity_span"] = round(float(max(means) - min(means)), 1) if means else 0.0
    return out


TONICS = ("C", "G", "D", "F", "Bb", "Eb", "A", "E")


def random_specs(n: int, seed: int = 0) -> list[tuple[str, dict[str, Any]]]:
    from planners.styles import STYLES

    rng = np.random.default_rng(seed)
    names = sorted(STYLES)
    forms = (
        "AABA",
        "A A' B A",
        "verse chorus verse chorus",
        "intro verse chorus bridge chorus outro",
        "ABAB",
    )
    out = []
    for i in range(n):
        style = STYLES[names[i % len(names)]]
        slow, _, fast = style.tempo
        spec = {
            "title": f"random {i}",
            "style": style.name,
            "key": f"{rng.choice(TONICS)} {rng.choice(['major', 'minor'])}",
            "form": str(rng.choice(forms)),
            "tempo": int(rng.integers(slow, fast + 1)),
            "seed": int(rng.integers(2**31)),
        }
        out.append((f"random {i} ({style.name})", spec))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--random", type=int, default=50)
    ap.add_argument("--generator", default="rules")
    ap.add_argument("--candidates", type=int, default=4)
    ap.add_argument("--out", type=Path, help="Also write the JSON here after every song.")
    args = ap.parse_args()
    from composer.app import api

    specs = []
    for p in sorted((ROOT / "examples").glob("*.yaml")):
        spec = yaml.safe_load(p.read_text())
        spec.setdefault("seed", 1)
        specs.append((p.stem, spec))
    specs += random_specs(args.random)
    rows = {}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name, spec in specs:
            spec = {**spec, "generator": args.generator, "candidates": args.candidates}
            song = api.compose(spec)
            path = Path(tmp) / "song.mid"
            path.write_bytes(song.midi)
            rows[name] = measure(path, song)
            if args.out is not None:
                args.out.write_text(json.dumps(report(rows, args, t0), indent=1) + "\n")
    print(json.dumps(report(rows, args, t0), indent=1))


def report(rows: dict[str, Any], args: argparse.Namespace, t0: float) -> dict[str, Any]:
    """The figures over the songs measured so far, and per song."""
    vals = list(rows.values())

    def share(key: str) -> float:
        xs = [r[key] for r in vals if r.get(key) is not None]
        return round(float(np.mean(xs)), 3) if xs else float("nan")

    swing = [
        r["offbeat_median"]
        for r in vals
        if r["swing"] > 0.5 and r.get("offbeat_median") is not None
    ]
    straight = [
        r["offbeat_median"]
        for r in vals
        if r["swing"] == 0.5 and r.get("offbeat_median") is not None
    ]
    walk = [r["bass_notes_per_bar"] for r in vals if "bass_notes_per_bar" in r]
    grid = [r["grid_68"] for r in vals if r.get("grid_68") is not None]
    summary = {
        "songs": len(vals),
        "generator": args.generator,
        "candidates": args.candidates,
        "seconds": round(time.perf_counter() - t0, 1),
        "drums_as_style_says": share("drums_ok"),
        "melody_above_comp_min": round(min(r["melody_above"] for r in vals), 3),
        "melody_above_comp_mean": share("melody_above"),
        "songs_melody_above_ge_0.9": round(
            float(np.mean([r["melody_above"] >= 0.9 for r in vals])), 3
        ),
        "end_on_downbeat_or_strong_beat": share("end_on_downbeat"),
        "end_on_bar_downbeat": share("end_on_bar_downbeat"),
        "end_held_ge_2_beats": round(
            float(np.mean([r["end_held_beats"] >= 2 - TOL / 480 for r in vals])), 3
        ),
        "end_on_chord_tone": share("end_chord_tone"),
        "bass_ends_on_final_root": share("bass_final_root"),
        "bass_ends_on_tonic": share("bass_final_tonic"),
        "distinct_bar_patterns_min": min(r["distinct_bar_patterns"] for r in vals),
        "songs_ge_3_patterns": round(
            float(np.mean([r["distinct_bar_patterns"] >= 3 for r in vals])), 3
        ),
        "verse_chorus_differ": share("verse_chorus_differ"),
        "swing_offbeat_median": round(float(np.median(swing)), 3) if swing else None,
        "swing_offbeat_min": round(min(swing), 3) if swing else None,
        "straight_offbeat_median": round(float(np.median(straight)), 3) if straight else None,
        "jazz_walk_bass_notes_per_bar_min": min(walk) if walk else None,
        "jazz_walk_songs": len(walk),
        "grid_68_min": min(grid) if grid else None,
        "melody_velocity_std_min": min(r["melody_velocity_std"] for r in vals),
        "band_velocity_span_min": min(r["band_velocity_span"] for r in vals),
        "count_in_as_style_says": share("count_in_ok"),
        "songs_with_count_in": sum(r["count_in_bars"] > 0 for r in vals),
        "pedal_sections": sum(r["pedal_sections"] for r in vals),
        "pedal_held": sum(r["pedal_held"] for r in vals),
    }
    return {"summary": summary, "songs": rows}


if __name__ == "__main__":
    main()
