"""The styles: what a style sets when the spec does not, and how its band plays.

Each style is a data file, ``planners/styles/data/<name>.yaml`` (format and validation in
:mod:`planners.styles.files`): defaults (tempo, meter, key), harmonic vocabulary (triads or
sevenths, which numerals are idiomatic), harmonic rhythm, instruments, feel, and the band's
patterns by energy level, read by the arrangement engine (:mod:`composer.arrange`). The prompt
picks a style by word matching (:mod:`grammar.prompt`); ``style:`` in the spec pins it, by name or
as the path of a user's own file (``style: ./my_style.yaml``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from pathlib import Path

from grammar.errors import SpecError
from planners.plan import SongPlan
from planners.styles.files import (
    Bass,
    Comp,
    Drums,
    Feel,
    Idiom,
    StyleFile,
    builtin_files,
    read_style_file,
)


@dataclass(frozen=True)
class MelodyTargets:
    """What a style's melody aims at (read by the rewards). Priors from the style descriptions,
    not measurements: a chorale soprano moves by step ~75% of the time (measured on the corpus,
    see composer/reward_model), folk and march tunes leap more, jazz syncopates."""

    step_ratio: float  # share of steps among melodic intervals
    notes_per_beat: float  # melody onsets per felt beat
    syncopation: float  # share of melody notes off the beat


# The seven core styles, in the order the learned reward model knows them (its ``ctx_style``
# feature is an index into this order); every other style names one of them as its ``family``
# and is scored as it.
CORE_STYLES = ("classical", "folk", "pop", "jazz", "blues", "waltz", "march")


@dataclass(frozen=True)
class Style:
    name: str
    tempo: tuple[int, int, int]  # slow, moderate, fast defaults (quarter-note bpm)
    time_signature: str
    key: str
    sevenths: bool  # seventh chords as the default sonority (jazz, blues)
    chords_per_bar: int  # harmonic rhythm of planned progressions
    programs: tuple[int, int, int]  # General MIDI programs (0-based): melody, chords, bass
    melody_range: tuple[int, int]  # MIDI pitches: a singable octave and a half
    modulate_bridge: bool  # may a bridge move to a related key
    loop: tuple[str, ...] = ()  # a four-chord loop the planner may use (pop)
    blues_form: bool = False  # 12-bar sections follow the blues changes
    # The learned progression model it plans with ("chorale" | "folk"; None: the rule planner)
    # and the vocabulary it may use ("all" the model knows, or "triads": diatonic + V7).
    harmony_model: str | None = None
    vocabulary: str = "triads"
    melody: MelodyTargets = MelodyTargets(0.60, 1.0, 0.25)  # what the melody rewards aim at
    # Multipliers of the rewards' weights (composer.search.rewards.WEIGHTS): what each
    # tradition's listeners listen for first.
    reward_weights: tuple[tuple[str, float], ...] = ()
    family: str = "pop"  # the core style whose melody targets and reward weights it shares
    description: str = ""
    words: tuple[str, ...] = ()
    slow_tempo: int = 0  # at or below this tempo the parts use their "slow" patterns
    feel: Feel = field(default_factory=Feel)
    idiom: Idiom = field(default_factory=Idiom)  # the melody's rhythms and colours
    drums: Drums | None = None
    comp: Comp | None = None
    bass: Bass | None = None

    @classmethod
    def of(cls, f: StyleFile) -> Style:
        p = f.programs
        return cls(
            name=f.name,
            tempo=f.tempo,
            time_signature=f.time_signature,
            key=f.key,
            sevenths=f.sevenths,
            chords_per_bar=f.chords_per_bar,
            programs=(p.melody, p.chords, p.bass),
            melody_range=f.melody_range,
            modulate_bridge=f.modulate_bridge,
            loop=tuple(f.loop),
            blues_form=f.blues_form,
            harmony_model=f.harmony_model,
            vocabulary=f.vocabulary,
            melody=MelodyTargets(**f.melody_targets.model_dump()),
            reward_weights=tuple(sorted(f.reward_weights.items())),
            family=f.family,
            description=f.description,
            words=tuple(f.words),
            slow_tempo=f.slow_tempo,
            feel=f.feel,
            idiom=f.idiom,
            drums=f.drums,
            comp=f.comp,
            bass=f.bass,
        )


def _load_builtin() -> dict[str, Style]:
    """The shipped styles: the core seven first, in CORE_STYLES order, then the rest by name."""
    out = {}
    files = builtin_files()
    for name in [*CORE_STYLES, *sorted(set(files) - set(CORE_STYLES))]:
        path = files[name]
        style = Style.of(read_style_file(path))
        if style.name != name:
            raise RuntimeError(f"{path}: name '{style.name}' differs from the file name")
        out[name] = style
    return out


STYLES: dict[str, Style] = _load_builtin()

DEFAULT_STYLE = "pop"
DEFAULT_TITLE = "Untitled"
DEFAULT_CANDIDATES = 16
# The learned generator won the side-by-side (benchmarks/eval_generators.py, 112 specs: better on
# 3 of the 5 measures fixed in advance; README "Learned melody generator"); `rules` stays one flag
# away and is what a meter the model has no token for falls back to.
DEFAULT_GENERATOR = "transformer"


def is_style_path(name: str) -> bool:
    """Whether a ``style:`` value names a user's style file rather than a shipped style."""
    return name.endswith((".yaml", ".yml"))


@functools.cache
def _user_style(path: str) -> Style:
    return Style.of(read_style_file(Path(path)))


def get_style(name: str | None) -> Style:
    """A shipped style by name, or a user's style file by path (loaded once, validated)."""
    name = name or DEFAULT_STYLE
    if is_style_path(name):
        return _user_style(name)
    if name not in STYLES:
        raise SpecError(
            "style", f"unknown style '{name}' (one of: {', '.join(STYLES)}; or a file, name.yaml)"
        )
    return STYLES[name]


# The swing ratio a feel word asks for (None: the style's own): "swing" keeps a swinging
# style's ratio and gives a straight one the jazz lilt, "shuffle" is the hard triplet feel.
FEEL_SWING = {"straight": 0.5, "swing": 0.64, "shuffle": 0.67}


def feel_swing(feel: str | None, style: Style) -> float | None:
    """The swing ratio the prompt's feel word sets for ``style`` (None: leave the style's)."""
    if feel is None or feel not in FEEL_SWING:
        return None
    if feel == "swing" and style.feel.swing != 0.5:
        return None  # already swings: its own ratio
    return FEEL_SWING[feel]


def song_style(plan: SongPlan) -> Style:
    """The style as this song plays it: the plan's drums track (the prompt may say "no
    drums") and its swing (the prompt may say "shuffle") over the style file's."""
    style = get_style(plan.style)
    drums = style.drums if any(t.role == "drums" for t in plan.tracks) else None
    feel = style.feel
    if plan.swing is not None and plan.swing != feel.swing:
        feel = feel.model_copy(update={"swing": plan.swing})
    if drums is style.drums and feel is style.feel:
        return style
    return replace(style, drums=drums, feel=feel)
