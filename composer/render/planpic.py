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
    drum_track = next((t for t, tr in enumerate(plan.tracks) if tr.role == "drums"), None)
    rows = 3 if drum_track is not None else 2
    fig, axes = plt.subplots(
        rows,
        1,
        figsize=(width, 7.5 + (1.2 if rows == 3 else 0)),
        sharex=True,
        gridspec_kw={"height_ratios": [1.3, 3, 0.9][:rows]},
    )
    top, roll = axes[0], axes[1]
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
        for ax in axes:
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
    pitched = notes if drum_track is None else notes[notes["track"] != drum_track]
    if pitched.size:
        lo, hi = int(pitched["pitch"].min()) - 2, int(pitched["pitch"].max()) + 2
        roll.set_ylim(lo, hi)
        octaves = [p for p in range(lo, hi + 1) if p % 12 == 0]
        roll.set_yticks(octaves, [f"C{p // 12 - 1}" for p in octaves])
        roll.grid(axis="y", color="#ddd", lw=0.5)
    if drum_track is not None:
        _drum_lane(axes[2], notes[notes["track"] == drum_track], bar_ticks)
    bottom = axes[-1]
    bottom.set_xlim(0, bars)
    step = 4 if bars > 16 else 1
    bottom.set_xticks(np.arange(0, bars, step) + 0.5, [str(b + 1) for b in range(0, bars, step)])
    bottom.set_xlabel(f"bar ({bar_ticks / TICKS_PER_BEAT * 60 / plan.tempo:.2f} s each)")
    roll.legend(handles=legend, loc="upper right", fontsize=8, framealpha=0.8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


# General MIDI drum notes grouped into the lanes a drummer reads (kick low, cymbals high).
DRUM_LANES: tuple[tuple[str, frozenset[int]], ...] = (
    ("kick", frozenset({35, 36})),
    ("snare", frozenset({37, 38, 39, 40})),
    ("toms", frozenset({41, 43, 45, 47, 48, 50})),
    ("hats", frozenset({42, 44, 46})),
    ("cymbals", frozenset({49, 51, 52, 53, 55, 57, 59})),
)


def _drum_lane(ax, drums: np.ndarray, bar_ticks: int) -> None:  # ax: a matplotlib Axes
    """The drum part as hits in lanes (kick, snare, toms, hats, cymbals, other), darker for
    louder: a drum's note number is an instrument, so it gets a lane, not a pitch."""
    names = [name for name, _ in DRUM_LANES] + ["other"]
    lane = np.full(drums.size, len(DRUM_LANES))
    for i, (_, pitches) in enumerate(DRUM_LANES):
        lane[np.isin(drums["pitch"], list(pitches))] = i
    alpha = 0.25 + 0.75 * drums["velocity"] / 127
    colours = np.zeros((drums.size, 4))
    colours[:, 3] = alpha
    ax.scatter(drums["onset"] / bar_ticks, lane, marker="|", s=60, c=colours, linewidths=1.2)
    ax.set_ylim(-0.6, len(names) - 0.4)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.grid(axis="y", color="#eee", lw=0.5)
