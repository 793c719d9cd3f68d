""" "Say what was understood": a structured record of what a prompt set and from which words,
what came from the style or the defaults, and which words were not used.

It is built by the planners when the song's globals are resolved (``planners.brief``), kept in
the plan (``SongPlan.understood``) and the report, printed by every ``compose`` (two lines, not
with ``-q``) and by ``compose plan``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Source = Literal["prompt", "explicit", "style", "default", "embedding"]


class Said(BaseModel):
    """One setting of the song and where it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str = Field(description="style, key, tempo, meter, feel, mood, instruments, ...")
    value: str
    source: Source
    words: str | None = Field(None, description="the prompt's words it came from")
    note: str | None = Field(None, description="how it was applied, or why not")


class Understood(BaseModel):
    """What the prompt was understood to ask, and what the song took from it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: str
    musical: bool = Field(description="the prompt said something musical that was understood")
    said: tuple[Said, ...] = ()
    unused: tuple[str, ...] = Field((), description="phrases of the prompt that were not used")
    warnings: tuple[str, ...] = ()
    feel: str | None = None
    mood: str | None = None
    colour: str | None = Field(None, description="harmony colour of the mood: dark, bright, warm")
    energy: tuple[str, ...] = Field((), description="energy shape: build, calm ending, ...")
    drums: bool | None = Field(None, description="drums asked for (True) or refused (False)")
    length_seconds: float | None = None
    length_bars: int | None = None

    def lines(self) -> list[str]:
        """One line for the prompt, one for the defaults (and warnings)."""
        parts = []
        for s in self.said:
            if s.source in ("prompt", "embedding"):
                how = "~" if s.source == "embedding" else "->"
                note = f" ({s.note})" if s.note else ""
                parts.append(f'"{s.words}" {how} {s.field} {s.value}{note}')
            elif s.source == "explicit" and s.words:
                parts.append(f'"{s.words}" not used: {s.note}')
        parts += [f'"{u}" not used' for u in self.unused]
        if not self.musical:
            parts.insert(0, "nothing musical understood")
        first = "prompt: " + "; ".join(parts)
        rest = [
            f"{s.field} {s.value}" + (f" ({s.note})" if s.note else f" ({s.source})")
            for s in self.said
            if s.source in ("style", "default")
        ]
        second = "defaults: " + ", ".join(rest) if rest else ""
        if self.warnings:
            second += ("; " if second else "") + "warning: " + "; ".join(self.warnings)
        return [first] + ([second] if second else [])
