"""What the prompt's brief sets once the style is known: the tempo placed in the style's range,
the mode from the mood, the instruments named, the form for a length asked for; and the record
of all of it (:class:`grammar.brief.explain.Understood`).

Called by :func:`planners.form.resolve_song` (globals) and :func:`planners.form.plan_form`
(the form for a length). Explicit spec values always win; the prompt's come next, then the
style's, then the built-in defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from grammar.brief.apply import Reading
from grammar.brief.explain import Said, Understood
from grammar.brief.interpret import Brief
from grammar.brief.lexicon import lexicon
from grammar.keys import parse_key
from grammar.meter import parse_time_signature
from grammar.spec import SongSpec
from kernels.notes import TICKS_PER_BEAT
from planners.styles import FEEL_SWING, Style

# The energy shapes of the catalogue that the arrangement plays (composer/arrange/energy.py).
ENERGY_SHAPES = ("build", "drop", "steady", "calm ending", "big ending")

ROLES = ("melody", "chords", "bass")
TEMPO_LIMITS = (20, 300)


@dataclass(frozen=True)
class Defaults:
    """What resolve_song takes from the brief (None: the style's own)."""

    tempo: int | None
    key: str | None
    programs: tuple[int, int, int]
    understood: Understood | None


def place_tempo(position: float, slow: int, moderate: int, fast: int) -> int:
    """A position (0 slow, 0.5 moderate, 1 fast; beyond: extrapolated) -> bpm in a range."""
    if position <= 0.5:
        bpm = slow + (moderate - slow) * position * 2
    else:
        bpm = moderate + (fast - moderate) * (position - 0.5) * 2
    return round(min(max(bpm, TEMPO_LIMITS[0]), TEMPO_LIMITS[1]))


def assign_instruments(
    named: tuple[str, ...], programs: tuple[int, int, int]
) -> tuple[tuple[int, int, int], dict[str, str]]:
    """Named instruments -> the melody, chords and bass programs: each takes the first role it
    can play that is still free; a part left free is played by a named instrument that can
    play it (a lone "piano" plays melody and chords), else by the style's instrument."""
    lex = lexicon()
    parts: dict[str, str] = {}
    for name in named:
        inst = lex.instruments[name]
        free = [r for r in inst.roles if r in ROLES and r not in parts]
        if free:
            parts[free[0]] = name
    for role in ROLES:
        if role not in parts:
            able = [n for n in named if role in lex.instruments[n].roles]
            if able:
                parts[role] = able[0]
    out = list(programs)
    for i, role in enumerate(ROLES):
        program = lex.instruments[parts[role]].program if role in parts else None
        if program is not None:
            out[i] = program
    return (out[0], out[1], out[2]), parts


def prompt_defaults(spec: SongSpec, reading: Reading | None, style: Style) -> Defaults:
    """Tempo, key and programs from the brief, and the record of what was understood."""
    if reading is None:
        return Defaults(None, None, style.programs, None)
    lex = lexicon()
    brief = reading.brief
    said: list[Said] = []
    words = {f.field: f.words for f in brief.findings}
    asked = lex.styles.get(brief.style) if brief.style else None
    guessed = {g[0]: g for g in brief.guesses}
    # style
    if "style" in reading.filled:
        note = reading.style_note
        if "style" in guessed:
            note = f"confidence {guessed['style'][2]:.2f}" + (f"; {note}" if note else "")
        said.append(
            Said(
                field="style",
                value=style.name,
                source="embedding" if "style" in guessed else "prompt",
                words=guessed["style"][3] if "style" in guessed else reading.filled["style"][1],
                note=note,
            )
        )
    elif spec.style is None:
        said.append(Said(field="style", value=style.name, source="default"))
    # tempo: explicit > the prompt's bpm > a tempo word or mood placed in the range
    tempo = None
    if spec.tempo is None and brief.tempo_position is not None:
        own = asked is None or reading.style_note is None or asked.id == style.name
        # a style file's range; the asked style's (catalogue) range while it falls back
        fallback = None if own or asked is None else asked.tempo
        slow, moderate, fast = style.tempo if fallback is None else fallback
        tempo = place_tempo(brief.tempo_position, slow, moderate, fast)
        where = style.name if own or asked is None else asked.id
        src = (
            words.get("tempo") or words.get("sub-style") or words.get("mood") or words.get("style")
        )
        said.append(
            Said(
                field="tempo",
                value=f"{tempo} bpm",
                source="prompt",
                words=src,
                note=f"in {where}'s range {slow}-{fast}",
            )
        )
    elif "tempo" in reading.filled:
        said.append(
            Said(
                field="tempo",
                value=f"{spec.tempo} bpm",
                source="prompt",
                words=reading.filled["tempo"][1],
            )
        )
    elif (
        spec.tempo is None
        and asked is not None
        and asked.tempo is not None
        and reading.style_note is not None
    ):
        tempo = asked.tempo[1]  # a fallback style plays at the asked style's tempo ("jig")
        said.append(
            Said(
                field="tempo",
                value=f"{tempo} bpm",
                source="prompt",
                words=words.get("style"),
                note=f"{asked.id}'s moderate tempo",
            )
        )
    elif spec.tempo is None:
        said.append(Said(field="tempo", value=f"{style.tempo[1]} bpm", source="style"))
    # key: the prompt's key, else the style's key in the mode the mood asks for
    key = None
    if "key" in reading.filled:
        said.append(
            Said(field="key", value=str(spec.key), source="prompt", words=reading.filled["key"][1])
        )
    elif spec.key is None:
        home = parse_key(style.key)
        if brief.mode and brief.mode != home.mode:
            key = str(home.relative())
            src = (
                words.get("mode")
                or words.get("mood")
                or (guessed["mood"][3] if "mood" in guessed else None)
            )
            said.append(
                Said(
                    field="key",
                    value=key,
                    source="prompt",
                    words=src,
                    note=f"{brief.mode}, the relative of {style.name}'s {style.key}",
                )
            )
        else:
            said.append(Said(field="key", value=style.key, source="style"))
    # meter, form
    for name, label in (("time_signature", "meter"), ("form", "form")):
        if name in reading.filled:
            said.append(
                Said(
                    field=label,
                    value=reading.filled[name][0],
                    source="prompt",
                    words=reading.filled[name][1],
                )
            )
    if spec.time_signature is None:
        said.append(Said(field="meter", value=style.time_signature, source="style"))
    # feel, mood, instruments, drums, energy
    own_info = lex.styles.get(style.name)
    feel = brief.feel or (asked or own_info or lex.styles["pop"]).feel
    if brief.feel:
        said.append(
            Said(
                field="feel",
                value=brief.feel,
                source="prompt",
                words=words.get("feel"),
                note=None if brief.feel in FEEL_SWING else "recorded; not played yet",
            )
        )
    elif feel:
        said.append(Said(field="feel", value=feel, source="style"))
    if brief.mood:
        src = "embedding" if "mood" in guessed else "prompt"
        said.append(
            Said(
                field="mood",
                value=brief.mood,
                source=src,
                words=guessed["mood"][3] if "mood" in guessed else words.get("mood"),
                note=f"confidence {guessed['mood'][2]:.2f}" if "mood" in guessed else None,
            )
        )
    programs, parts = assign_instruments(brief.instruments, style.programs)
    if parts:
        for role in ROLES:
            if role in parts:
                inst = parts[role]
                said.append(
                    Said(
                        field=role,
                        value=f"{inst} (program {lex.instruments[inst].program})",
                        source="prompt",
                        words=_instrument_words(brief, inst),
                    )
                )
    else:
        said.append(Said(field="instruments", value="the style's", source="style"))
    if brief.drums is not None:
        said.append(
            Said(
                field="drums",
                value="yes" if brief.drums else "no",
                source="prompt",
                words=words.get("drums"),
                note="the style has no drums" if brief.drums and style.drums is None else None,
            )
        )
    for energy in brief.energy:
        said.append(
            Said(
                field="energy",
                value=energy,
                source="prompt",
                words=next(f.words for f in brief.findings if f.value == energy),
                note=None if energy in ENERGY_SHAPES else "recorded; not played yet",
            )
        )
    if brief.seconds or brief.bars:
        length = f"{brief.seconds:g} s" if brief.seconds else f"{brief.bars} bars"
        said.append(
            Said(
                field="length",
                value=length,
                source="prompt",
                words=words.get("length"),
                note=None if spec.form is None else "the form given wins",
            )
        )
    if spec.form is None and not (brief.seconds or brief.bars) and "form" not in reading.filled:
        said.append(Said(field="form", value="AABA", source="default"))
    for name, (value, w) in reading.overridden.items():
        said.append(
            Said(
                field=name,
                value=value,
                source="explicit",
                words=w,
                note=f"the spec/flag {name} wins",
            )
        )
    understood = Understood(
        prompt=brief.text,
        musical=brief.musical,
        said=tuple(said),
        unused=tuple(u for u in brief.unused if not any(g[3] == u for g in brief.guesses)),
        warnings=reading.warnings,
        feel=feel,
        mood=brief.mood,
        colour=brief.colour,
        energy=brief.energy,
        drums=brief.drums,
        length_seconds=brief.seconds,
        length_bars=brief.bars,
    )
    return Defaults(tempo, key, programs, understood)


def _instrument_words(brief: Brief, inst: str) -> str | None:
    return next(
        (f.words for f in brief.findings if f.field == "instrument" and f.value == inst), None
    )


def form_for_length(bars: int, unit: int = 8) -> str:
    """A form of about ``bars`` bars from sections of ``unit`` bars (8; 12 in a blues), with
    intro and outro of 4 on long songs: AB, AABA, AABA B A, ... or [verse chorus]xN."""
    n = max(1, round(bars / unit))
    letters = {1: "A", 2: "AB", 3: "ABA", 4: "AABA", 5: "AABAA", 6: "AABA BA", 7: "AABA BAA"}
    letters[8] = "AABA AABA"
    if unit != 8:
        return " ".join(["A"] * n)
    if n in letters:
        return letters[n]
    # intro 4 + k x (verse 8 + chorus 8) + bridge 8 + chorus 8 + outro 4 = 24 + 16k bars
    k = max(1, round((bars - 24) / 16))
    return f"intro [verse chorus]x{k} bridge chorus outro"


def length_bars(understood: Understood | None, tempo: int, meter: str) -> int | None:
    """The length asked for, in bars of this tempo and meter (None: none asked)."""
    if understood is None:
        return None
    if understood.length_bars:
        return understood.length_bars
    if understood.length_seconds:
        quarters_per_bar = parse_time_signature(meter).bar_ticks / TICKS_PER_BEAT
        return max(1, round(understood.length_seconds * tempo / 60 / quarters_per_bar))
    return None
