"""The style table: what a style sets when the spec does not.

A style fixes defaults (tempo, meter, key), harmonic vocabulary (triads or sevenths, which
numerals are idiomatic), harmonic rhythm, accompaniment and bass patterns, and instruments.
The prompt picks a style by word matching (:mod:`grammar.prompt`); ``style:`` in the spec pins it.
Patterns are data: (onset, duration) pairs in felt beats from the bar start, read by the
accompaniment writer, which clips them to each chord's span.
"""

from __future__ import annotations

from dataclasses import dataclass

Pattern = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class MelodyTargets:
    """What a style's melody aims at (read by the rewards). Priors from the style descriptions,
    not measurements: a chorale soprano moves by step ~75% of the time (measured on the corpus,
    see composer/reward_model), folk and march tunes leap more, jazz syncopates."""

    step_ratio: float  # share of steps among melodic intervals
    notes_per_beat: float  # melody onsets per felt beat
    syncopation: float  # share of melody notes off the beat


@dataclass(frozen=True)
class Style:
    name: str
    tempo: tuple[int, int, int]  # slow, moderate, fast defaults (quarter-note bpm)
    time_signature: str
    key: str
    sevenths: bool  # seventh chords as the default sonority (jazz, blues)
    chords_per_bar: int  # harmonic rhythm of planned progressions
    comp: tuple[Pattern, Pattern]  # chord-track pattern, and its variant for varied sections
    bass: Pattern  # which beats the bass plays; odd hits after the first take the fifth
    programs: tuple[int, int, int]  # General MIDI programs (0-based): melody, chords, bass
    melody_range: tuple[int, int]  # MIDI pitches: a singable octave and a half
    modulate_bridge: bool  # may a bridge move to a related key
    melody: MelodyTargets  # what the search's melody rewards aim at
    loop: tuple[str, ...] = ()  # a four-chord loop the planner may use (pop)
    blues_form: bool = False  # 12-bar sections follow the blues changes
    # The learned progression model it plans with ("chorale" | "folk"; None: the rule planner)
    # and the vocabulary it may use ("all" the model knows, or "triads": diatonic + V7).
    harmony_model: str | None = None
    vocabulary: str = "triads"
    # Multipliers of the rewards' weights (composer.search.rewards.WEIGHTS): what each
    # tradition's listeners listen for first.
    reward_weights: tuple[tuple[str, float], ...] = ()


# Patterns in felt beats. A "beat" is a quarter in 4/4, a dotted quarter in 6/8.
_SUSTAIN: Pattern = ((0, 4),)
_HALVES: Pattern = ((0, 2), (2, 2))
_QUARTERS: Pattern = ((0, 1), (1, 1), (2, 1), (3, 1))
_EIGHTH_PULSE: Pattern = tuple((i / 2, 0.5) for i in range(8))
_CHARLESTON: Pattern = ((0, 1.5), (1.5, 2.5))
_BALLAD_JAZZ: Pattern = ((0, 2), (2, 2))
_OFFBEATS: Pattern = ((0.5, 0.5), (1.5, 0.5), (2.5, 0.5), (3.5, 0.5))
_WALTZ_PAH: Pattern = ((1, 1), (2, 1))
_BLUES_COMP: Pattern = ((0, 1), (1, 0.67), (2, 1), (3, 0.67))

STYLES: dict[str, Style] = {
    "classical": Style(
        name="classical",
        tempo=(60, 84, 116),
        time_signature="4/4",
        key="C major",
        sevenths=False,
        chords_per_bar=2,
        comp=(_SUSTAIN, _QUARTERS),
        bass=((0, 2), (2, 2)),
        programs=(73, 48, 42),
        melody_range=(62, 81),
        modulate_bridge=True,
        harmony_model="chorale",
        vocabulary="all",
        melody=MelodyTargets(0.70, 1.0, 0.05),
        reward_weights=(("harmonic_fit", 1.25), ("cadence", 1.25), ("step_balance", 1.25)),
    ),
    "folk": Style(
        name="folk",
        tempo=(72, 100, 126),
        time_signature="4/4",
        key="G major",
        sevenths=False,
        chords_per_bar=1,
        comp=(_OFFBEATS, _QUARTERS),
        bass=((0, 1), (2, 1)),
        programs=(22, 25, 32),
        melody_range=(62, 81),
        modulate_bridge=False,
        harmony_model="folk",
        melody=MelodyTargets(0.60, 1.3, 0.10),
        reward_weights=(("groove", 1.25), ("form_relation", 1.25)),
    ),
    "pop": Style(
        name="pop",
        tempo=(76, 104, 128),
        time_signature="4/4",
        key="C major",
        sevenths=False,
        chords_per_bar=1,
        comp=(_QUARTERS, _EIGHTH_PULSE),
        bass=((0, 1.5), (1.5, 0.5), (2, 2)),
        programs=(80, 4, 33),
        melody_range=(60, 79),
        modulate_bridge=True,
        loop=("I", "V", "vi", "IV"),
        melody=MelodyTargets(0.60, 1.0, 0.25),
        reward_weights=(("groove", 1.25), ("form_relation", 1.5), ("novelty", 1.25)),
    ),
    "jazz": Style(
        name="jazz",
        tempo=(72, 120, 176),
        time_signature="4/4",
        key="F major",
        sevenths=True,
        chords_per_bar=1,
        comp=(_BALLAD_JAZZ, _CHARLESTON),
        bass=((0, 2), (2, 2)),
        programs=(65, 0, 32),
        melody_range=(58, 79),
        modulate_bridge=True,
        harmony_model="chorale",
        melody=MelodyTargets(0.55, 1.2, 0.35),
        reward_weights=(("style_rhythm", 1.5), ("novelty", 1.25), ("harmonic_fit", 0.8)),
    ),
    "blues": Style(
        name="blues",
        tempo=(66, 96, 132),
        time_signature="4/4",
        key="E major",
        sevenths=True,
        chords_per_bar=1,
        comp=(_BLUES_COMP, _QUARTERS),
        bass=((0, 1), (1, 1), (2, 1), (3, 1)),
        programs=(26, 4, 33),
        melody_range=(57, 77),
        modulate_bridge=False,
        blues_form=True,
        melody=MelodyTargets(0.50, 1.0, 0.35),
        reward_weights=(("style_rhythm", 1.5), ("key_clarity", 0.5)),
    ),
    "waltz": Style(
        name="waltz",
        tempo=(84, 108, 160),
        time_signature="3/4",
        key="D major",
        sevenths=False,
        chords_per_bar=1,
        comp=(_WALTZ_PAH, ((0, 3),)),
        bass=((0, 1),),
        programs=(40, 0, 42),
        melody_range=(62, 84),
        modulate_bridge=True,
        harmony_model="folk",
        melody=MelodyTargets(0.65, 1.0, 0.05),
        reward_weights=(("groove", 1.25), ("contour", 1.25)),
    ),
    "march": Style(
        name="march",
        tempo=(96, 112, 128),
        time_signature="2/4",
        key="Bb major",
        sevenths=False,
        chords_per_bar=1,
        comp=(((0.5, 0.5), (1.5, 0.5)), ((0, 1), (1, 1))),
        bass=((0, 1), (1, 1)),
        programs=(56, 61, 58),
        melody_range=(63, 82),
        modulate_bridge=True,
        harmony_model="folk",
        melody=MelodyTargets(0.55, 1.2, 0.10),
        reward_weights=(("groove", 1.5), ("cadence", 1.25)),
    ),
}

DEFAULT_STYLE = "pop"
DEFAULT_TITLE = "Untitled"
DEFAULT_CANDIDATES = 16
# The learned generator won the side-by-side (benchmarks/eval_generators.py, 112 specs: better on
# 3 of the 5 measures fixed in advance; README "Learned melody generator"); `rules` stays one flag
# away and is what a meter the model has no token for falls back to.
DEFAULT_GENERATOR = "transformer"


def get_style(name: str | None) -> Style:
    return STYLES[name or DEFAULT_STYLE]


def style_tempo(style: Style, word: str | None) -> int:
    """The style's tempo for a prompt's tempo word (slow / moderate / fast; moderate if none)."""
    slow, moderate, fast = style.tempo
    return {"slow": slow, "fast": fast}.get(word or "moderate", moderate)
