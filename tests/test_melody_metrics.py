"""The listener's melody metrics (composer.eval.melody_metrics) against values worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from composer.eval import melody_metrics as mm
from grammar.meter import parse_time_signature
from kernels.notes import make_notes
from planners.plan import SectionPlan, SongPlan, TrackPlan

Q = 480  # a quarter
BAR = 4 * Q


def _arr(rows: list[tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = np.array(rows, dtype=np.int64).reshape(-1, 3)
    return a[:, 0], a[:, 1], a[:, 2]


def test_long_note_is_a_half_note_or_a_compound_beat() -> None:
    assert mm.long_note_ticks(parse_time_signature("4/4")) == 960
    assert mm.long_note_ticks(parse_time_signature("3/4")) == 960
    assert mm.long_note_ticks(parse_time_signature("6/8")) == 720


def test_phrase_breathing_by_hand() -> None:
    # 8 bars of 4/4, two phrases. Phrase 1 (bars 0-3): quarters all through, the last bar
    # ends on a half note -> breathes. Phrase 2 (bars 4-7): quarters all through -> does not.
    rows = [(b * BAR + k * Q, Q, 60) for b in range(8) for k in range(4)]
    rows = [r for r in rows if not (r[0] >= 3 * BAR + 2 * Q and r[0] < 4 * BAR)]
    rows.append((3 * BAR + 2 * Q, 2 * Q, 60))
    on, du, _ = _arr(rows)
    assert mm.phrase_breathing(on, du, BAR, [(0, 8)]) == pytest.approx(0.5)
    # a quarter rest at the end of the second phrase makes it breathe too
    keep = ~((on >= 7 * BAR + 3 * Q) & (on < 8 * BAR))
    assert mm.phrase_breathing(on[keep], du[keep], BAR, [(0, 8)]) == pytest.approx(1.0)
    # an eighth-note gap inside the last bar is a breath; a 16th gap (120 ticks) is not
    short = du.copy()
    short[(on == 7 * BAR + Q)] = Q - 120
    assert mm.phrase_breathing(on, short, BAR, [(0, 8)]) == pytest.approx(0.5)
    short[(on == 7 * BAR + Q)] = Q - 240
    assert mm.phrase_breathing(on, short, BAR, [(0, 8)]) == pytest.approx(1.0)


def test_phrase_spans_restart_at_each_section() -> None:
    # two 6-bar sections: phrases end at bars 3, 5 (2-bar tail), 9, 11; only bar 5 and bar 11
    # hold a whole note
    rows = [(b * BAR + k * Q, Q, 62) for b in range(12) for k in range(4) if b not in (5, 11)]
    rows += [(5 * BAR, BAR, 62), (11 * BAR, BAR, 62)]
    on, du, _ = _arr(rows)
    assert mm.phrase_breathing(on, du, BAR, [(0, 6), (6, 6)]) == pytest.approx(0.5)
    # a 1-bar remainder is not a phrase unless it is the whole span
    assert mm.phrase_breathing(on, du, BAR, [(0, 5)]) == pytest.approx(0.0)
    assert mm.phrase_breathing(on, du, BAR, [(5, 1)]) == pytest.approx(1.0)
    assert mm.phrase_breathing(on, du, BAR, []) is None


def test_motif_recurrence_by_hand() -> None:
    # bar 0: quarters C D E F; bar 1: the same rhythm on other pitches (recurs);
    # bar 2: a literal copy of bar 1 (recurs only through bar 0, which differs -> counts);
    # bar 3: eighths (new rhythm); bar 4: one whole note (too few onsets, not counted)
    q4 = [(0, 60, Q), (Q, 62, Q), (2 * Q, 64, Q), (3 * Q, 65, Q)]
    other = [(0, 67, Q), (Q, 65, Q), (2 * Q, 64, Q), (3 * Q, 62, Q)]
    eighths = tuple((k * 240, 60 + k, 240) for k in range(8))
    bars = [tuple(q4), tuple(other), tuple(other), eighths, ((0, 60, BAR),)]
    assert mm.motif_recurrence(bars) == pytest.approx(2 / 3)
    # a copy of the only earlier bar with its rhythm is not a recurrence
    assert mm.motif_recurrence([tuple(q4), tuple(q4)]) == pytest.approx(0.0)
    # beyond the 7-bar look-back a rhythm does not count
    far = [tuple(q4), *[((0, 60, BAR),)] * 7, tuple(other)]
    assert mm.motif_recurrence(far) == pytest.approx(0.0)
    assert mm.motif_recurrence([((0, 60, BAR),)]) is None


def test_bars_of_cuts_by_onset() -> None:
    on, du, pi = _arr([(BAR + Q, Q, 64), (0, BAR + Q, 60)])
    assert mm.bars_of(on, du, pi, BAR, 3) == [((0, 60, BAR + Q),), ((Q, 64, Q),), ()]


def test_note_value_shares_by_hand() -> None:
    d = np.array([120, 120, 360, 480, 960, 160, 80, 350])
    assert mm.sixteenth_share(d) == pytest.approx(3 / 8)  # 120, 120, 80
    assert mm.dotted_eighth_share(d) == pytest.approx(2 / 8)  # 360, 350
    assert mm.sixteenth_share(np.array([])) is None
    assert mm.notes_per_quarter(6, 8 * Q) == pytest.approx(0.75)


def test_blue_note_rate_by_hand() -> None:
    # in E (tonic 4): G (b3), A# (b5), D (b7) are blue; E, B, G# are not
    pitches = np.array([67, 70, 74, 64, 71, 68, 67, 62])
    assert mm.blue_note_rate(pitches, np.full(8, 4)) == pytest.approx(5 / 8)
    assert mm.blue_note_rate(np.array([]), np.array([])) is None


def test_chorus_minus_verse_by_hand() -> None:
    pitches = np.array([60, 62, 70, 72, 65])
    roles = ["verse", "verse", "chorus", "refrain", "bridge"]
    assert mm.chorus_minus_verse(pitches, roles) == pytest.approx(71 - 61)
    assert mm.chorus_minus_verse(pitches, ["verse"] * 5) is None


def test_literal_copies_leave_out_planned_repeats() -> None:
    a, b, c = ((0, 60, BAR),), ((0, 62, BAR),), ((0, 64, Q), (Q, 65, 3 * Q))
    bars = [a, b, a, c, a, b, ()]
    # bar 2 copies bar 0 (unplanned); bars 4, 5 repeat bars 0, 1 by the plan
    planned: list[int | None] = [None, None, None, None, 0, 1, None]
    assert mm.literal_copies(bars, planned) == pytest.approx(1 / 4)
    assert mm.literal_copies(bars, [None] * 7) == pytest.approx(3 / 6)
    # a planned repeat that changed is counted like any bar (here: new material, no copy)
    assert mm.literal_copies([a, c], [None, 0]) == pytest.approx(0.0)
    assert mm.literal_copies([(), ()], [None, None]) is None


def test_returns_differ_by_hand() -> None:
    a = ((0, 0, BAR),)
    b = ((0, 2, BAR),)
    verse = (a, a, a, a)
    lifted = (b, a, a, a)  # one bar of four differs: exactly the 25% threshold
    statements = [
        ("A", verse),
        ("B", (b,)),
        ("A", verse),  # the first return is not judged
        ("A", verse),  # third statement, same: does not differ
        ("A", lifted),  # fourth, differs
        ("B", (b,)),  # B's second statement: not judged
    ]
    assert mm.returns_differ(statements) == pytest.approx(0.5)
    assert mm.returns_differ(statements[:3]) is None


def _plan(sections: list[tuple[str, str, int, str, str, str | None]]) -> SongPlan:
    out, bar = [], 1
    for i, (sid, role, bars, key, relation, source) in enumerate(sections):
        out.append(
            SectionPlan(
                id=sid,
                label=sid.rstrip("0123456789"),
                name=sid,
                role=role,
                index=i,
                start_bar=bar,
                bars=bars,
                key=key,
                relation=relation,
                source=source,
            )
        )
        bar += bars
    return SongPlan(
        title="t",
        style="pop",
        key="C major",
        tempo=100,
        time_signature="4/4",
        seed=1,
        candidates=1,
        generator="rules",
        melody_low=55,
        melody_high=84,
        tracks=(TrackPlan(name="Melody", role="melody", program=0, channel=0),),
        sections=tuple(out),
    )


def test_song_melody_metrics_on_a_tiny_song() -> None:
    # verse1 (2 bars, C), chorus1 (2 bars, C), verse2 repeats verse1 (same notes), chorus2
    # varies chorus1 and is chorus1 transposed to D
    plan = _plan(
        [
            ("verse1", "verse", 2, "C major", "new", None),
            ("chorus1", "chorus", 2, "C major", "new", None),
            ("verse2", "verse", 2, "C major", "repeats", "verse1"),
            ("chorus2", "chorus", 2, "D major", "varies", "chorus1"),
        ]
    )
    verse = [(0, Q, 60), (Q, Q, 63), (2 * Q, 2 * Q, 64), (BAR, BAR, 60)]
    chorus = [(0, 2 * Q, 67), (2 * Q, 2 * Q, 70), (BAR, BAR, 72)]
    rows = []
    for start, part, shift in ((0, verse, 0), (2, chorus, 0), (4, verse, 0), (6, chorus, 2)):
        rows += [(start * BAR + o, d, p + shift, 90, 0) for o, d, p in part]
    rows += [(0, BAR, 48, 80, 2)]  # a bass note: not the melody
    got = mm.song_melody_metrics(make_notes(rows), plan)
    assert got["phrase_breathing"] == pytest.approx(1.0)  # every 2-bar phrase ends on a whole
    assert got["sixteenth_share"] == pytest.approx(0.0)
    assert got["notes_per_quarter"] == pytest.approx(14 / 32)
    # blue notes: Eb over C (b3, twice), Bb over C (b7), C over D (b7)
    assert got["blue_note_rate"] == pytest.approx(4 / 14)
    verse_mean = (60 + 63 + 64 + 60) / 4
    chorus_mean = (67 + 70 + 72 + 69 + 72 + 74) / 6
    assert got["chorus_minus_verse"] == pytest.approx(chorus_mean - verse_mean)
    # bars 4-5 repeat bars 0-1 by the plan; chorus2 is transposed, so no bar is a copy
    assert got["literal_copies"] == pytest.approx(0.0)
    assert got["returns_differ"] is None  # no label is stated three times
    # motif: bar 1 (one note) and the whole notes do not count; bar 2 (two halves) has no
    # earlier match; bar 4 equals bar 0 note for note (no other match) -> 0; bar 6 (two
    # halves, D) matches bar 2 (C) -> 1
    assert got["motif_recurrence"] == pytest.approx(1 / 3)


def test_piece_metrics_skip_the_pickup_bar() -> None:
    meter = parse_time_signature("6/8")
    bar = meter.bar_ticks  # 1440
    rows = [(bar - 240, 240, 62)]  # a pickup eighth at the end of bar 0
    for b in range(1, 5):
        rows += [(b * bar + k * 240, 240, 62 + k) for k in range(6)]
    rows = [r for r in rows if r[0] < 4 * bar] + [(4 * bar, 720, 62), (4 * bar + 720, 720, 64)]
    on, du, pi = _arr(rows)
    got = mm.piece_metrics(on, du, pi, meter, tonic=2, first_bar=1)
    assert got["phrase_breathing"] == pytest.approx(1.0)  # bar 4 holds two dotted quarters
    assert got["motif_recurrence"] == pytest.approx(0.0)  # bars 2, 3 copy bar 1 exactly
    assert got["literal_copies"] == pytest.approx(2 / 5)
    assert got["notes_per_quarter"] == pytest.approx(21 * 480 / (4 * bar))
