"""The rules generator honours the melody plan; returns develop (composer/search/material.py)."""

from __future__ import annotations

import functools

import numpy as np

from composer.pipeline import compile_song
from composer.search.material import develop
from grammar.spec import SongSpec
from kernels.notes import TRACK_MELODY, make_notes, track_notes
from planners.plan import SongPlan

LONG = "intro verse chorus verse chorus verse chorus bridge chorus chorus outro"


@functools.cache
def _song(style: str, form: str, seed: int) -> tuple[SongPlan, np.ndarray, dict[str, int]]:
    spec = SongSpec(style=style, form=form, seed=seed, generator="rules", candidates=4)
    c = compile_song(spec, stop_after="compose")
    plan = c.need_plan()
    parts, hard = [], {}
    for s in plan.sections:
        ch = c.choices[s.id].chosen
        mel = track_notes(ch.segment.notes, TRACK_MELODY).copy()
        mel["onset"] += plan.section_start_tick(s)
        parts.append(mel)
        hard[s.id] = ch.violations["out_of_key"]
    return plan, np.concatenate(parts), hard


def _breathing(plan: SongPlan, mel: np.ndarray) -> float:
    """Share of 4-bar phrases (counted from each section's start) whose last bar holds a note
    of a half note or more, or a rest of an eighth or more."""
    bar = plan.meter().bar_ticks
    long_ticks = plan.meter().beat_ticks if plan.meter().is_compound else 960
    flags = []
    for s in plan.sections:
        for p in range(0, s.bars, 4):
            n = min(4, s.bars - p)
            if n < 2 and s.bars > 1:
                continue
            lo = (s.start_bar - 1 + p + n - 1) * bar
            hi = lo + bar
            end = mel["onset"] + mel["duration"]
            inside = (mel["onset"] < hi) & (end > lo)
            if (mel["duration"][inside] >= long_ticks).any():
                flags.append(True)
                continue
            t, gap = lo, 0
            for o, e in sorted(zip(mel["onset"][inside], end[inside], strict=True)):
                gap, t = max(gap, max(lo, o) - t), max(t, min(hi, e))
            flags.append(max(gap, hi - t) >= 240)
    return float(np.mean(flags))


def test_phrases_breathe_but_not_like_a_metronome() -> None:
    shares = [_breathing(*_song("pop", LONG, seed)[:2]) for seed in (1, 2)]
    assert all(0.45 <= x <= 0.9 for x in shares), shares
    plan = _song("pop", LONG, 1)[0]
    ends = [p.long_end for s in plan.sections if s.melody for p in s.melody.phrases]
    assert not all(ends) and sum(ends) / len(ends) >= 0.45


def test_the_blues_sings_blue_notes_without_clashes() -> None:
    plan, mel, out_of_key = _song("blues", "A A A", 5)
    tonic = plan.key_obj().tonic
    blue = np.isin((mel["pitch"] - tonic) % 12, [3, 6, 10])
    assert blue.mean() >= 0.05, blue.mean()
    assert not any(out_of_key.values())  # planned blue notes are no clash for the checker


def test_ballad_and_hymn_keep_to_their_note_values() -> None:
    for style in ("ballad", "hymn"):
        _, mel, _ = _song(style, "AABA", 3)
        d = mel["duration"]
        assert (d <= 150).mean() <= 0.08 and ((d >= 330) & (d <= 390)).mean() <= 0.05, style


def test_the_chorus_sings_above_the_verse() -> None:
    plan, mel, _ = _song("pop", LONG, 1)
    bar = plan.meter().bar_ticks

    def mean(role: str) -> float:
        keep = np.zeros(len(mel), dtype=bool)
        for s in plan.sections:
            if s.role == role:
                lo = (s.start_bar - 1) * bar
                keep |= (mel["onset"] >= lo) & (mel["onset"] < lo + s.bars * bar)
        return float(mel["pitch"][keep].mean())

    assert mean("chorus") > mean("verse") + 1


def test_later_returns_develop_and_the_second_statement_repeats() -> None:
    plan, mel, _ = _song("pop", LONG, 1)
    bar = plan.meter().bar_ticks

    def bars(sid: str) -> list[tuple[tuple[int, int, int], ...]]:
        s = plan.section(sid)
        lo = (s.start_bar - 1) * bar
        out = []
        for b in range(s.bars):
            m = mel[(mel["onset"] >= lo + b * bar) & (mel["onset"] < lo + (b + 1) * bar)]
            out.append(
                tuple(
                    (int(o) % bar, int(p), int(d)) for o, p, d in m[["onset", "pitch", "duration"]]
                )
            )
        return out

    first = bars("chorus1")
    same = sum(a == b for a, b in zip(first, bars("chorus2"), strict=True))
    assert same >= 5  # the second statement: the same tune up to its ending
    for s in plan.sections:
        m = s.melody
        if s.role == "chorus" and m is not None and m.occurrence >= 2:
            differ = sum(a != b for a, b in zip(first, bars(s.id), strict=True))
            assert differ >= 2, (s.id, m.development)


def test_develop_lifts_embellishes_and_varies_the_rhythm() -> None:
    plan = _song("pop", LONG, 1)[0]
    sect = next(s for s in plan.sections if s.melody and s.melody.occurrence >= 2)
    assert sect.melody is not None
    notes = make_notes(
        [
            (0, 960, 67, 80, TRACK_MELODY),
            (960, 480, 69, 80, TRACK_MELODY),
            (1440, 480, 71, 80, TRACK_MELODY),
            (0, 1920, 43, 70, 2),
        ]
    )
    for dev in ("lift", "embellish", "rhythm"):
        s = sect.model_copy(update={"melody": sect.melody.model_copy(update={"development": dev})})
        out = develop(notes, s, seed=1)
        mel, src = track_notes(out, TRACK_MELODY), track_notes(notes, TRACK_MELODY)
        assert (out[out["track"] == 2] == notes[notes["track"] == 2]).all()  # the bass stays
        if dev == "lift":
            assert mel["pitch"].mean() > src["pitch"].mean()
        elif dev == "embellish":
            assert len(mel) > len(src)
        else:
            assert mel["duration"].tolist() != src["duration"].tolist()
            assert set(mel["pitch"].tolist()) == set(src["pitch"].tolist())
        ends = mel["onset"] + mel["duration"]
        assert (mel["onset"][1:] >= ends[:-1]).all() and ends.max() <= 1920
    literal = sect.model_copy(
        update={"melody": sect.melody.model_copy(update={"development": "literal"})}
    )
    assert (develop(notes, literal) == notes).all()
