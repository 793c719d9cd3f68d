"""The rule planner: a functional-harmony Markov chain with cadence formulas.

Tonic -> predominant -> dominant -> tonic, as transition weights written from the rules of
common-practice and popular harmony; sampled between phrase anchors so each anchor stays
reachable (no rejection sampling). Styles without a learned model (jazz's sevenths are added
after, blues has its own changes) use it, and the benchmark compares the learned planner
against it (``benchmarks/bench_harmony.py``).
"""

from __future__ import annotations

import numpy as np

from planners.cadences import CADENCES, PREDOMINANTS, TONIC, inner_cadence
from planners.plan import Cadence
from planners.styles import Style

# Functional transition weights (rules of thumb from common-practice and popular harmony).
# No self-loops: a chord change is a change.
NEXT: dict[str, dict[str, dict[str, float]]] = {
    "major": {
        "I": {"IV": 3, "V": 3, "vi": 2.5, "ii": 2, "iii": 0.5},
        "ii": {"V": 5, "viio": 0.4, "IV": 0.6},
        "iii": {"vi": 3, "IV": 2, "ii": 1},
        "IV": {"V": 3, "I": 2, "ii": 1.5, "vi": 0.5},
        "V": {"I": 5, "vi": 1.5, "IV": 0.4},
        "vi": {"ii": 3, "IV": 3, "V": 1, "iii": 0.5},
        "viio": {"I": 4, "iii": 0.3},
    },
    "minor": {
        "i": {"iv": 3, "V": 3, "VI": 2.5, "iio": 1.5, "III": 1, "VII": 1},
        "iio": {"V": 5},
        "III": {"VI": 3, "iv": 2, "VII": 1},
        "iv": {"V": 3, "i": 2, "iio": 1.5, "VII": 1},
        "V": {"i": 5, "VI": 1.5},
        "VI": {"iio": 2, "iv": 3, "V": 1.5, "III": 0.5},
        "VII": {"III": 3, "i": 1},
    },
}
LOOPS = {"major": ("I", "V", "vi", "IV"), "minor": ("i", "VI", "III", "VII")}
LOOP_RATE = 0.5  # how often a pop section of another role rides the loop
# The chorus rides the style's loop (I-V-vi-IV in pop) and the verse the functional chain, so
# the chorus's harmony differs from the verse's, as in the songs the style imitates.
LOOP_ROLES = ("chorus", "refrain")
CHAIN_ROLES = ("verse", "prechorus")


def _reachable(mode: str, target: str, steps: int) -> list[set[str]]:
    """reach[j] = numerals from which ``target`` is reached in exactly j transitions."""
    nxt = NEXT[mode]
    target = _base(target)
    reach = [{target}]
    for _ in range(steps):
        reach.append({a for a, outs in nxt.items() if outs.keys() & reach[-1]})
    return reach


def _base(numeral: str) -> str:
    """The Markov state of a numeral: V7 moves like V."""
    return "V" if numeral == "V7" else numeral


def fill(mode: str, start: str, target: str, slots: int, rng: np.random.Generator) -> list[str]:
    """``slots`` numerals that begin at ``start`` and lead into ``target`` (not included)."""
    if slots <= 0:
        return []
    start, target = _base(start), _base(target)
    reach = _reachable(mode, target, slots)
    if start not in reach[slots]:
        # The anchor cannot be reached from this start in this many steps (rare: very short
        # spans); start instead on the chord that best leads into the target.
        start = max(
            (c for c in NEXT[mode] if c in reach[slots]),
            key=lambda c: NEXT[mode][c].get(target, 0.0),
        )
    out = [start]
    for remaining in range(slots - 1, 0, -1):
        options = {c: w for c, w in NEXT[mode][out[-1]].items() if c in reach[remaining]}
        names = sorted(options)
        weights = np.array([options[n] for n in names], dtype=float)
        out.append(names[int(rng.choice(len(names), p=weights / weights.sum()))])
    return out


def plan_numerals(
    bars: int,
    per_bar: int,
    cadence: Cadence,
    mode: str,
    style: Style,
    role: str,
    rng: np.random.Generator,
) -> list[list[str]]:
    """Roman numerals, one list per bar, for a planned section."""
    end = CADENCES[mode].get(cadence, CADENCES[mode]["authentic"])
    phrase = 4 if bars >= 8 and bars % 4 == 0 else bars
    # the draw is taken for every role, so the section's later draws do not shift with its role
    use_loop = bool(style.loop) and bars >= 4 and rng.random() < LOOP_RATE
    if style.loop and bars >= 4 and (role in LOOP_ROLES or role in CHAIN_ROLES):
        use_loop = role in LOOP_ROLES
    loop = list(style.loop if mode == "major" else LOOPS[mode]) if use_loop else []
    out: list[list[str]] = []
    for p_start in range(0, bars, phrase):
        p_bars = min(phrase, bars - p_start)
        last = p_start + p_bars >= bars
        p_end = end if last else CADENCES[mode][inner_cadence(p_start // phrase, cadence)]
        p_index = p_start // phrase
        if p_index % 2 == 1 and p_bars >= 4 and out:
            head = [list(b) for b in out[p_start - phrase : p_start - phrase + 2]]
        else:
            head = []
        if loop and role in LOOP_ROLES and not last and p_bars * per_bar % 4 == 0:
            flat = loop * (p_bars * per_bar // 4)  # the chorus states the loop whole
            out.extend(flat[i * per_bar : (i + 1) * per_bar] for i in range(p_bars))
            continue
        out.extend(_phrase(p_bars, per_bar, p_end, mode, head, use_loop, role, rng))
    return out


def _phrase(
    bars: int,
    per_bar: int,
    end: tuple[str, ...],
    mode: str,
    head: list[list[str]],
    use_loop: bool,
    role: str,
    rng: np.random.Generator,
) -> list[list[str]]:
    """One phrase: optional copied head bars, a filled middle, the ending formula."""
    tonic = TONIC[mode]
    pd = PREDOMINANTS[mode][int(rng.integers(len(PREDOMINANTS[mode])))]
    end = tuple(pd if c == "PD" else c for c in end)
    slots = (bars - 1) * per_bar + 1  # the last bar holds one chord: the phrase's arrival
    flat: list[str] = [c for b in head for c in b]
    flat = flat[: max(0, slots - len(end) - 1)]  # a copied head never crowds out the formula
    body = slots - len(flat) - len(end)
    if body < 0:  # a phrase too short for its formula: keep the formula's tail
        return _to_bars(list(end)[-slots:], bars, per_bar)
    loop = LOOPS[mode]
    looped = [loop[(len(flat) + i) % len(loop)] for i in range(body)]
    if use_loop and body and _base(end[0]) in NEXT[mode].get(_base(looped[-1]), {}):
        flat += looped  # the loop, only where it leads into the cadence formula
    else:
        if flat:
            start_opts = list(NEXT[mode][_base(flat[-1])])
            start = start_opts[int(rng.integers(len(start_opts)))]
        else:
            start = tonic if role not in ("bridge", "episode") else _contrast_start(mode, rng)
        flat += fill(mode, start, end[0], body, rng)
    flat += list(end)
    return _to_bars(flat, bars, per_bar)


def _contrast_start(mode: str, rng: np.random.Generator) -> str:
    """A bridge opens away from the tonic: on the subdominant or the submediant."""
    opts = ("IV", "vi") if mode == "major" else ("iv", "VI")
    return opts[int(rng.integers(len(opts)))]


def _to_bars(flat: list[str], bars: int, per_bar: int) -> list[list[str]]:
    out = [flat[i * per_bar : (i + 1) * per_bar] for i in range(bars - 1)]
    out.append(flat[(bars - 1) * per_bar :])
    return out
