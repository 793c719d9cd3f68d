"""Form graph, key plan and harmony: structure and hard constraints, checked independently."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grammar.chords import parse_chord, parse_roman
from grammar.keys import parse_key
from grammar.spec import validate_spec
from planners.form import generation_order, plan_form, resolve_song
from planners.harmony import TAIL_BARS, cadence_for, plan_harmony
from planners.keyplan import plan_keys
from planners.rule_harmony import NEXT, fill


def _plan(**spec):
    s = validate_spec({"seed": 1, **spec})
    song = resolve_song(s)
    song, graph = plan_form(s, song)
    song = plan_keys(s, song)
    return plan_harmony(s, song), graph


def _incoming(graph: nx.MultiDiGraph, section_id: str) -> dict[str, list[str]]:
    """Incoming relations of a section, by kind: {'repeats': ['A1'], 'contrasts': [...]}."""
    out: dict[str, list[str]] = {}
    for u, _, k in graph.in_edges(section_id, keys=True):
        out.setdefault(k, []).append(u)
    return out


def test_aaba_graph_and_cadences() -> None:
    song, graph = _plan(form="AABA", key="C major", style="pop")
    ids = [s.id for s in song.sections]
    assert ids == ["A1", "A2", "B1", "A3"]
    assert _incoming(graph, "A2") == {"follows": ["A1"], "repeats": ["A1"]}
    assert _incoming(graph, "B1") == {"follows": ["A2"], "contrasts": ["A1"]}
    # A2 closes on C, a pivot into the bridge's key (C = V of F); the bridge ends open, on the
    # dominant seventh of home (dominant preparation)
    assert [s.cadence for s in song.sections] == ["half", "authentic", "half", "authentic"]
    assert [s.modulates_to for s in song.sections] == [None, "F major", "C major", None]
    assert song.section("A2").chords[-1].symbol == "C"
    assert song.section("B1").chords[-1].symbol == "G7"
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
    song, _ = _plan(form="AABA", key="G major", style="folk")  # folk stays in one key
    a1, a2 = song.section("A1"), song.section("A2")
    head = [(e.start_tick, e.symbol) for e in a1.chords if e.bar <= 5]
    assert head == [(e.start_tick, e.symbol) for e in a2.chords if e.bar <= 5]
    assert a1.chords[-1].roman.startswith("V") and a2.chords[-1].roman == "I"


NUMERALS = ["I", "ii", "IV", "V", "vi", "V7", "iii"]


@st.composite
def specs(draw: st.DrawFn) -> dict:
    """Random valid specs: forms, keys, styles, lengths, and for label A sometimes pinned chords
    with '?' holes (never in its last two bars, where the cadence goes) and a requested cadence."""
    spec: dict = {
        "form": draw(st.sampled_from(["AABA", "A A' B A", "ABACA", "AB", "A"])),
        "key": draw(st.sampled_from(["C major", "Eb major", "F# minor", "A minor", "Db major"])),
        "style": draw(
            st.sampled_from(["classical", "folk", "pop", "jazz", "blues", "waltz", "march"])
        ),
        "seed": draw(st.integers(0, 10_000)),
    }
    bars = draw(st.integers(2, 16))
    a: dict = {"bars": bars}
    if draw(st.booleans()):
        a["cadence"] = draw(st.sampled_from(["authentic", "half", "plagal", "deceptive"]))
    if draw(st.booleans()) and bars >= 4:
        minor = spec["key"].endswith("minor")
        pins = [
            draw(
                st.sampled_from(
                    ["?"] + [n.lower() if minor and n in ("I", "IV") else n for n in NUMERALS]
                )
            )
            for _ in range(bars - 2)
        ]
        a["chords"] = " | ".join([*pins, "?", "?"])
    spec["sections"] = {"A": a}
    return spec


ROOT = {"authentic": 0, "plagal": 0, "half": 7}


@settings(max_examples=200, deadline=None)
@given(specs())
def test_every_plan_meets_its_hard_constraints(spec: dict) -> None:
    song, _graph = _plan(**spec)
    meter = song.meter()
    asked = spec["sections"]["A"]
    bar = 1
    for i, s in enumerate(song.sections):
        assert s.start_bar == bar
        bar += s.bars
        if s.label == "A":
            assert s.bars == asked["bars"]
        t = 0
        for e in s.chords:  # contiguous, whole bars, every symbol parses
            assert e.start_tick == t and e.duration_ticks > 0
            parse_chord(e.symbol)
            t += e.duration_ticks
        assert t == s.bars * meter.bar_ticks
        key = parse_key(s.key)
        last = s.chords[-1].chord()
        want = asked.get("cadence") if s.label == "A" else None
        if want is None and not s.chords_given:
            want = cadence_for(song.sections, i)
        if s.modulates_to is not None and s.cadence == "half":  # dominant preparation
            nxt = parse_key(song.sections[i + 1].key)
            assert s.modulates_to == str(nxt) and last.root == (nxt.tonic + 7) % 12
            assert last.quality == "7"
        elif s.modulates_to is not None:  # a closing tonic, the pivot into the next key
            nxt = parse_key(song.sections[i + 1].key)
            assert last.root == key.tonic and last.pitch_classes <= set(nxt.scale)
        elif want in ROOT:
            assert last.root == (key.tonic + ROOT[want]) % 12, (s.id, want, last.symbol)
        elif want == "deceptive":
            assert last.root == (key.tonic + (9 if key.mode == "major" else 8)) % 12
        if want is not None and s.modulates_to is None:
            assert s.cadence == want
        if s.label == "A" and "chords" in asked:  # pinned chords kept, bar by bar
            for b, token in enumerate(asked["chords"].split(" | "), start=1):
                if token != "?":
                    first = next(e for e in s.chords if e.bar == b)
                    assert first.chord().pitch_classes == parse_roman(token, key).pitch_classes
    assert song.sections[0].key == song.sections[-1].key == song.key
    for s in song.sections:
        src = song.section(s.source) if s.relation == "repeats" else None
        if src is not None and src.bars == s.bars and s.chords_given is False:
            same_end = s.cadence == src.cadence and s.modulates_to == src.modulates_to is None
            keep = s.bars - (0 if same_end else TAIL_BARS)
            mine = [(e.start_tick, e.symbol) for e in s.chords if e.bar <= keep]
            assert mine == [(e.start_tick, e.symbol) for e in src.chords if e.bar <= keep]


def test_pinned_chord_against_a_requested_cadence_is_a_plan_error() -> None:
    from grammar.errors import PlanError

    with pytest.raises(PlanError, match=r"sections\.A\.cadence"):
        _plan(
            form="A",
            key="C major",
            sections={"A": {"chords": "I | ? | IV | I", "cadence": "authentic"}},
        )
    with pytest.raises(PlanError, match="authentic cadence"):
        _plan(
            form="A",
            key="C major",
            sections={"A": {"chords": "I | ? | ? | IV", "cadence": "authentic"}},
        )


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


def test_holes_are_filled_once_and_repeated() -> None:
    song, _ = _plan(
        form="A A' B A",
        key="F major",
        style="classical",
        sections={
            "A": {"bars": 8, "chords": "I | ? | IV | ? | vi | ? | ? | ?", "cadence": "authentic"}
        },
    )
    a1 = [(e.start_tick, e.symbol) for e in song.section("A1").chords]
    assert [sym for t, sym in a1 if t % 1920 == 0][:5:2] == ["F", "Bb", "Dm"]  # pins kept
    assert a1[-1][1] == "F" and song.section("A1").cadence == "authentic"
    for sid in ("A2", "A3"):
        assert [(e.start_tick, e.symbol) for e in song.section(sid).chords] == a1


def test_a_blues_chorus_can_end_deceptively() -> None:
    """Found by the property test above: the blues changes closed on I whatever was asked."""
    from composer.app import api

    spec = {"form": "AABA", "key": "C major", "style": "blues", "seed": 0,
            "sections": {"A": {"bars": 12, "cadence": "deceptive"}}}  # fmt: skip
    plan = api.plan(spec).plan  # type: ignore[attr-defined]
    a = plan.sections[0]
    assert [c.symbol for c in a.chords][-2:] == ["G7", "Am7"]
    assert [c.symbol for c in plan.sections[2].chords][-1] == "G7"  # B: a half cadence
