"""What a composed song leaves on disk for ``compose revise``: the song state, saved inside
the JSON report (``Report.song``) in a versioned format of its own.

The report says what was planned and why; the state holds what revising needs to keep every
other section note for note:

- ``plan``: the resolved plan (keys, chords, melody plans), so nothing is planned again;
- ``edges``: the form graph (source, target, relation);
- per section: the chosen candidate's notes (ticks from the section's start, every track the
  generator wrote: what the search reads as context and junction), the arrangement's notes that
  start in it, and its played notes (absolute ticks), with the generator and seed;
- ``quantized``, and the ``revisions`` made so far.

Notes are stored compactly: base64 of little-endian int32 rows (onset, duration, pitch,
velocity, track), 20 bytes a note (:func:`encode_notes`). ``format_version`` changes whenever
the layout does; a state of another version is refused with a one-line error.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from kernels.notes import empty_notes
from planners.plan import SongPlan

if TYPE_CHECKING:
    from composer.compilation import Compilation

FORMAT_VERSION = 1
_ROW = np.dtype("<i4")
_FIELDS = ("onset", "duration", "pitch", "velocity", "track")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def encode_notes(notes: np.ndarray) -> str:
    """A NoteArray as base64 of little-endian int32 rows (onset, duration, pitch, velocity,
    track)."""
    rows = np.zeros((notes.size, len(_FIELDS)), dtype=_ROW)
    for i, name in enumerate(_FIELDS):
        rows[:, i] = notes[name]
    return base64.b64encode(rows.tobytes()).decode("ascii")


def decode_notes(text: str) -> np.ndarray:
    """The NoteArray :func:`encode_notes` wrote; ValueError if ``text`` is not one."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("notes are not base64") from None
    width = len(_FIELDS) * _ROW.itemsize
    if len(raw) % width:
        raise ValueError(f"notes are {len(raw)} bytes, not a multiple of {width}")
    rows = np.frombuffer(raw, dtype=_ROW).reshape(-1, len(_FIELDS))
    out = empty_notes(rows.shape[0])
    for i, name in enumerate(_FIELDS):
        out[name] = rows[:, i]
    return out


class SectionState(_Model):
    id: str
    generator: str
    seed: int
    material: str = Field(description="new, repeat or variation")
    notes: str = Field(description="the chosen candidate, ticks from the section's start")
    arranged: str = Field(description="the arrangement's notes starting in it, absolute ticks")
    performed: str = Field(description="its played notes, absolute ticks")


class Revision(_Model):
    sections: list[str] = Field(description="the sections asked for")
    recomposed: list[str] = Field(description="the sections whose notes were made again")
    part: str = Field(description="all, melody, accompaniment or drums")
    seed: int
    unlinked: bool = False


class SongState(_Model):
    format_version: int = FORMAT_VERSION
    plan: SongPlan
    quantized: bool
    edges: list[tuple[str, str, str]] = Field(description="form graph: source, target, relation")
    sections: list[SectionState]
    revisions: list[Revision] = Field(default_factory=list)

    def notes(self, section_id: str, kind: str = "notes") -> np.ndarray:
        """A section's ``notes``, ``arranged`` or ``performed`` notes as a NoteArray."""
        return decode_notes(getattr(self.section(section_id), kind))

    def section(self, section_id: str) -> SectionState:
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)


def song_state(c: Compilation) -> SongState | None:
    """The state of a finished compilation (None before the render pass has run)."""
    from composer.sections import owned

    plan = c.plan
    if plan is None or c.graph is None or c.notes is None or not c.performed:
        return None
    sections = []
    for s, played in zip(plan.sections, c.performed, strict=True):
        seg = c.choices[s.id].chosen.segment
        sections.append(
            SectionState(
                id=s.id,
                generator=seg.generator,
                seed=seg.seed,
                material=str(seg.provenance.get("material", "new")),
                notes=encode_notes(seg.notes),
                arranged=encode_notes(owned(plan, c.notes, s)),
                performed=encode_notes(played),
            )
        )
    return SongState(
        plan=plan,
        quantized=bool(c.spec.quantized),
        edges=[(u, v, k) for u, v, k in c.graph.edges(keys=True)],
        sections=sections,
    )
