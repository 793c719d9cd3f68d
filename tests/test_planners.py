"""Form graph, key plan and harmony: structure and hard constraints, checked independently."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grammar.chords import parse_chord
from grammar.keys import parse_key
from grammar.spec import validate_spec
from planners.form import generation_order, plan_form, relations, resolve_song
from planners.harmony import NEXT, TAIL_BARS, cadence_for, fill, plan_harmony
from planners.keyplan import plan_keys


def _plan(**spec):
    s = validate_spec({"seed": 1, **spec})
    song = resolve_song(s)
    song, graph = plan_form(s, song)
    song = plan_keys(s, song)
    return plan_harmony(s, song), graph


def test_aaba_graph_and_cadences() -> None:
    song, graph = _plan(form="AABA", key="C major", style="pop")
    ids = [s.id for s in song.sections]
    assert ids == ["A1", "A2", "B1", "A3"]
    assert relations(graph, "A2") == {"follows": ["A1"], "repeats": ["A1"]}
    assert relations(graph, "B1") == {"follows": ["A2"], "contrasts": ["A1"]}
    assert [s.cadence for s in song.sections] == ["half", "authentic", "half", "authentic"]
    assert [s.role for s in song.sections] == ["theme", "theme", "bridge", "theme"]
    assert generation_order(graph) == ids


def test_variation_marks_and_named_groups() -> None:
    song, _ = _plan(form="A A' B A")
    assert [(s.id, s.name, s.relation, s.source) for s in song.sections] == [
        ("A1", "A", "new", None),
        ("A2", "A'", "varies", "A1"),
        ("B1", "B", "new", None),
        ("A3", "A", "repeats", "A1"),
    ]
    song, _graph = _plan(form="[verse chorus]x2 bridge chorus")
    assert [s.id for s in song.sections] == [
        "verse1",
        "chorus1",
        "verse2",
        "chorus2",
        "bridge1",
        "chorus3",
    ]
    assert song.section("chorus3").relation == "repeats"
    assert song.section("bridge1").role == "bridge"


def test_bridge_modulates_to_a_related_key_unless_pinned() -> None:
    song, _ = _plan(form="AABA", key="Eb major", style="jazz")
    assert [s.key for s in song.sections] == ["Eb major", "Eb major", "Ab major", "Eb major"]
    song, _ = _plan(form="AABA", key="A minor", style="pop")
    assert song.section("B1").key == "C major"
    song, _ = _plan(form="AABA", key="Eb major", sections={"B": {"key": "G minor"}})
    assert song.section("B1").key == "G minor"
    song, _ = _plan(form="AABA", key="G major", style="folk")  # folk stays home
    assert {s.key for s in song.sections} == {"G major"}


def test_explicit_chords_are_kept_exactly() -> None:
    chords = "Abmaj7 | Db7 | Gm7 C7 | Fm7 Bb7 | Abmaj7 | Db7 | Bbm7 | Eb7"
    song, _ = _plan(
        form="AABA", key="Eb major", sections={"B": {"key": "Ab major", "chords": chords}}
    )
    b = song.section("B1")
    assert b.chords_given
    assert [(e.bar, e.beat, e.symbol) for e in b.chords] == [
        (1, 1, "Abmaj7"),
        (2, 1, "Db7"),
        (3, 1, "Gm7"),
        (3, 3, "C7"),
        (4, 1, "Fm7"),
        (4, 3, "Bb7"),
        (5, 1, "Abmaj7"),
        (6, 1, "Db7"),
        (7, 1, "Bbm7"),
        (8, 1, "Eb7"),
    ]
    assert b.chords[1].chord().root == 1  # Db7 is D-flat, not D (music21's misreading)


def test_repeat_shares_its_source_progression_except_the_ending() -> None:
    song, _ = _plan(form="AABA", key="C major", style="pop")
    a1, a2 = song.section("A1"), song.section("A2")
    head = [(e.start_tick, e.symbol) for e in a1.chords if e.bar <= 5]
    assert head == [(e.start_tick, e.symbol) for e in a2.chords if e.bar <= 5]
    assert a1.chords[-1].roman.startswith("V") and a2.chords[-1].roman == "I"


SPECS = st.fixed_dictionaries(
    {
        "form": st.sampled_from(["AABA", "A A' B A", "ABACA", "verse chorus verse chorus", "AB"]),
        "key": st.sampled_from(
            ["C major", "Eb major", "F# minor", "A minor", "Db major", "B minor"]
        ),
        "style": st.sampled_from(["classical", "folk", "pop", "jazz", "blues", "waltz", "march"]),
        "seed": st.integers(0, 10_000),
        "sections": st.fixed_dictionaries(
            {"A": st.fixed_dictionaries({"bars": st.integers(2, 16)})}
        ),
    }
)


@settings(max_examples=60, deadline=None)
@given(SPECS)
def test_every_plan_meets_its_hard_constraints(spec: dict) -> None:
    if "A" not in spec["form"]:
        spec = {**spec, "sections": {}}
    song, _graph = _plan(**spec)
    meter = song.meter()
    bar = 1
    for i, s in enumerate(song.sections):
        assert s.start_bar == bar
        bar += s.bars
        t = 0
        for e in s.chords:  # contiguous, whole bars, every symbol parses
            assert e.start_tick == t and e.duration_ticks > 0
            parse_chord(e.symbol)
            t += e.duration_ticks
        assert t == s.bars * meter.bar_ticks
        key = parse_key(s.key)
        last = s.chords[-1].chord()
        if s.cadence in ("authentic", "plagal"):
            assert last.root == key.tonic, (s.id, s.cadence, last.symbol)
        elif s.cadence == "half":
            assert last.root == (key.tonic + 7) % 12, (s.id, last.symbol)
        assert s.cadence == cadence_for(song.sections, i)
    assert song.sections[-1].cadence in ("authentic", "plagal")
    assert song.sections[0].key == song.sections[-1].key == song.key
    for s in song.sections:
        src = song.section(s.source) if s.relation == "repeats" else None
        if src is not None and src.bars == s.bars and s.chords_given is False:
            keep = s.bars - (0 if s.cadence == src.cadence else TAIL_BARS)
            mine = [(e.start_tick, e.symbol) for e in s.chords if e.bar <= keep]
            assert mine == [(e.start_tick, e.symbol) for e in src.chords if e.bar <= keep]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["major", "minor"]),
    st.data(),
    st.integers(1, 12),
    st.integers(0, 2**32 - 1),
)
def test_fill_always_leads_into_its_target(
    mode: str, data: st.DataObject, slots: int, seed: int
) -> None:
    states = sorted(NEXT[mode])
    start = data.draw(st.sampled_from(states))
    target = data.draw(st.sampled_from(states))
    out = fill(mode, start, target, slots, np.random.default_rng(seed))
    assert len(out) == slots
    for a, b in zip(out, [*out[1:], target], strict=True):
        assert b in NEXT[mode][a], (out, target)


@pytest.mark.parametrize("meter,per_bar", [("4/4", 2), ("3/4", 1), ("6/8", 2)])
def test_harmonic_rhythm_follows_the_meter(meter: str, per_bar: int) -> None:
    song, _ = _plan(form="A", time_signature=meter, style="classical", tempo=80)
    bars = {}
    for e in song.sections[0].chords[:-1]:
        bars.setdefault(e.bar, []).append(e)
    assert max(len(v) for v in bars.values()) <= per_bar
