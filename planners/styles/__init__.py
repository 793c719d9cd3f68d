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
    loop: tuple[str, ...] = ()  # a four-chord loop the planner may use (pop)
    blues_form: bool = False  # 12-bar sections follow the blues changes
    # The learned progression model it plans with ("chorale" | "folk"; None: the rule planner)
    # and the vocabulary it may use ("all" the model knows, or "triads": diatonic + V7).
    harmony_model: str | None = None
    vocabulary: str = "triads"


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
