"""The JSON report written next to every song: what was asked, what was planned, what was chosen
and why. It validates against its own model (``Report.model_validate_json``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChordReport(_Model):
    bar: int = Field(ge=1)
    beat: float = Field(ge=1)
    symbol: str
    roman: str


class ChoiceReport(_Model):
    candidate: int = Field(ge=0, description="index of the chosen candidate")
    candidates: int = Field(ge=1, description="how many were proposed")
    pruned: int = Field(ge=0, description="dropped for more hard violations than the best")
    objective: float
    runner_up_objective: float | None = None
    margin: float | None = Field(
        None, description="objective lead over the runner-up (negative if it won on violations)"
    )
    runner_up_violations: int | None = None
    decided_by: str = Field(description="violations, score, or only candidate")
    junction: float = Field(description="smoothness of the seam with the previous section, 0..1")
    material: str = Field(description="new, repeat or variation")
    seed: int = Field(description="the candidate's seed")


class SectionReport(_Model):
    id: str
    label: str
    name: str
    role: str
    start_bar: int = Field(ge=1)
    bars: int = Field(ge=1)
    key: str
    cadence: str
    relation: str
    source: str | None = None
    chords: list[ChordReport]
    scores: dict[str, float]
    violations: dict[str, int]
    choice: ChoiceReport


class TrackReport(_Model):
    name: str
    role: str
    program: int
    channel: int


class EdgeReport(_Model):
    source: str
    target: str
    relation: str


class Report(_Model):
    schema_version: int = SCHEMA_VERSION
    title: str
    prompt: str | None = None
    style: str
    key: str
    tempo: int
    time_signature: str
    bars: int
    duration_seconds: float
    tracks: list[TrackReport]
    generator: str
    seed: int
    candidates: int
    sections: list[SectionReport]
    form_graph: list[EdgeReport]
    timings: dict[str, float] = Field(description="seconds per pass")
