"""The picture of a song's plan (``NAME.plan.png``, matplotlib): does the music do what was asked?

Top: the form as a timeline of bars, one box per section coloured by its label (repeats share
a colour), with its name, key and cadence, and the chords of every bar written in the bar.
Bottom: a piano roll of every track on the same bar axis, so a section's harmony, register and
texture can be read off against its place in the form. Section boundaries run through both.
"""

from __future__ import annotations

import io

import numpy as np

from kernels.notes import TICKS_PER_BEAT
from planners.plan import SongPlan

INCHES_PER_BAR = 0.42
TRACK_COLOURS = ("#c0392b", "#2e86c1", "#27ae60", "#8e44ad", "#d68910", "#17a589")
CADENCE_MARKS = {"authentic": "PAC", "half": "HC", "plagal": "PC", "deceptive": "DC", "none": ""}


def render_plan_picture(plan: SongPlan, notes: np.ndarray, dpi: int = 110) -> bytes:
    """PNG bytes of the plan picture of a song (``notes``: its NoteArray, absolute ticks)."""
    import matplotlib

    matplotlib.use("Agg")  # no display: the picture goes to bytes
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    bars = plan.total_bars
    bar_ticks = plan.meter().bar_ticks
    width = max(10.0, bars * INCHES_PER_BAR + 1.5)
    fig, (top, roll) = plt.subplots(
        2, 1, figsize=(width, 7.5), sharex=True, gridspec_kw={"height_ratios": [1.3, 3]}
    )
    labels = list(dict.fromkeys(s.label for s in plan.sections))
    palette = plt.get_cmap("Pastel1" if len(labels) <= 9 else "tab20")
    colour = {label: palette(i % palette.N) for i, label in enumerate(labels)}
    for s in plan.sections:
        x0 = s.start_bar - 1
        top.add_patch(Rectangle((x0, 1.0), s.bars, 1.0, facecolor=colour[s.label], edgecolor="k"))
        cad = CADENCE_MARKS[s.cadence]
        top.text(x0 + 0.15, 1.78, f"{s.name}  ({s.role})", fontsize=10, weight="bold", va="top")
        top.text(x0 + 0.15, 1.40, s.key, fontsize=9, va="top")
        if cad:
            top.text(
                x0 + s.bars - 0.1, 1.08, cad, fontsize=8, ha="right", va="bottom", color="#555"
            )
        per_bar: dict[int, list[str]] = {}
        for e in s.chords:
            per_bar.setdefault(e.bar, []).append(e.symbol)
        for b in range(1, s.bars + 1):
            x = x0 + b - 1
            top.add_patch(Rectangle((x, 0.0), 1, 1.0, facecolor="white", edgecolor="#999", lw=0.6))
            chords = per_bar.get(b, ["%"])
            size = 7 if len(chords) == 1 else 6
            top.text(x + 0.5, 0.5, "\n".join(chords), ha="center", va="center", fontsize=size)
        for ax in (top, roll):
            ax.axvline(x0, color="k", lw=1.0)
    top.set_ylim(0, 2)
    top.set_yticks([0.5, 1.5], ["chords", "form"])
    top.set_title(
        f"{plan.title}: {plan.key}, {plan.tempo} bpm, {plan.time_signature}, {plan.style}, "
        f"{bars} bars",
        fontsize=12,
        loc="left",
    )
    legend = []
    for t, track in enumerate(plan.tracks):
        if track.role == "drums":  # a drum's number is an instrument, not a pitch
            continue
        mine = notes[notes["track"] == t]
        c = TRACK_COLOURS[t % len(TRACK_COLOURS)]
        legend.append(Patch(color=c, label=f"{track.name} ({track.role})"))
        for o, d, p in zip(mine["onset"], mine["duration"], mine["pitch"], strict=True):
            roll.add_patch(Rectangle((o / bar_ticks, p - 0.4), d / bar_ticks, 0.8, color=c, lw=0))
    if notes.size:
        lo, hi = int(notes["pitch"].min()) - 2, int(notes["pitch"].max()) + 2
        roll.set_ylim(lo, hi)
        octaves = [p for p in range(lo, hi + 1) if p % 12 == 0]
        roll.set_yticks(octaves, [f"C{p // 12 - 1}" for p in octaves])
        roll.grid(axis="y", color="#ddd", lw=0.5)
    roll.set_xlim(0, bars)
    step = 4 if bars > 16 else 1
    roll.set_xticks(np.arange(0, bars, step) + 0.5, [str(b + 1) for b in range(0, bars, step)])
    roll.set_xlabel(f"bar ({bar_ticks / TICKS_PER_BEAT * 60 / plan.tempo:.2f} s each)")
    roll.legend(handles=legend, loc="upper right", fontsize=8, framealpha=0.8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()
