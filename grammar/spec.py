"""SongSpec: what the user asked for, possibly partial, validated field by field.

Sources, highest precedence first: CLI flags, the YAML spec, what the prompt text says, the style's
defaults, the built-in defaults. This module owns the first three (:func:`load_spec`,
:func:`merge_overrides`); the prompt is read by :func:`grammar.brief.apply.read_prompt`.

Every field is optional. Values are validated with the grammar parsers so that a bad key, meter,
form or chord is reported here, naming the field, before any planning starts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)

from grammar.errors import GrammarError, SpecError, shorten
from grammar.forms import SECTION_NAMES, parse_form
from grammar.keys import parse_key
from grammar.meter import parse_time_signature
from grammar.paths import read_input
from grammar.yamlsafe import YamlError, load_yaml

SCHEMA_VERSION = 1

# Bounds that separate "unusual" from "absurd". A 20 bpm dirge and a 300 bpm reel are both real
# music; 128 bars is a long section (a 12-bar blues played ten times is one section per chorus).
TEMPO_RANGE = (20, 300)
SECTION_BARS_RANGE = (1, 128)
CANDIDATES_RANGE = (1, 256)
SEED_RANGE = (0, 2**32 - 1)


def _grammar(parse: Any, value: str | None) -> str | None:
    """Run a grammar parser for validation only; re-raise its problem as a ValueError."""
    if value is None:
        return None
    try:
        parse(value)
    except GrammarError as exc:
        raise ValueError(str(exc)) from None
    return value.strip()


class SectionSpec(BaseModel):
    """Per-label settings (``sections: {B: {bars: 8, key: Ab major, chords: ...}}``)."""

    model_config = ConfigDict(extra="forbid")

    bars: int | None = Field(None, strict=True, ge=SECTION_BARS_RANGE[0], le=SECTION_BARS_RANGE[1])
    key: str | None = Field(None, description="Key of this section, e.g. 'Ab major'.")
    chords: str | None = Field(
        None,
        max_length=20_000,  # 128 bars of 8 chords; a longer string is a mistake, not a song
        description="Lead-sheet chords, bars separated by '|', e.g. 'Abmaj7 | Db7 | Gm7 C7'; "
        "roman numerals ('ii7 V7 | I') are read in the section's key; '?' leaves a chord to the "
        "planner ('I | ? | ? | V7'). Must fill the bars exactly.",
    )
    role: str | None = Field(None, description="Override the role (verse, chorus, bridge, ...).")
    cadence: Literal["authentic", "half", "plagal", "deceptive"] | None = Field(
        None,
        description="How the section must end; a hard constraint (the planner otherwise chooses "
        "by the section's place in the form). With chords given, they must end this way.",
    )
    midi: str | None = Field(
        None,
        max_length=4096,
        description="The user's own melody for this section: a MIDI file (relative to the "
        "working directory), quantised to sixteenths and kept note for note. Its bars, key and "
        "chords (harmonised from the melody), and the song's key, meter and tempo, are taken "
        "from it where unset; a value set that disagrees is an error.",
    )
    musicxml: str | None = Field(
        None, max_length=4096, description="As midi:, from a MusicXML file."
    )
    track: int | None = Field(
        None,
        strict=True,
        ge=1,
        le=64,
        description="With midi: or musicxml:, the track (part) holding the melody, counting "
        "those with notes from 1 (default 1).",
    )

    @field_validator("key")
    @classmethod
    def _key(cls, v: str | None) -> str | None:
        return _grammar(parse_key, v)

    @field_validator("role")
    @classmethod
    def _role(cls, v: str | None) -> str | None:
        if v is None:
            return None
        role = SECTION_NAMES.get(v.strip().lower())
        if role is None:
            raise ValueError(
                f"unknown role '{v}' (one of: {', '.join(sorted(set(SECTION_NAMES.values())))})"
            )
        return role

    @field_validator("chords")
    @classmethod
    def _chords(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("no chords")
        return v

    @field_validator("midi", "musicxml")
    @classmethod
    def _file(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("is empty")
        return v

    @model_validator(mode="after")
    def _one_source(self) -> SectionSpec:
        if self.midi is not None and self.musicxml is not None:
            raise ValueError("give midi or musicxml, not both")
        if self.track is not None and self.midi is None and self.musicxml is None:
            raise ValueError("track is for a midi or musicxml file: give one")
        return self


# The rewards a spec or profile may weigh, by name: part of the spec's language. The functions
# are composer.search.rewards.REWARDS, which checks at import that its keys are these, in order.
REWARD_NAMES = (
    "harmonic_fit",
    "key_clarity",
    "step_balance",
    "contour",
    "range_fit",
    "cadence",
    "groove",
    "style_rhythm",
    "form_relation",
    "novelty",
    "breathing",
    "cadence_strength",
    "register_arc",
    "rhythm_idiom",
    "hook",
    "learned",
    "band_fit",
)


def _check_weights(v: dict[str, float]) -> dict[str, float]:
    names = REWARD_NAMES
    for name, w in v.items():
        if name not in names:
            raise ValueError(f"unknown reward '{name}' (one of: {', '.join(names)})")
        if not 0.0 <= w <= 100.0:
            raise ValueError(f"weight of '{name}' must be in 0..100, got {w}")
    return v


class Preferences(BaseModel):
    """How the search chooses among candidates (``preferences:`` in a spec)."""

    model_config = ConfigDict(extra="forbid")

    weights: dict[str, Annotated[float, Strict()]] = Field(
        default_factory=dict,
        description="Reward weights by name (harmonic_fit, step_balance, groove, novelty, "
        "learned, ...), 0..100; they replace the style's and the profile's.",
    )
    profile: str | None = Field(
        None,
        description="A listener's profile name (letters, digits, - and _; fitted by `compose "
        "learn --profile NAME`): compose with their personal reward. Anything else is a YAML "
        "file of a user's reward weights: {weights: {name: w}}.",
    )
    beam: int = Field(
        4, strict=True, ge=1, le=16, description="Partial songs kept by the search (1 = greedy)."
    )
    diversity: float = Field(
        0.25,
        strict=True,
        ge=0.0,
        le=1.0,
        description="0 takes the best-scoring candidates; higher drops near-duplicates and "
        "samples among good candidates instead of optimising hard.",
    )
    learned: bool = Field(True, strict=True, description="Use the learned reward model.")
    adaptive: bool = Field(
        False,
        strict=True,
        description="Sample each section's candidates in rounds of 4 and stop once the best is "
        "clearly ahead (the chorus and the ending take at least 8): faster, see the README.",
    )

    @field_validator("weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        return _check_weights(v)

    @field_validator("profile")
    @classmethod
    def _profile(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("is empty")
        return v


class SongSpec(BaseModel):
    """A request for a song. Every field is optional; see the README for defaults."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = Field(SCHEMA_VERSION, strict=True, ge=1, le=SCHEMA_VERSION)
    title: str | None = Field(None, max_length=200)
    prompt: str | None = Field(
        None, max_length=2000, description="Free text; may carry key, tempo, meter, style, form."
    )
    key: str | None = Field(None, description="Home key: tonic with # or b, then major|minor.")
    tempo: int | None = Field(
        None,
        strict=True,
        ge=TEMPO_RANGE[0],
        le=TEMPO_RANGE[1],
        description="Quarter notes per minute.",
    )
    time_signature: str | None = Field(None, description="e.g. 4/4, 3/4, 6/8, 2/2, 5/4.")
    style: str | None = Field(
        None,
        description="A style name (compose styles lists them) or the path of a style file "
        "(my_style.yaml, relative to the working directory).",
    )
    form: str | None = Field(
        None,
        max_length=2000,  # 64 sections of the longest names
        description="Letters (AABA, A A' B A) or names ([verse chorus]x2 bridge chorus).",
    )
    sections: dict[str, SectionSpec] = Field(
        default_factory=dict, description="Per-label settings, keyed by form label (A, B, chorus)."
    )
    seed: int | None = Field(None, strict=True, ge=SEED_RANGE[0], le=SEED_RANGE[1])
    candidates: int | None = Field(
        None,
        strict=True,
        ge=CANDIDATES_RANGE[0],
        le=CANDIDATES_RANGE[1],
        description="Candidates per section.",
    )
    generator: str | None = Field(None, description="Section generator name (compose generators).")
    checkpoint: str | None = Field(
        None,
        description="Model folder of the transformer generator, written by `compose train "
        "--data DIR --out MODELDIR` (default: the shipped model); relative to the working "
        "directory.",
    )
    quantized: bool | None = Field(
        None,
        description="Play exactly on the grid: no humanisation of timing and velocity (swing "
        "and strums, which are the style, stay).",
    )
    count_in: bool | None = Field(
        None,
        description="Play the style's count-in before bar 1 (false: start on bar 1; omitted: "
        "as the style file says).",
    )
    preferences: Preferences | None = Field(
        None, description="How candidates are chosen: reward weights, profile, beam, diversity."
    )
    lock: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list,
        max_length=256,
        description="Section ids (A1, chorus2) kept note for note from the song given by "
        "`compose --from SONG.json`; the rest is composed anew around them.",
    )

    @field_validator("key")
    @classmethod
    def _key(cls, v: str | None) -> str | None:
        return _grammar(parse_key, v)

    @field_validator("time_signature")
    @classmethod
    def _meter(cls, v: str | None) -> str | None:
        # "C" and "¢" are stored as what they mean (4/4, 2/2): the plan and the report say so
        if _grammar(parse_time_signature, v) is None or v is None:
            return None
        return str(parse_time_signature(v))

    @field_validator("form")
    @classmethod
    def _form(cls, v: str | None) -> str | None:
        return _grammar(parse_form, v)

    @field_validator("style")
    @classmethod
    def _style(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = v.strip()
        if v.endswith((".yaml", ".yml")):  # a style file: read and checked by planners.styles
            return v
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", v):
            raise ValueError(f"'{v}' is neither a style name nor a style file (name.yaml)")
        return v.lower()  # planners.styles.get_style names the styles there are if unknown

    def setting(self, names: Sequence[str], field: str) -> tuple[str, Any] | None:
        """The first of ``names`` (a marked name like "A'", then its label "A") whose section
        settings give ``field``: (its dotted path, for messages; the value). Each field falls back
        on its own, so ``A': {bars: 4}`` still takes A's chords and key."""
        return _first_setting(self.sections, names, field)

    @field_validator("title", "prompt", "generator", "checkpoint")
    @classmethod
    def _nonblank(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("is empty")
        return v.strip() if v is not None else None


def _first_setting(
    sections: dict[str, SectionSpec], names: Sequence[str], field: str
) -> tuple[str, Any] | None:
    for name in names:
        section = sections.get(name)
        value = None if section is None else getattr(section, field)
        if value is not None:
            return f"sections.{name}.{field}", value
    return None


# Units for range messages ("tempo: 8 is below 20 bpm"), by the field's last name.
UNITS = {"tempo": " bpm", "bars": " bars"}


def _shown(value: Any) -> str:
    """A user's value as YAML would write it, bounded: true/false, not Python's True/False."""
    if isinstance(value, bool):
        return "true" if value else "false"  # YAML 1.1 reads yes/no/on/off as these too
    if isinstance(value, str):
        return f"'{shorten(value)}'"
    if isinstance(value, dict | list | tuple):
        return f"a {'mapping' if isinstance(value, dict) else 'list'}"
    return shorten(value)


def _problem(err: Any, last: str) -> str:
    """Pydantic's error in the user's words."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    unit = UNITS.get(last, "")
    if kind in {"greater_than_equal", "greater_than"}:
        bound = ctx.get("ge", ctx.get("gt"))
        return f"{_shown(value)} is below {bound}{unit}"
    if kind in {"less_than_equal", "less_than"}:
        bound = ctx.get("le", ctx.get("lt"))
        return f"{_shown(value)} is above {bound}{unit}"
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return f"must be a whole number, got {_shown(value)}"
    if kind in {"float_type", "float_parsing"}:
        return f"must be a number, got {_shown(value)}"
    if kind in {"bool_type", "bool_parsing"}:
        return f"must be true or false, got {_shown(value)}"
    if kind in {"string_type"}:
        return f"must be text, got {_shown(value)}"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return f"must be a mapping of fields, got {_shown(value)}"
    if kind == "string_too_long":
        return f"is {len(value)} characters long (at most {ctx.get('max_length')})"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {_shown(value)}"
    return str(err["msg"]).removeprefix("Value error, ")


def _spec_error(exc: ValidationError) -> SpecError:
    """The first pydantic error as a one-line SpecError naming the field's dotted path."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"]) or "spec"
    if err["type"] == "extra_forbidden":
        parent: type[BaseModel] = SongSpec
        if len(err["loc"]) > 1:
            parent = Preferences if err["loc"][0] == "preferences" else SectionSpec
        msg = f"unknown field (allowed: {', '.join(parent.model_fields)})"
    else:
        msg = _problem(err, str(err["loc"][-1]) if err["loc"] else "")
    return SpecError(field, msg)


def validate_spec(data: dict[str, Any]) -> SongSpec:
    """Build a SongSpec from plain data, raising SpecError on the first problem."""
    try:
        return SongSpec.model_validate(data)
    except ValidationError as exc:
        raise _spec_error(exc) from None


def _read_yaml(path: str | Path, field: str) -> Any:
    p = Path(path).expanduser()
    text = read_input(p, field)
    try:
        return load_yaml(text)
    except YamlError as exc:
        raise SpecError(field, f"'{shorten(p, 120)}': {exc}") from None


def load_spec(path: str | Path) -> SongSpec:
    """Read a YAML spec safely (:func:`grammar.yamlsafe.load_yaml`: no object construction,
    bounded aliases, depth and size, no duplicate keys)."""
    p = Path(path)
    data = _read_yaml(p, "--spec")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SpecError(
            "--spec",
            f"'{shorten(p, 120)}' must hold a mapping of fields, not {type(data).__name__}",
        )
    return validate_spec(data)


def load_profile(path: str | Path) -> dict[str, float]:
    """A user profile: a YAML mapping ``{weights: {reward: weight}}``; SpecError naming
    ``preferences.profile`` on any problem."""
    field = "preferences.profile"
    p = Path(path).expanduser()
    data = _read_yaml(p, field)
    shown = shorten(p, 120)
    if not isinstance(data, dict) or set(data) - {"weights"}:
        raise SpecError(field, f"'{shown}' must hold a mapping with one field, weights")
    weights = data.get("weights") or {}
    if not isinstance(weights, dict) or not all(
        isinstance(w, int | float) and not isinstance(w, bool) for w in weights.values()
    ):
        raise SpecError(field, f"'{shown}': weights must map reward names to numbers")
    try:
        return _check_weights({str(k): float(w) for k, w in weights.items()})
    except ValueError as exc:
        raise SpecError(field, f"'{shown}': {exc}") from None


def merge_overrides(spec: SongSpec, overrides: dict[str, Any]) -> SongSpec:
    """Apply CLI flags (non-None values) on top of a spec and re-validate."""
    data = spec.model_dump(exclude_unset=True)
    data.update({k: v for k, v in overrides.items() if v is not None})
    return validate_spec(data)


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema of the spec, for editors that complete YAML files."""
    schema = SongSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "SongSpec"
    return schema
