"""Which renderer writes which file: the output's suffix picks it (``-o song.wav``).

| suffix | renderer | what |
|---|---|---|
| .mid .midi | :mod:`composer.render.midi` | the song (type-1 MIDI) |
| .wav .flac .ogg .mp3 | :mod:`composer.render.audio` | FluidSynth + GM SoundFont, -14 LUFS |
| .musicxml .xml | :mod:`composer.render.musicxml` | every part; the melody with chord symbols |
| .pdf .svg .png | :mod:`composer.render.score` | the lead sheet engraved (verovio) |
| .score.pdf .score.svg .score.png | :mod:`composer.render.score` | the full score engraved |
| .plan.png | :mod:`composer.render.planpic` | the form timeline over a piano roll |

:func:`check_outputs` runs before any work (unknown suffix, missing tool: one line, exit 2),
:func:`render_outputs` makes every file's bytes in memory, and the caller writes them all or
none (:func:`composer.app.output.write_files`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grammar.errors import OutputError
from planners.plan import SongPlan

AUDIO = (".wav", ".flac", ".ogg", ".mp3")
PICTURES = (".pdf", ".svg", ".png")
MUSICXML = (".musicxml", ".xml")
MIDI = (".mid", ".midi")
# --formats names -> the suffix each gives (a stem + this)
FORMAT_SUFFIXES: dict[str, str] = {
    "mid": ".mid",
    "midi": ".mid",
    "wav": ".wav",
    "flac": ".flac",
    "ogg": ".ogg",
    "mp3": ".mp3",
    "musicxml": ".musicxml",
    "xml": ".musicxml",
    "pdf": ".pdf",
    "svg": ".svg",
    "png": ".png",
    "score.pdf": ".score.pdf",
    "score.svg": ".score.svg",
    "score.png": ".score.png",
    "plan": ".plan.png",
    "plan.png": ".plan.png",
}


@dataclass(frozen=True)
class Rendered:
    data: bytes
    kind: str  # midi, audio, musicxml, lead sheet, score, plan picture
    details: dict[str, int | float | str] = field(default_factory=dict)  # + render_s: seconds


def kind_of(path: Path) -> str:
    """What ``path`` will hold, from its suffix; OutputError for one we cannot write."""
    name, suffix = path.name.lower(), path.suffix.lower()
    if name.endswith(".plan.png"):
        return "plan picture"
    if suffix in PICTURES:
        return "score" if name.endswith(f".score{suffix}") else "lead sheet"
    if suffix in MIDI:
        return "midi"
    if suffix in AUDIO:
        return "audio"
    if suffix in MUSICXML:
        return "musicxml"
    known = ", ".join([*MIDI, *AUDIO, *MUSICXML, *PICTURES, ".score.pdf", ".plan.png"])
    raise OutputError("--output", f"'{path}': unknown file type '{suffix}' (one of {known})")


def stem(path: Path) -> Path:
    """``path`` without its format's suffix: song.plan.png -> song, song.score.pdf -> song."""
    kind = kind_of(path)
    base = path.with_suffix("")
    return base.with_suffix("") if kind in ("plan picture", "score") else base


def outputs_report_path(paths: list[Path]) -> Path:
    """Where the report goes: beside the MIDI file if one is written, else beside the first
    output (song.wav -> song.json)."""
    midi = [p for p in paths if kind_of(p) == "midi"]
    base = stem((midi or paths)[0])
    return base.parent / (base.name + ".json")


def expand_formats(outputs: list[Path], formats: str | None) -> list[Path]:
    """The outputs plus one per ``--formats`` name (beside the first output, same stem)."""
    paths = list(outputs)
    if formats:
        base = stem(paths[0]) if paths else Path("song")
        for name in (f.strip().lower() for f in formats.split(",")):
            if name not in FORMAT_SUFFIXES:
                raise OutputError(
                    "--formats", f"unknown format '{name}' (one of {', '.join(FORMAT_SUFFIXES)})"
                )
            p = base.parent / (base.name + FORMAT_SUFFIXES[name])
            if p not in paths:
                paths.append(p)
    seen: set[Path] = set()
    for p in paths:
        if p in seen:
            raise OutputError("--output", f"'{p}' is named twice")
        seen.add(p)
    return paths


def check_outputs(paths: list[Path]) -> None:
    """Fail before any work for a suffix we cannot write or a tool that is missing."""
    for p in paths:
        kind = kind_of(p)
        if kind == "audio":
            from composer.render.audio import check_encoder

            check_encoder(p.suffix.lower())
        elif kind in ("lead sheet", "score"):
            from composer.render.score import check_tools

            check_tools(p.suffix.lower())


def render_outputs(
    paths: list[Path], plan: SongPlan | None, notes: np.ndarray, midi: bytes, seconds: float | None
) -> dict[Path, Rendered]:
    """The bytes of every output (nothing is written here). ``plan`` None: a MIDI file given by
    the user (``compose render``), which only audio can be made from."""
    out: dict[Path, Rendered] = {}
    xml: dict[bool, bytes] = {}

    def musicxml(lead_sheet: bool) -> bytes:
        from composer.render.musicxml import render_musicxml

        assert plan is not None
        if lead_sheet not in xml:
            xml[lead_sheet] = render_musicxml(plan, notes, lead_sheet=lead_sheet)
        return xml[lead_sheet]

    for p in paths:
        start = time.perf_counter()
        out[p] = _render_one(p, plan, notes, midi, seconds, musicxml)
        out[p].details["render_s"] = round(time.perf_counter() - start, 2)
    return out


def _render_one(
    p: Path,
    plan: SongPlan | None,
    notes: np.ndarray,
    midi: bytes,
    seconds: float | None,
    musicxml: Callable[[bool], bytes],
) -> Rendered:
    kind, suffix = kind_of(p), p.suffix.lower()
    if plan is None and kind not in ("audio", "midi"):
        raise OutputError(
            "--output",
            f"'{p}': a {kind} needs the song's plan; compose it with -o "
            "(compose render makes audio from a MIDI file)",
        )
    if kind == "midi":
        return Rendered(midi, kind, {})
    if kind == "audio":
        from composer.arrange.drums import count_in_seconds
        from composer.render.audio import render_audio

        if plan is not None and seconds is not None:  # the MIDI plays a count-in first
            seconds += count_in_seconds(plan)
        a = render_audio(midi, seconds, suffix)
        details: dict[str, int | float | str] = {
            "seconds": round(a.seconds, 2),
            "lufs": a.lufs,
            "true_peak_dbtp": a.true_peak_dbtp,
            "soundfont": a.soundfont,
        }
        return Rendered(a.data, kind, details)
    if kind == "musicxml":
        return Rendered(musicxml(False), kind, {})
    if kind in ("lead sheet", "score"):
        from composer.render.score import render_picture

        data, pages = render_picture(musicxml(kind == "lead sheet"), suffix)
        return Rendered(data, kind, {"pages": pages})
    from composer.render.planpic import render_plan_picture

    assert plan is not None
    return Rendered(render_plan_picture(plan, notes), kind, {})
