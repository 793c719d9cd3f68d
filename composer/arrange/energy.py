"""Energy of each section from its role and place in the form.

An arranger's first decision: how full the band plays where. The intro is sparse, a verse
medium, a chorus full, a bridge different, the last chorus (or the last statement of the theme
in a letter form) lifted, the outro winding down. ``level`` picks the style's patterns (low, mid,
high, bridge); ``energy`` (1..5) sets the dynamics.
"""

from __future__ import annotations

from dataclasses import dataclass

from planners.plan import SongPlan

CHORUS = ("chorus", "refrain", "tag")
FEATURE = ("solo", "instrumental", "interlude")
CONTRAST = ("bridge", "episode", "contrast")
QUIET = ("outro", "coda", "break")


@dataclass(frozen=True)
class Energy:
    level: str  # "low" | "mid" | "high" | "bridge"
    energy: int  # 1 (sparse) .. 5 (the last chorus)


def _base(role: str, occurrence: int) -> Energy:
    if role == "intro":
        return Energy("low", 1)
    if role in QUIET:
        return Energy("low", 2)
    if role in CHORUS or role in FEATURE:
        return Energy("high", 4)
    if role in CONTRAST:
        return Energy("bridge", 3)
    if role == "prechorus":
        return Energy("mid", 3)
    return Energy("mid", 2 if occurrence == 0 else 3)  # verse, theme: the second time busier


def section_energies(song: SongPlan) -> list[Energy]:
    """One Energy per section, in song order."""
    seen: dict[str, int] = {}
    out = []
    for s in song.sections:
        out.append(_base(s.role, seen.get(s.label, 0)))
        seen[s.label] = seen.get(s.label, 0) + 1
    if len(out) == 1:
        return [Energy("mid", 3)]
    body = [i for i, s in enumerate(song.sections) if s.role not in QUIET and s.role != "intro"]
    choruses = [i for i in body if song.sections[i].role in CHORUS]
    lift = choruses[-1] if choruses else (body[-1] if len(body) > 1 else None)
    if lift is not None and out[lift].level != "bridge":
        out[lift] = Energy("high", min(5, out[lift].energy + 1 if choruses else 4))
    shapes = song.understood.energy if song.understood is not None else ()
    for shape in shapes:  # the brief's energy shape, over the form's ("a build-up")
        out = _shaped(shape, out, song)
    return out


def _level(energy: int, was: str) -> str:
    if was == "bridge":
        return was  # a bridge keeps its own patterns; its dynamics follow the shape
    return "low" if energy <= 2 else "mid" if energy == 3 else "high"


def _ramp(n: int) -> list[int]:
    """1 .. 5 over ``n`` sections, never falling."""
    return [1 + round(4 * i / (n - 1)) for i in range(n)] if n > 1 else [3]


def _shaped(shape: str, out: list[Energy], song: SongPlan) -> list[Energy]:
    """``out`` reshaped by a brief's energy shape: "build" ramps from sparse to full, "drop"
    ramps and ends sparse, "steady" keeps one level, "calm ending" and "big ending" set the
    last section (shapes the form already gives, like a lifted last chorus, stay otherwise)."""
    n = len(out)
    if shape in ("build", "drop"):
        ramp = [*_ramp(n - 1), 1] if shape == "drop" and n > 1 else _ramp(n)
        return [Energy(_level(e, o.level), e) for e, o in zip(ramp, out, strict=True)]
    if shape == "steady":
        return [Energy(_level(3, o.level), 3) for o in out]
    if shape == "calm ending":
        return [*out[:-1], Energy("low", 1)]
    if shape == "big ending":
        return [*out[:-1], Energy("high", 5)]
    return out
