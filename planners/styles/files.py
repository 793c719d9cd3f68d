"""Style files: one YAML file per style, validated field by field, loaded into a :class:`Style`.

A style file is what a Band-in-a-Box style is: the defaults a style sets (tempo, meter, key,
harmony), its instruments, its feel, and for each band instrument a set of patterns by energy
level written on a grid a musician can read. ``schema.json`` beside this file is the JSON Schema
of the format (generated from :class:`StyleFile`; a test keeps the two equal), for editors.

Grid strings: one character per step; the string's length sets the step (16 characters in a 4/4
bar are 16ths, 12 are triplet eighths, 6 in a 6/8 bar are eighths); ``|`` separates the bars of
a multi-bar pattern. Drums: ``x`` hit, ``X`` accent, ``o`` ghost, ``.`` rest. Comp: ``x`` strike
the voicing, ``X`` accented, ``a`` the next note of an arpeggio, ``d``/``u`` a down/up strum,
``-`` hold the note before, ``.`` rest. Bass: ``R`` the chord's bass, ``3 5 7`` its third, fifth
and seventh (the octave when it has none), ``8`` the octave, ``6 4 2`` a sixth, fourth and
second above the root, ``W`` a walking note (the engine picks chord tones on strong beats, scale
steps between), ``A`` an approach note into the next chord, ``N`` the next chord's root (an
anticipation), ``-`` hold, ``.`` rest.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from grammar.errors import SpecError

DATA = Path(__file__).parent / "data"
SCHEMA = Path(__file__).parent / "schema.json"
MAX_FILE_BYTES = 256 * 1024  # a style is a page of patterns; anything larger is not a style
LEVELS = ("low", "mid", "high")

DRUM_CHARS = set("xXo.|")
COMP_CHARS = set("xXaduU-.|")
BASS_CHARS = set("R35782461WAN-.|")

# General MIDI percussion (channel 10) by the names a style file uses.
DRUM_NOTES: dict[str, int] = {
    "kick": 36,
    "sidestick": 37,
    "snare": 38,
    "clap": 39,
    "floor_tom": 41,
    "hat": 42,
    "pedal_hat": 44,
    "tom_low": 45,
    "open_hat": 46,
    "tom_mid": 47,
    "tom_hi": 50,
    "crash": 49,
    "ride": 51,
    "ride_bell": 53,
    "tambourine": 54,
    "cowbell": 56,
    "shaker": 70,
    "woodblock": 76,
}
# Drum kits are program changes on channel 10 (GM2 / GS kit numbers).
KITS: dict[str, int] = {"standard": 0, "room": 8, "power": 16, "jazz": 32, "brushes": 40}

Grid = str | list[str]  # one pattern, or alternatives the band chooses between per section


def _check_grid(v: Grid, chars: set[str]) -> Grid:
    for s in [v] if isinstance(v, str) else v:
        if not s or not s.replace("|", ""):
            raise ValueError("empty pattern")
        bad = sorted(set(s) - chars)
        if bad:
            raise ValueError(f"pattern '{s}' has {bad[0]!r} (allowed: {''.join(sorted(chars))})")
        lengths = {len(b) for b in s.split("|")}
        if len(lengths) != 1:
            raise ValueError(f"pattern '{s}': its bars differ in length")
    if isinstance(v, list) and not v:
        raise ValueError("no patterns")
    return v


DrumBar = dict[str, str]  # instrument name -> grid string


def _check_drum_bar(v: DrumBar) -> DrumBar:
    if not v:
        raise ValueError("no instruments")
    for name, grid in v.items():
        if name not in DRUM_NOTES:
            raise ValueError(f"unknown drum '{name}' (one of: {', '.join(DRUM_NOTES)})")
        _check_grid(grid, DRUM_CHARS)
    return v


class CountIn(BaseModel):
    """The drummer's count-in before bar 1: ``bars`` bars of ``pattern`` (clicks on the beats,
    and where the style plays one, a pickup fill leading into the downbeat)."""

    model_config = ConfigDict(extra="forbid")

    bars: int = Field(1, ge=1, le=2, description="Bars of count-in before the song's bar 1.")
    pattern: DrumBar = Field(description="The count-in bar (the last one, if two: a pickup).")
    first: DrumBar | None = Field(None, description="The first of two bars (omitted: pattern).")

    @field_validator("pattern", "first")
    @classmethod
    def _bar(cls, v: DrumBar | None) -> DrumBar | None:
        return None if v is None else _check_drum_bar(v)


class Drums(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kit: Literal["standard", "room", "power", "jazz", "brushes"] = "standard"
    low: list[DrumBar] = Field(min_length=1, description="Grooves for sparse sections.")
    mid: list[DrumBar] = Field(min_length=1, description="Grooves for verses.")
    high: list[DrumBar] = Field(min_length=1, description="Grooves for choruses.")
    bridge: list[DrumBar] | None = Field(None, description="A different groove for bridges.")
    fill: list[DrumBar] = Field(min_length=1, description="Last bar before a new section.")
    ending: DrumBar = Field(description="The final bar.")
    crash: bool = Field(True, description="Crash cymbal on the downbeat of a new section.")
    count_in: CountIn | None = Field(
        None, description="A count-in before bar 1 (omitted: the band starts on bar 1)."
    )

    @field_validator("low", "mid", "high", "bridge", "fill")
    @classmethod
    def _bars(cls, v: list[DrumBar] | None) -> list[DrumBar] | None:
        for bar in v or []:
            _check_drum_bar(bar)
        return v

    @field_validator("ending")
    @classmethod
    def _ending(cls, v: DrumBar) -> DrumBar:
        return _check_drum_bar(v)


class Part(BaseModel):
    """Patterns of the comp or the bass by energy level."""

    model_config = ConfigDict(extra="forbid")

    low: Grid
    mid: Grid
    high: Grid
    bridge: Grid | None = None
    slow: dict[Literal["low", "mid", "high", "bridge"], Grid] | None = Field(
        None, description="Levels replaced at or below the style's slow tempo (a ballad feel)."
    )


class Comp(Part):
    voicing: Literal["close", "shell", "open", "power", "arpeggio", "strum"] = "close"

    @field_validator("low", "mid", "high", "bridge")
    @classmethod
    def _grid(cls, v: Grid | None) -> Grid | None:
        return None if v is None else _check_grid(v, COMP_CHARS)

    @field_validator("slow")
    @classmethod
    def _slow(cls, v: dict[str, Grid] | None) -> dict[str, Grid] | None:
        for g in (v or {}).values():
            _check_grid(g, COMP_CHARS)
        return v


class Pedal(BaseModel):
    """Pedal points: the bass holds one note (in the figure's rhythm) while the chords move."""

    model_config = ConfigDict(extra="forbid")

    dominant_bars: int = Field(
        0,
        ge=0,
        le=8,
        description="Bars of dominant pedal (the next section's dominant) closing a bridge or "
        "pre-chorus before the return (0: none).",
    )
    tonic: list[Literal["intro", "outro", "coda"]] = Field(
        default_factory=list, description="Section roles whose bass holds the tonic."
    )


class Bass(Part):
    pedal: Pedal | None = Field(None, description="Pedal points (omitted: none).")

    @field_validator("low", "mid", "high", "bridge")
    @classmethod
    def _grid(cls, v: Grid | None) -> Grid | None:
        return None if v is None else _check_grid(v, BASS_CHARS)

    @field_validator("slow")
    @classmethod
    def _slow(cls, v: dict[str, Grid] | None) -> dict[str, Grid] | None:
        for g in (v or {}).values():
            _check_grid(g, BASS_CHARS)
        return v


class Programs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    melody: int = Field(ge=0, le=127)
    chords: int = Field(ge=0, le=127)
    bass: int = Field(ge=0, le=127)


class Feel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    swing: float = Field(
        0.5,
        ge=0.5,
        le=0.75,
        description="Where the off-beat eighth falls: 0.5 straight, 0.67 swing",
    )
    humanise: float = Field(1.0, ge=0.0, le=2.0, description="Scale of timing/velocity looseness.")


class Targets(BaseModel):
    """What the melody rewards aim at (see planners.styles.MelodyTargets)."""

    model_config = ConfigDict(extra="forbid")

    step_ratio: float = Field(ge=0, le=1, description="Share of steps among melodic intervals.")
    notes_per_beat: float = Field(gt=0, le=8, description="Melody onsets per felt beat.")
    syncopation: float = Field(ge=0, le=1, description="Share of melody notes off the beat.")


WHOLE_TICKS = 1920  # a whole note (480 ticks per quarter)
Ornament = Literal["grace", "slide", "turn", "mordent", "trill", "cut", "roll", "fall"]


def note_value_ticks(text: str) -> int:
    """A note value written as a fraction of a whole note ('1/8', '3/16' a dotted eighth, '1')."""
    m = re.fullmatch(r"\s*(\d+)\s*(?:/\s*(\d+)\s*)?", text)
    if m is None or int(m[2] or 1) == 0 or int(m[1]) == 0:
        raise ValueError(f"'{text}' is not a note value like 1/8 or 3/16")
    ticks = WHOLE_TICKS * int(m[1]) / int(m[2] or 1)
    if ticks != int(ticks) or not 30 <= ticks <= 2 * WHOLE_TICKS:
        raise ValueError(f"'{text}' is not a note value between 1/64 and 2")
    return int(ticks)


class Idiom(BaseModel):
    """A style's melodic idiom: the rhythms and colours its tunes use (read by the melody plan,
    :mod:`planners.melody_plan`). Defaults are neutral: a user's file without it still works."""

    model_config = ConfigDict(extra="forbid")

    durations: list[str] = Field(
        default_factory=lambda: ["1/8", "1/4", "3/8", "1/2", "3/4", "1"],
        min_length=1,
        description="Note values the tunes use, as fractions of a whole note (3/16: dotted 8th).",
    )
    max_sixteenths: float = Field(0.15, ge=0, le=1, description="Most share of 16th notes.")
    max_dotted_eighths: float = Field(
        0.1, ge=0, le=1, description="Most share of dotted-eighth notes."
    )
    syncopation: float = Field(0.25, ge=0, le=1, description="Share of off-beat onsets.")
    density: float | None = Field(
        None,
        gt=0,
        le=8,
        description="Notes per felt beat (a jig runs ~2.5 to the dotted quarter; omitted: "
        "melody_targets.notes_per_beat).",
    )
    pickups: bool = Field(True, description="Phrases may start with an upbeat.")
    ornaments: list[Ornament] = Field(default_factory=list, description="Ornaments the idiom uses.")
    blue_notes: list[int] = Field(
        default_factory=list,
        description="Semitones above the tonic sung as blue notes: 3 (b3), 6 (b5), 10 (b7).",
    )
    blue_bias: float = Field(
        0.0,
        ge=0,
        le=4,
        description="How much likelier a learned melody model makes the blue notes where they "
        "are idiomatic (a logit bias: 1.5 makes them e^1.5, ~4.5 times, likelier); 0: none.",
    )
    approach_tones: bool = Field(False, description="Chromatic approach tones (jazz).")
    modal_colours: list[int] = Field(
        default_factory=list,
        description="Semitones above the tonic borrowed from a mode (10: the mixolydian b7).",
    )

    @field_validator("durations")
    @classmethod
    def _durations(cls, v: list[str]) -> list[str]:
        for d in v:
            note_value_ticks(d)
        return v

    @field_validator("blue_notes", "modal_colours")
    @classmethod
    def _semitones(cls, v: list[int]) -> list[int]:
        for x in v:
            if not 1 <= x <= 11:
                raise ValueError(f"{x} is not a semitone above the tonic (1..11)")
        return v

    def ticks(self) -> tuple[int, ...]:
        return tuple(sorted({note_value_ticks(d) for d in self.durations}))


class StyleFile(BaseModel):
    """One style file (``planners/styles/data/<name>.yaml``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    description: str = Field("", max_length=500)
    family: Literal["classical", "folk", "pop", "jazz", "blues", "waltz", "march"] = Field(
        description="The core style whose melody targets and reward weights it shares."
    )
    words: list[str] = Field(default_factory=list, description="Prompt words that pick it.")
    tempo: tuple[int, int, int] = Field(description="Slow, moderate, fast defaults (bpm).")
    slow_tempo: int = Field(0, ge=0, le=300, description="At or below: the 'slow' patterns.")
    time_signature: str
    key: str
    sevenths: bool = False
    chords_per_bar: int = Field(1, ge=1, le=4)
    programs: Programs
    melody_range: tuple[int, int]
    modulate_bridge: bool = True
    loop: list[str] = Field(default_factory=list)
    blues_form: bool = False
    harmony_model: Literal["chorale", "folk"] | None = None
    vocabulary: Literal["all", "triads"] = "triads"
    melody_targets: Targets = Field(description="What the melody rewards aim at.")
    idiom: Idiom = Field(
        default_factory=Idiom, description="The melody's rhythms and colours (melody plan)."
    )
    reward_weights: dict[str, float] = Field(
        default_factory=dict, description="Multipliers of reward weights (name: factor, 0..4)."
    )
    feel: Feel = Field(default_factory=Feel)
    drums: Drums | None = Field(None, description="Omitted: no drums (a hymn, a chorale).")
    comp: Comp
    bass: Bass

    @field_validator("reward_weights")
    @classmethod
    def _weights(cls, v: dict[str, float]) -> dict[str, float]:
        from grammar.spec import REWARD_NAMES

        for name, w in v.items():
            if name not in REWARD_NAMES:
                raise ValueError(f"unknown reward '{name}' (one of: {', '.join(REWARD_NAMES)})")
            if not 0 <= w <= 4:
                raise ValueError(f"'{name}': {w} is outside 0..4")
        return v

    @field_validator("time_signature")
    @classmethod
    def _meter(cls, v: str) -> str:
        from grammar.errors import GrammarError
        from grammar.meter import parse_time_signature

        try:
            parse_time_signature(v)
        except GrammarError as exc:
            raise ValueError(str(exc)) from None
        return v

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        from grammar.errors import GrammarError
        from grammar.keys import parse_key

        try:
            parse_key(v)
        except GrammarError as exc:
            raise ValueError(str(exc)) from None
        return v


def _where(exc: ValidationError) -> str:
    e = exc.errors()[0]
    loc = ".".join(str(p) for p in e["loc"] if not re.fullmatch(r"function-after\[.*\]", str(p)))
    return f"{loc or '(top)'}: {e['msg'].removeprefix('Value error, ')}"


def read_style_file(path: Path) -> StyleFile:
    """Load and validate one style file; SpecError('style', '<file>: <field>: <problem>')."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise SpecError("style", f"{path}: {size} bytes, more than {MAX_FILE_BYTES}")
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError("style", f"{path}: cannot read ({exc.strerror or exc})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SpecError("style", f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise SpecError("style", f"{path}: must be a mapping of fields")
    try:
        sf = StyleFile.model_validate(data)
    except ValidationError as exc:
        raise SpecError("style", f"{path}: {_where(exc)}") from None
    _check_meter_grids(sf, path)
    return sf


def _check_meter_grids(sf: StyleFile, path: Path) -> None:
    """Every bar of every pattern must divide the bar into whole ticks."""
    from grammar.meter import parse_time_signature

    bar = parse_time_signature(sf.time_signature).bar_ticks
    grids: list[tuple[str, str]] = []
    for part in ("comp", "bass"):
        p = getattr(sf, part)
        for lvl in ("low", "mid", "high", "bridge"):
            g = getattr(p, lvl)
            if g is not None:
                grids += [(f"{part}.{lvl}", s) for s in ([g] if isinstance(g, str) else g)]
        for lvl, g in (p.slow or {}).items():
            grids += [(f"{part}.slow.{lvl}", s) for s in ([g] if isinstance(g, str) else g)]
    if sf.drums is not None:
        for lvl in ("low", "mid", "high", "bridge", "fill"):
            for bar_ in getattr(sf.drums, lvl) or []:
                grids += [(f"drums.{lvl}.{k}", s) for k, s in bar_.items()]
        grids += [(f"drums.ending.{k}", s) for k, s in sf.drums.ending.items()]
        ci = sf.drums.count_in
        if ci is not None:
            for which, bar_ in (("pattern", ci.pattern), ("first", ci.first or {})):
                grids += [(f"drums.count_in.{which}.{k}", s) for k, s in bar_.items()]
    for where, s in grids:
        n = len(s.split("|")[0])
        if bar % n:
            raise SpecError(
                "style", f"{path}: {where}: {n} steps do not divide a {sf.time_signature} bar"
            )


@functools.cache
def builtin_files() -> dict[str, Path]:
    """The shipped style files by name."""
    return {p.stem: p for p in sorted(DATA.glob("*.yaml"))}


def schema() -> dict[str, object]:
    """The JSON Schema of a style file."""
    return StyleFile.model_json_schema()
