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
    return out
