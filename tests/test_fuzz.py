"""Fuzzing the front door (issue 11): random specs (through the spec model) and random YAML text
(through the loader) either compose or are refused with the project's own error type, never an
internal error, in bounded time and memory.

A few hundred examples by default (well under a minute); ``SONGC_FUZZ_EXAMPLES=N`` runs N per
test. ``benchmarks/fuzz.py`` runs tens of thousands, through the API and the CLI.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from composer.app import api
from grammar.errors import ComposeError
from grammar.spec import load_spec

EXAMPLES = int(os.environ.get("SONGC_FUZZ_EXAMPLES", "150"))
SLOW_S = 20.0  # one spec, planned or composed: far above the worst seen (~2 s)
MAX_RSS_GROWTH_MB = 1500  # the whole test; an alias bomb once took 6 GB

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # time is asserted per example below, with a bound that says what it means
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,  # the same examples every run: a failure is reproducible from CI
)

KEYS = ["C major", "A minor", "Eb major", "F# minor", "H major", "C", "bb minor", "", "X" * 300]
METERS = ["4/4", "3/4", "6/8", "12/8", "5/4", "7/8", "2/2", "C", "¢", "3/16", "6/16", "4/5",
          "0/4", "17/8", "x", "9" * 60 + "/4"]  # fmt: skip
FORM_TOKENS = ["A", "B", "C", "A'", "'", " ", "[", "]", "(", ")", "x2", "x17", "verse", "chorus",
               "bridge", "vrese", "intro", "*3", ",", "9" * 50]  # fmt: skip
CHORD_TOKENS = ["C", "F", "G7", "Am", "Dm7", "Bb", "?", "%", "|", " ", "ii7", "V7", "I", "Hm",
                "C/E", "N.C.", "||", "Fmaj7#11"]  # fmt: skip
LABELS = ["A", "B", "A'", "verse", "chorus", "Z"]

ints = st.one_of(
    st.integers(-5, 400),
    st.booleans(),
    st.sampled_from([10**30, -(10**30), 2**32, 1.5, "8", None]),
)
small_bars = st.one_of(st.integers(1, 4), st.integers(-2, 200), st.booleans(), st.just("eight"))
section = st.fixed_dictionaries(
    {},
    optional={
        "bars": small_bars,
        "key": st.sampled_from(KEYS),
        "chords": st.lists(st.sampled_from(CHORD_TOKENS), max_size=24).map("".join),
        "cadence": st.sampled_from(["authentic", "half", "plagal", "deceptive", "none", 3]),
        "role": st.sampled_from(["verse", "chorus", "bridge", "riff", ""]),
        "bar": st.just(8),
    },
)
spec_dicts = st.fixed_dictionaries(
    {"generator": st.just("rules"), "candidates": st.sampled_from([1, 1, 2])},
    optional={
        "form": st.lists(st.sampled_from(FORM_TOKENS), min_size=0, max_size=12).map("".join),
        "key": st.sampled_from(KEYS),
        "tempo": ints,
        "time_signature": st.sampled_from(METERS),
        "style": st.sampled_from(["pop", "jazz", "waltz", "blues", "polka", "FOLK"]),
        "seed": ints,
        "title": st.text(max_size=30),
        "prompt": st.sampled_from(["a waltz in D minor", "at 900 bpm", "in 5/4", "jazz AABA form"]),
        "sections": st.dictionaries(st.sampled_from(LABELS), section, max_size=3),
        "preferences": st.fixed_dictionaries(
            {},
            optional={
                "beam": st.one_of(st.integers(0, 20), st.booleans()),
                "diversity": st.one_of(st.floats(-1, 2), st.booleans()),
                "learned": st.one_of(st.booleans(), st.integers(0, 2)),
                "weights": st.dictionaries(
                    st.sampled_from(["groove", "novelty", "nope"]), st.floats(-5, 200)
                ),
            },
        ),
        "schema_version": st.sampled_from([1, 2, True]),
        "tempi": st.just(90),
    },
)

YAML_TOKENS = ["form", "tempo", "key", "seed", "sections", "A", "bars", "chords", "candidates",
               "time_signature", "preferences", "weights", ":", ": ", " ", "  ", "\n", "\n  ",
               "- ", "[", "]", "{", "}", ",", "&a ", "*a", "&b ", "*b", "<<: ", "!!python/object ",
               "!!int ", "yes", "on", "true", "null", "~", "'", '"', "#", "90", "8", "4/4", "C",
               "AABA", "C | F | G7 | C", "1e999", "0x1F", "9" * 40, "\t", "---\n", "...\n",
               "%YAML 1.1\n", "|\n", ">\n", "é", "\x00"]  # fmt: skip
yaml_texts = st.lists(st.sampled_from(YAML_TOKENS), max_size=40).map("".join)


def _bounded(start: float) -> None:
    assert time.perf_counter() - start < SLOW_S


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


@pytest.fixture(scope="module")
def rss_start() -> float:
    api.plan({"form": "A"})  # imports and first-call caches are not what is measured
    return _rss_mb()


@FUZZ
@given(data=spec_dicts)
def test_random_specs_compose_or_fail_cleanly(data: dict[str, Any], rss_start: float) -> None:
    t0 = time.perf_counter()
    try:
        lead = api.plan(data)
        if sum(s.bars for s in lead.plan.sections) <= 24:  # compose the cheap ones
            song = api.compose(data)
            assert song.midi.startswith(b"MThd")
    except ComposeError as exc:
        text = str(exc)
        assert text and "\n" not in text and len(text) <= 600
    _bounded(t0)
    assert _rss_mb() - rss_start < MAX_RSS_GROWTH_MB


@FUZZ
@given(text=yaml_texts)
def test_random_yaml_loads_or_fails_cleanly(text: str, tmp_path: Path, rss_start: float) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    try:
        spec = load_spec(path)
        api.plan(spec)
    except ComposeError as exc:
        text = str(exc)
        assert text and "\n" not in text and len(text) <= 600
    _bounded(t0)
    assert _rss_mb() - rss_start < MAX_RSS_GROWTH_MB


@FUZZ
@given(
    depth=st.integers(1, 2000),
    fanout=st.integers(1, 30),
    opener=st.sampled_from(["[", "{a: "]),
)
def test_structural_yaml_bombs_fail_cleanly(
    depth: int, fanout: int, opener: str, tmp_path: Path
) -> None:
    """Deep nesting and alias fan-out of any size: refused in bounded time, one line."""
    closer = "]" if opener == "[" else "}"
    aliases = "\n".join(
        f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * fanout) if i else '1'}]" for i in range(12)
    )
    path = tmp_path / "bomb.yaml"
    path.write_text(f"{aliases}\ntempo: {opener * depth}1{closer * depth}\n")
    t0 = time.perf_counter()
    with pytest.raises(ComposeError) as info:
        load_spec(path)
    assert time.perf_counter() - t0 < 5
    assert len(str(info.value)) < 300
