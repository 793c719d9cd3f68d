"""The plan IR: a fully resolved song, section by section, before any note is written.

``SongPlan`` is what every pass after ``parse`` reads and refines. It is pydantic (typed, saved in
the report, validated between passes with ``--debug``). Times inside a section are ticks from the
section's start; ``start_bar`` places the section in the song (1-based, like a score).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grammar.brief.explain import Understood
from grammar.chords import Chord, parse_chord
from grammar.keys import Key, parse_key
from grammar.meter import TimeSignature, parse_time_signature

SCHEMA_VERSION = 1

Cadence = Literal["authentic", "half", "plagal", "deceptive", "none"]
Relation = Literal["new", "repeats", "varies"]
TrackRole = Literal["melody", "chords", "bass", "drums"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChordEvent(_Model):
    """One chord of a section's progression."""

    bar: int = Field(ge=1, description="bar within the section, 1-based")
    beat: float = Field(ge=1, description="felt beat within the bar, 1-based (2.5 = halfway)")
    start_tick: int = Field(ge=0, description="ticks from the section start")
    duration_ticks: int = Field(gt=0)
    symbol: str = Field(description="lead-sheet symbol, e.g. 'Bbmaj7', 'C7/E'")
    roman: str = Field(description="roman numeral in the section's key, e.g. 'V7/V'")

    def chord(self) -> Chord:
        return parse_chord(self.symbol)


class TrackPlan(_Model):
    name: str
    role: TrackRole
    program: int = Field(ge=0, le=127, description="General MIDI program, 0-based")
    channel: int = Field(ge=0, le=15)


PhraseEnd = Literal["breath", "half", "full"]
HookUse = Literal["none", "state", "repeat", "sequence", "vary_rhythm", "fragment"]
Development = Literal["literal", "embellish", "lift", "rhythm", "reharmonise"]


class PhrasePlan(_Model):
    """One phrase of a section's melody: where it lies and how strongly it ends. A phrase ends on
    a long note or a rest (``breath``: a light breath; ``half``: an open, half-cadence ending;
    ``full``: the section's close, the strongest)."""

    start_bar: int = Field(ge=1, description="first bar within the section, 1-based")
    bars: int = Field(ge=1)
    end: PhraseEnd = "breath"
    long_end: bool = Field(
        True,
        description="ends on a long note or a rest (False: runs on into the next phrase, as "
        "sung tunes do at some breaths; a section's last phrase always ends long)",
    )


class RhythmVocabulary(_Model):
    """A style's melodic rhythm and pitch idiom, as the melody plan carries it to generators.
    Durations are in ticks (480 per quarter note)."""

    durations: tuple[int, ...] = Field(description="note durations the idiom uses, in ticks")
    max_sixteenths: float = Field(1.0, ge=0, le=1, description="most share of 16th-note onsets")
    max_dotted: float = Field(1.0, ge=0, le=1, description="most share of dotted-eighth notes")
    syncopation: float = Field(0.25, ge=0, le=1, description="target share of off-beat onsets")
    swing: float = Field(0.5, ge=0.5, le=0.75)
    pickup: bool = Field(False, description="phrases may start with an upbeat")
    blue_notes: tuple[int, ...] = Field(
        (), description="semitones above the tonic allowed as blue notes (3, 6, 10 in the blues)"
    )
    blue_bias: float = Field(
        0.0,
        ge=0,
        le=4,
        description="logit bias a learned generator adds to the blue notes where they are "
        "idiomatic (off the strong beats, or a tone of the chord sounding there); 0: none",
    )
    approach_tones: bool = Field(False, description="chromatic approach tones allowed (jazz)")
    ornaments: tuple[str, ...] = Field(
        (), description="ornaments the idiom uses (grace, slide, turn, cut, roll, ...)"
    )
    colours: tuple[int, ...] = Field(
        (), description="semitones above the tonic borrowed from a mode (10: mixolydian b7)"
    )


class Hook(_Model):
    """The song's motif (rhythm + contour) that the theme or chorus states and other sections
    develop. Onsets and durations are ticks from the start of the motif's first bar; contour is
    the scale-step offset of each note from the first."""

    onsets: tuple[int, ...]
    durations: tuple[int, ...]
    contour: tuple[int, ...]


class MelodyPlan(_Model):
    """What a section's melody should do, planned before any note: phrase lengths and cadence
    points, register (tessitura and the place of the climax), rhythmic density and idiom, and the
    hook's use. Generators receive it through ``SectionPlan.melody``; ``None`` means unplanned."""

    phrases: tuple[PhrasePlan, ...]
    low: int = Field(ge=0, le=127, description="tessitura target, lowest MIDI pitch")
    high: int = Field(ge=0, le=127, description="tessitura target, highest MIDI pitch")
    centre: int = Field(ge=0, le=127, description="target mean pitch of the section")
    climax_bar: int | None = Field(None, ge=1, description="bar (in the section) of the peak")
    density: float = Field(gt=0, description="target melody onsets per felt beat")
    rhythm: RhythmVocabulary
    hook: HookUse = "none"
    hook_bars: tuple[int, ...] = Field((), description="bars (1-based) where the hook is used")
    occurrence: int = Field(0, ge=0, description="0: first statement; k: its k-th return")
    development: Development = Field(
        "literal", description="how this return differs from its source"
    )


class SectionPlan(_Model):
    id: str = Field(description="unique id, label + occurrence: 'A2', 'chorus3'")
    label: str = Field(description="form label; same label = same material")
    name: str = Field(description="as written in the form, with variation marks: A'")
    role: str = Field(description="verse, chorus, bridge, intro, outro, theme, ...")
    index: int = Field(ge=0, description="position in the song")
    start_bar: int = Field(ge=1)
    bars: int = Field(ge=1)
    key: str
    chords: tuple[ChordEvent, ...] = ()
    chords_given: bool = Field(False, description="chords came from the spec, not the planner")
    cadence: Cadence = "none"
    relation: Relation = "new"
    source: str | None = Field(None, description="id of the section it repeats or varies")
    modulates_to: str | None = Field(
        None, description="the next section's key, when this one ends on its dominant"
    )
    melody: MelodyPlan | None = Field(None, description="the melody plan (None: unplanned)")

    def key_obj(self) -> Key:
        return parse_key(self.key)


class SongPlan(_Model):
    schema_version: int = SCHEMA_VERSION
    title: str
    prompt: str | None = None
    style: str
    key: str
    tempo: int
    time_signature: str
    seed: int
    candidates: int
    generator: str
    checkpoint: str | None = Field(
        None, description="the generator's model folder, absolute (None: its own model)"
    )
    melody_low: int = Field(ge=0, le=127)
    melody_high: int = Field(ge=0, le=127)
    tracks: tuple[TrackPlan, ...]
    swing: float | None = Field(
        None,
        ge=0.5,
        le=0.75,
        description="the feel the prompt asked for: where the off-beat eighth falls in the beat "
        "(0.5 straight; None: the style's)",
    )
    count_in: bool = Field(
        True, description="the style's count-in (if it has one) plays before bar 1 (false: none)"
    )
    hook: Hook | None = Field(None, description="the song's motif (None: none planned)")
    sections: tuple[SectionPlan, ...] = ()
    understood: Understood | None = Field(
        None, description="what the prompt was understood to ask (None: no prompt)"
    )

    def meter(self) -> TimeSignature:
        return parse_time_signature(self.time_signature)

    def key_obj(self) -> Key:
        return parse_key(self.key)

    @property
    def total_bars(self) -> int:
        return sum(s.bars for s in self.sections)

    def section(self, section_id: str) -> SectionPlan:
        for s in self.sections:
            if s.id == section_id:
                return s
        raise KeyError(section_id)

    def section_start_tick(self, section: SectionPlan) -> int:
        return (section.start_bar - 1) * self.meter().bar_ticks
