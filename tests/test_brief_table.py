"""The prompt table (tests/brief_cases.py): >= 150 briefs in five languages, each read, resolved
and laid out as the compiler does (prompt -> spec -> plan globals -> form), then compared with
what a musician expects. The share met must be >= 95%, every core case must pass, and the
misses are listed (README "Understanding the brief" reports them)."""

from __future__ import annotations

from typing import Any

import pytest

from grammar.brief.apply import read_prompt, resolve_style
from grammar.keys import parse_key
from grammar.spec import validate_spec
from kernels.notes import TICKS_PER_BEAT
from planners.form import plan_form, resolve_song
from planners.styles import STYLES
from tests.brief_cases import CASES

TARGET = 0.95


@pytest.fixture(autouse=True)
def _no_embedding(monkeypatch: pytest.MonkeyPatch) -> None:
    """The table tests the word lists: the same answer with or without the optional model."""
    monkeypatch.setenv("SONGC_EMBED", "0")


def understand(prompt: str) -> dict[str, Any]:
    """What the compiler makes of a prompt alone (no other field given)."""
    spec, reading = read_prompt(validate_spec({"prompt": prompt} if prompt else {}), STYLES)
    plan, _ = plan_form(spec, resolve_song(spec, reading))
    quarters = plan.total_bars * plan.meter().bar_ticks / TICKS_PER_BEAT
    u = plan.understood
    return {
        "style": plan.style,
        "asked": None if reading is None else reading.brief.style,
        "meter": plan.time_signature,
        "key": plan.key,
        "mode": parse_key(plan.key).mode,
        "tempo": plan.tempo,
        "feel": None if u is None else u.feel,
        "prog": {t.role: t.program for t in plan.tracks},
        "drums": None if u is None else u.drums,
        "secs": quarters * 60 / plan.tempo,
        "musical": False if u is None else u.musical,
    }


def problems(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    out = []
    for name, value in want.items():
        if name == "style":
            used = resolve_style(value, STYLES)[0]
            if got["asked"] != value and not (got["asked"] is None and got["style"] == value):
                out.append(f"style {got['asked']} (wanted {value})")
            elif got["style"] != used:
                out.append(f"plays {got['style']} (wanted {used})")
        elif name in ("tempo", "secs"):
            lo, hi = value
            if not lo <= got[name] <= hi:
                out.append(f"{name} {got[name]:.0f} not in {lo}-{hi}")
        elif name == "prog":
            for part, program in value.items():
                if got["prog"][part] != program:
                    out.append(f"{part} program {got['prog'][part]} (wanted {program})")
        elif got[name] != value:
            out.append(f"{name} {got[name]} (wanted {value})")
    return out


def _misses(cases: list) -> list[str]:
    misses = []
    for prompt, want, _ in cases:
        wrong = problems(understand(prompt), want)
        if wrong:
            misses.append(f"{prompt!r}: {'; '.join(wrong)}")
    return misses


def test_table_is_large_and_multilingual() -> None:
    assert len(CASES) >= 150
    assert len({p for p, _, _ in CASES}) == len(CASES), "a prompt is listed twice"


def test_core_cases_all_met() -> None:
    misses = _misses([c for c in CASES if c[2]])
    assert not misses, "\n".join(misses)


def test_share_met() -> None:
    misses = _misses(CASES)
    share = 1 - len(misses) / len(CASES)
    print(f"\nprompt table: {len(CASES) - len(misses)}/{len(CASES)} met ({share:.1%})")
    for miss in misses:
        print("  miss:", miss)
    assert share >= TARGET, f"{share:.1%} met; misses:\n" + "\n".join(misses)


def test_catalogue_tempo_only_where_no_style_file_brings_one() -> None:
    """A tempo range is written once: in the style file, or (for a style that has none yet and
    falls back) in the catalogue. The meters the catalogue implies agree with the style files."""
    from grammar.brief.lexicon import lexicon

    for sid, info in lexicon().styles.items():
        if sid in STYLES:
            assert info.tempo is None, f"{sid}: its style file brings the tempo range"
            if info.meter != "4/4":
                assert STYLES[sid].time_signature == info.meter, sid
        else:
            assert info.tempo is not None and info.fallback, sid
            assert any(f in STYLES for f in info.fallback), sid
